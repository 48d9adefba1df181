package install

import (
	"strings"
	"testing"

	"github.com/imagediet/imgdiet/internal/buildinfo"
)

func TestManifestDir(t *testing.T) {
	lin := Env{Home: "/home/u"}
	linXDG := Env{Home: "/home/u", XDGConfigHome: "/home/u/cfg"}
	mac := Env{Home: "/Users/u"}
	win := Env{LocalAppData: `C:\Users\u\AppData\Local`, Getenv: func(k string) string {
		if k == "ProgramFiles" {
			return `D:\Programs`
		}
		return ""
	}}
	tests := []struct {
		browser, goos string
		system        bool
		env           Env
		want          string
	}{
		{"chrome", "linux", false, lin, "/home/u/.config/google-chrome/NativeMessagingHosts"},
		{"chromium", "linux", false, lin, "/home/u/.config/chromium/NativeMessagingHosts"},
		{"edge", "linux", false, lin, "/home/u/.config/microsoft-edge/NativeMessagingHosts"},
		{"brave", "linux", false, lin, "/home/u/.config/BraveSoftware/Brave-Browser/NativeMessagingHosts"},
		{"vivaldi", "linux", false, lin, "/home/u/.config/vivaldi/NativeMessagingHosts"},
		{"firefox", "linux", false, lin, "/home/u/.mozilla/native-messaging-hosts"},
		{"chrome", "linux", false, linXDG, "/home/u/cfg/google-chrome/NativeMessagingHosts"},
		{"chromium", "linux", false, linXDG, "/home/u/cfg/chromium/NativeMessagingHosts"},
		{"edge", "linux", false, linXDG, "/home/u/cfg/microsoft-edge/NativeMessagingHosts"},
		{"brave", "linux", false, linXDG, "/home/u/cfg/BraveSoftware/Brave-Browser/NativeMessagingHosts"},
		{"vivaldi", "linux", false, linXDG, "/home/u/cfg/vivaldi/NativeMessagingHosts"},
		{"firefox", "linux", false, linXDG, "/home/u/.mozilla/native-messaging-hosts"},
		{"chrome", "linux", false, Env{Home: "/home/u", XDGConfigHome: "relative"}, "/home/u/.config/google-chrome/NativeMessagingHosts"},
		{"chrome", "linux", true, lin, "/etc/opt/chrome/native-messaging-hosts"},
		{"chromium", "linux", true, lin, "/etc/chromium/native-messaging-hosts"},
		{"edge", "linux", true, lin, "/etc/opt/edge/native-messaging-hosts"},
		{"brave", "linux", true, lin, "/etc/opt/chrome/native-messaging-hosts"},
		{"vivaldi", "linux", true, lin, "/etc/opt/vivaldi/native-messaging-hosts"},
		{"firefox", "linux", true, lin, "/usr/lib/mozilla/native-messaging-hosts"},
		{"chrome", "darwin", false, mac, "/Users/u/Library/Application Support/Google/Chrome/NativeMessagingHosts"},
		{"chromium", "darwin", false, mac, "/Users/u/Library/Application Support/Chromium/NativeMessagingHosts"},
		{"edge", "darwin", false, mac, "/Users/u/Library/Application Support/Microsoft Edge/NativeMessagingHosts"},
		{"brave", "darwin", false, mac, "/Users/u/Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts"},
		{"vivaldi", "darwin", false, mac, "/Users/u/Library/Application Support/Vivaldi/NativeMessagingHosts"},
		{"firefox", "darwin", false, mac, "/Users/u/Library/Application Support/Mozilla/NativeMessagingHosts"},
		{"chrome", "darwin", true, mac, "/Library/Google/Chrome/NativeMessagingHosts"},
		{"chromium", "darwin", true, mac, "/Library/Application Support/Chromium/NativeMessagingHosts"},
		{"edge", "darwin", true, mac, "/Library/Microsoft/Edge/NativeMessagingHosts"},
		{"brave", "darwin", true, mac, "/Library/Google/Chrome/NativeMessagingHosts"},
		{"vivaldi", "darwin", true, mac, "/Library/Application Support/Vivaldi/NativeMessagingHosts"},
		{"firefox", "darwin", true, mac, "/Library/Application Support/Mozilla/NativeMessagingHosts"},
	}
	for _, b := range Browsers {
		tests = append(tests,
			struct {
				browser, goos string
				system        bool
				env           Env
				want          string
			}{b, "windows", false, win, `C:\Users\u\AppData\Local\ImageDiet`},
			struct {
				browser, goos string
				system        bool
				env           Env
				want          string
			}{b, "windows", true, win, `D:\Programs\ImageDiet`})
	}
	seen := map[[2]string]bool{}
	for _, tt := range tests {
		got, err := ManifestDir(tt.browser, tt.goos, tt.system, tt.env)
		if err != nil {
			t.Errorf("%s/%s/system=%v: %v", tt.browser, tt.goos, tt.system, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s/%s/system=%v: got %q, want %q", tt.browser, tt.goos, tt.system, got, tt.want)
		}
		seen[[2]string{tt.browser, tt.goos}] = true
	}
	for _, b := range Browsers {
		for _, g := range []string{"linux", "darwin", "windows"} {
			if !seen[[2]string{b, g}] {
				t.Errorf("no case for %s on %s", b, g)
			}
		}
	}
}

func TestManifestDirErrors(t *testing.T) {
	for _, tt := range []struct{ browser, goos string }{{"opera", "linux"}, {"chrome", "plan9"}, {"", "linux"}} {
		if _, err := ManifestDir(tt.browser, tt.goos, false, Env{Home: "/h"}); err == nil {
			t.Errorf("%q on %s: no error", tt.browser, tt.goos)
		}
	}
	if _, err := ManifestDir("chrome", "linux", false, Env{}); err == nil {
		t.Error("no home: no error")
	}
	if _, err := ManifestDir("chrome", "windows", false, Env{}); err == nil {
		t.Error("no LOCALAPPDATA: no error")
	}
}

func TestAppDirAndManifestPath(t *testing.T) {
	data := Env{Home: "/home/u", Getenv: func(k string) string {
		if k == "XDG_DATA_HOME" {
			return "/data"
		}
		return ""
	}}
	win := Env{LocalAppData: `C:\Users\u\AppData\Local`}
	tests := []struct {
		goos   string
		system bool
		env    Env
		want   string
	}{
		{"linux", false, Env{Home: "/home/u"}, "/home/u/.local/share/imgdiet"},
		{"linux", false, data, "/data/imgdiet"},
		{"linux", true, data, "/opt/imgdiet"},
		{"darwin", false, Env{Home: "/Users/u"}, "/Users/u/Library/Application Support/Image Diet"},
		{"darwin", true, Env{Home: "/Users/u"}, "/Library/Application Support/Image Diet"},
		{"windows", false, win, `C:\Users\u\AppData\Local\ImageDiet`},
		{"windows", true, win, `C:\Program Files\ImageDiet`},
	}
	for _, tt := range tests {
		got, err := AppDir(tt.goos, tt.system, tt.env)
		if err != nil || got != tt.want {
			t.Errorf("AppDir(%s, %v) = %q, %v; want %q", tt.goos, tt.system, got, err, tt.want)
		}
	}
	paths := []struct {
		browser, goos string
		want          string
	}{
		{"chrome", "linux", "/home/u/.config/google-chrome/NativeMessagingHosts/com.imagediet.host.json"},
		{"firefox", "linux", "/home/u/.mozilla/native-messaging-hosts/com.imagediet.host.json"},
		{"chrome", "windows", `C:\Users\u\AppData\Local\ImageDiet\com.imagediet.host.json`},
		{"edge", "windows", `C:\Users\u\AppData\Local\ImageDiet\com.imagediet.host.json`},
		{"firefox", "windows", `C:\Users\u\AppData\Local\ImageDiet\com.imagediet.host.firefox.json`},
	}
	env := Env{Home: "/home/u", LocalAppData: `C:\Users\u\AppData\Local`}
	for _, tt := range paths {
		got, err := ManifestPath(tt.browser, tt.goos, false, env)
		if err != nil || got != tt.want {
			t.Errorf("ManifestPath(%s, %s) = %q, %v; want %q", tt.browser, tt.goos, got, err, tt.want)
		}
	}
}

func TestRegistryKey(t *testing.T) {
	tests := []struct {
		browser string
		system  bool
		root    string
		key     string
	}{
		{"chrome", false, "HKCU", `Software\Google\Chrome\NativeMessagingHosts\com.imagediet.host`},
		{"chromium", false, "HKCU", `Software\Chromium\NativeMessagingHosts\com.imagediet.host`},
		{"edge", true, "HKLM", `Software\Microsoft\Edge\NativeMessagingHosts\com.imagediet.host`},
		{"brave", false, "HKCU", `Software\BraveSoftware\Brave-Browser\NativeMessagingHosts\com.imagediet.host`},
		{"vivaldi", true, "HKLM", `Software\Vivaldi\NativeMessagingHosts\com.imagediet.host`},
		{"firefox", false, "HKCU", `Software\Mozilla\NativeMessagingHosts\com.imagediet.host`},
	}
	for _, tt := range tests {
		root, key, err := RegistryKey(tt.browser, tt.system)
		if err != nil || root != tt.root || key != tt.key {
			t.Errorf("RegistryKey(%s, %v) = %s, %s, %v", tt.browser, tt.system, root, key, err)
		}
	}
	if _, _, err := RegistryKey("opera", false); err == nil {
		t.Error("unknown browser: no error")
	}
}

func TestExpandBrowsers(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
		bad  bool
	}{
		{nil, Browsers, false},
		{[]string{"all"}, Browsers, false},
		{[]string{"firefox,Chrome"}, []string{"chrome", "firefox"}, false},
		{[]string{"chrome", "chrome"}, []string{"chrome"}, false},
		{[]string{"safari"}, nil, true},
	}
	for _, tt := range tests {
		got, err := expandBrowsers(tt.in)
		if (err != nil) != tt.bad || (!tt.bad && !equal(got, tt.want)) {
			t.Errorf("expandBrowsers(%v) = %v, %v", tt.in, got, err)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReleaseNamesAndHints(t *testing.T) {
	v := buildinfo.Version
	tests := []struct{ format, goos, goarch, want string }{
		{"deb", "linux", "amd64", "imgdiet-host_" + v + "_amd64.deb"},
		{"deb", "linux", "arm64", "imgdiet-host_" + v + "_arm64.deb"},
		{"rpm", "linux", "amd64", "imgdiet-host-" + v + "-1.x86_64.rpm"},
		{"rpm", "linux", "arm64", "imgdiet-host-" + v + "-1.aarch64.rpm"},
		{"tar.gz", "linux", "arm64", "imgdiet-host_" + v + "_linux_arm64.tar.gz"},
		{"zip", "windows", "amd64", "imgdiet-host_" + v + "_windows_amd64.zip"},
		{"deb", "linux", "386", ""},
		{"zip", "windows", "arm64", ""},
		{"pkg", "darwin", "arm64", ""},
	}
	for _, tt := range tests {
		if got := ReleaseFile(tt.format, tt.goos, tt.goarch); got != tt.want {
			t.Errorf("ReleaseFile(%s, %s, %s) = %q, want %q", tt.format, tt.goos, tt.goarch, got, tt.want)
		}
	}
	hints := map[[2]string]string{
		{"linux", "arm64"}:   "sudo apt install ./imgdiet-host_" + v + "_arm64.deb (Fedora, openSUSE: sudo dnf install ./imgdiet-host-" + v + "-1.aarch64.rpm)",
		{"windows", "amd64"}: "unzip imgdiet-host_" + v + "_windows_amd64.zip and run: powershell -ExecutionPolicy Bypass -File install.ps1",
		{"darwin", "arm64"}:  "no macOS package yet",
		{"linux", "riscv64"}: "scripts/install.sh",
	}
	for k, want := range hints {
		if got := InstallHint(k[0], k[1]); !strings.Contains(got, want) {
			t.Errorf("InstallHint(%s, %s) = %q, want it to contain %q", k[0], k[1], got, want)
		}
	}
}
