package install

import (
	"fmt"
	"path"
	"strings"

	"github.com/imagediet/imgdiet/internal/buildinfo"
)

// Browsers lists the browser names the installer knows, in the order
// `--browser all` handles them.
var Browsers = []string{"chrome", "chromium", "edge", "brave", "vivaldi", "firefox"}

// DefaultExtensionID is the Chrome extension ID fixed by the "key" in
// extension/manifest.json.
const DefaultExtensionID = "fmeiijmoogoohmijkjchgkjnaeljpcno"

// FirefoxAddonID is the Firefox add-on id allowed to start the host.
const FirefoxAddonID = "imagediet@imagediet.app"

// displayNames are the names people know the browsers by.
var displayNames = map[string]string{
	"chrome": "Chrome", "chromium": "Chromium", "edge": "Edge",
	"brave": "Brave", "vivaldi": "Vivaldi", "firefox": "Firefox",
}

// DisplayName is the name people know browser by ("Chrome" for "chrome").
func DisplayName(browser string) string {
	if n, ok := displayNames[browser]; ok {
		return n
	}
	return browser
}

func knownBrowser(b string) bool {
	_, ok := displayNames[b]
	return ok
}

// join joins path elements with the separator of goos, independently of the
// OS this code runs on (so paths for every OS can be computed and tested).
func join(goos string, elem ...string) string {
	if goos != "windows" {
		return path.Join(elem...)
	}
	var parts []string
	for i, e := range elem {
		if i > 0 {
			e = strings.TrimLeft(e, `\/`)
		}
		if i < len(elem)-1 {
			e = strings.TrimRight(e, `\/`)
		}
		if e != "" {
			parts = append(parts, e)
		}
	}
	return strings.Join(parts, `\`)
}

func (e Env) getenv(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(k)
}

func supported(goos string) error {
	switch goos {
	case "linux", "darwin", "windows":
		return nil
	}
	return fmt.Errorf("the installer does not support %s (Linux, macOS and Windows are supported)", goos)
}

// AppDir is the folder the host is installed into: per user, or for every
// user of the machine when system is true.
func AppDir(goos string, system bool, env Env) (string, error) {
	if err := supported(goos); err != nil {
		return "", err
	}
	switch goos {
	case "linux":
		if system {
			return "/opt/imgdiet", nil
		}
		if d := env.getenv("XDG_DATA_HOME"); d != "" && path.IsAbs(d) {
			return path.Join(d, "imgdiet"), nil
		}
		if env.Home == "" {
			return "", fmt.Errorf("the home folder is not known (set HOME)")
		}
		return path.Join(env.Home, ".local", "share", "imgdiet"), nil
	case "darwin":
		if system {
			return "/Library/Application Support/Image Diet", nil
		}
		if env.Home == "" {
			return "", fmt.Errorf("the home folder is not known (set HOME)")
		}
		return path.Join(env.Home, "Library", "Application Support", "Image Diet"), nil
	default: // windows
		if system {
			pf := env.getenv("ProgramFiles")
			if pf == "" {
				pf = `C:\Program Files`
			}
			return join(goos, pf, "ImageDiet"), nil
		}
		if env.LocalAppData == "" {
			return "", fmt.Errorf("the local application data folder is not known (set LOCALAPPDATA)")
		}
		return join(goos, env.LocalAppData, "ImageDiet"), nil
	}
}

// BinaryName is the installed host program's file name on goos.
func BinaryName(goos string) string {
	if goos == "windows" {
		return buildinfo.Name + ".exe"
	}
	return buildinfo.Name
}

// ManifestDir is the folder where browser looks for native-messaging host
// manifests on goos, per user or system-wide. On Windows browsers find the
// manifest through the registry (see RegistryKey); the manifest files live
// in the app folder there, so ManifestDir returns AppDir.
func ManifestDir(browser, goos string, system bool, env Env) (string, error) {
	if !knownBrowser(browser) {
		return "", fmt.Errorf("unknown browser %q (known: %s, all)", browser, strings.Join(Browsers, ", "))
	}
	if err := supported(goos); err != nil {
		return "", err
	}
	if goos == "windows" {
		return AppDir(goos, system, env)
	}
	if system {
		return systemDirs[goos][browser], nil
	}
	if env.Home == "" {
		return "", fmt.Errorf("the home folder is not known (set HOME)")
	}
	if goos == "darwin" {
		return path.Join(env.Home, "Library", "Application Support", darwinUserDirs[browser], "NativeMessagingHosts"), nil
	}
	if browser == "firefox" {
		return path.Join(env.Home, ".mozilla", "native-messaging-hosts"), nil
	}
	cfg := env.XDGConfigHome
	if cfg == "" || !path.IsAbs(cfg) {
		cfg = path.Join(env.Home, ".config")
	}
	return path.Join(cfg, linuxUserDirs[browser], "NativeMessagingHosts"), nil
}

var linuxUserDirs = map[string]string{
	"chrome": "google-chrome", "chromium": "chromium", "edge": "microsoft-edge",
	"brave": "BraveSoftware/Brave-Browser", "vivaldi": "vivaldi",
}

var darwinUserDirs = map[string]string{
	"chrome": "Google/Chrome", "chromium": "Chromium", "edge": "Microsoft Edge",
	"brave": "BraveSoftware/Brave-Browser", "vivaldi": "Vivaldi", "firefox": "Mozilla",
}

var systemDirs = map[string]map[string]string{
	"linux": {
		"chrome":   "/etc/opt/chrome/native-messaging-hosts",
		"chromium": "/etc/chromium/native-messaging-hosts",
		"edge":     "/etc/opt/edge/native-messaging-hosts",
		"brave":    "/etc/opt/chrome/native-messaging-hosts",
		"vivaldi":  "/etc/opt/vivaldi/native-messaging-hosts",
		"firefox":  "/usr/lib/mozilla/native-messaging-hosts",
	},
	"darwin": {
		"chrome":   "/Library/Google/Chrome/NativeMessagingHosts",
		"chromium": "/Library/Application Support/Chromium/NativeMessagingHosts",
		"edge":     "/Library/Microsoft/Edge/NativeMessagingHosts",
		"brave":    "/Library/Google/Chrome/NativeMessagingHosts",
		"vivaldi":  "/Library/Application Support/Vivaldi/NativeMessagingHosts",
		"firefox":  "/Library/Application Support/Mozilla/NativeMessagingHosts",
	},
}

// ManifestPath is the full path of browser's manifest file for the host.
// On Windows the Chromium-family browsers share one file and Firefox has
// its own (both in the app folder).
func ManifestPath(browser, goos string, system bool, env Env) (string, error) {
	dir, err := ManifestDir(browser, goos, system, env)
	if err != nil {
		return "", err
	}
	name := buildinfo.NativeName + ".json"
	if goos == "windows" && browser == "firefox" {
		name = buildinfo.NativeName + ".firefox.json"
	}
	return join(goos, dir, name), nil
}

var registryParents = map[string]string{
	"chrome":   `Software\Google\Chrome\NativeMessagingHosts`,
	"chromium": `Software\Chromium\NativeMessagingHosts`,
	"edge":     `Software\Microsoft\Edge\NativeMessagingHosts`,
	"brave":    `Software\BraveSoftware\Brave-Browser\NativeMessagingHosts`,
	"vivaldi":  `Software\Vivaldi\NativeMessagingHosts`,
	"firefox":  `Software\Mozilla\NativeMessagingHosts`,
}

// RegistryKey is the Windows registry key whose default value browser reads
// to find the host's manifest: root is "HKCU" (per user) or "HKLM"
// (system-wide), key the path below it.
func RegistryKey(browser string, system bool) (root, key string, err error) {
	p, ok := registryParents[browser]
	if !ok {
		return "", "", fmt.Errorf("unknown browser %q", browser)
	}
	root = "HKCU"
	if system {
		root = "HKLM"
	}
	return root, p + `\` + buildinfo.NativeName, nil
}
