package install

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/imagediet/imgdiet/internal/buildinfo"
	"github.com/imagediet/imgdiet/manifests"
)

// Options are the flags of install, uninstall and doctor.
type Options struct {
	// Browsers to handle; empty or "all" means every browser in Browsers.
	Browsers []string
	// System installs for every user of the machine instead of the current
	// user.
	System bool
	// ExtensionID is the Chrome extension allowed to start the host; empty
	// means the source tree's extension/manifest.json, else the built-in ID.
	ExtensionID string
	// DryRun prints what would change and changes nothing.
	DryRun bool
	// UserOnly makes doctor check the current user's registrations only
	// (it checks both scopes otherwise).
	UserOnly bool
	// Timeout bounds doctor's wait for a started host's hello reply; 0
	// means HelloTimeout.
	Timeout time.Duration
}

// RecordName is the install record's file name in the app folder.
const RecordName = "install-record.json"

// Record lists what an install wrote, so that uninstall removes exactly
// that and nothing else.
type Record struct {
	Version     int    `json:"version"`
	Scope       string `json:"scope"`
	AppDir      string `json:"appDir"`
	ExtensionID string `json:"extensionId"`
	// Files are the host's files copied into the app folder.
	Files []string `json:"files"`
	// Dirs are folders the install created for them (the app folder and any
	// missing parents).
	Dirs []string `json:"dirs"`
	// Browsers maps a browser name to what was written for it.
	Browsers map[string]*BrowserRecord `json:"browsers"`
}

// BrowserRecord is what an install wrote for one browser.
type BrowserRecord struct {
	Manifest string `json:"manifest"`
	// Dirs are folders created to hold the manifest.
	Dirs []string `json:"dirs,omitempty"`
	// Registry is the Windows registry key pointing at the manifest.
	Registry *RegistryRecord `json:"registry,omitempty"`
}

// RegistryRecord is a registry key an install set, with the parent keys it
// had to create.
type RegistryRecord struct {
	Root    string   `json:"root"`
	Key     string   `json:"key"`
	Created []string `json:"created,omitempty"`
}

func scopeName(system bool) string {
	if system {
		return "system"
	}
	return "user"
}

// LoadRecord reads the install record in appDir; a missing record gives
// (nil, nil).
func LoadRecord(appDir string) (*Record, error) {
	b, err := os.ReadFile(filepath.Join(appDir, RecordName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, plainErr("read", filepath.Join(appDir, RecordName), err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("the install record %s is damaged; remove it and install again", filepath.Join(appDir, RecordName))
	}
	if r.Browsers == nil {
		r.Browsers = map[string]*BrowserRecord{}
	}
	return &r, nil
}

func expandBrowsers(list []string) ([]string, error) {
	var out []string
	for _, b := range list {
		for _, b := range strings.Split(b, ",") {
			b = strings.ToLower(strings.TrimSpace(b))
			switch {
			case b == "":
			case b == "all":
				out = append(out, Browsers...)
			case knownBrowser(b):
				out = append(out, b)
			default:
				return nil, fmt.Errorf("unknown browser %q (choose from %s, or all)", b, strings.Join(Browsers, ", "))
			}
		}
	}
	if len(out) == 0 {
		out = append(out, Browsers...)
	}
	var uniq []string
	for _, b := range Browsers {
		if slices.Contains(out, b) {
			uniq = append(uniq, b)
		}
	}
	return uniq, nil
}

func mergeUnique(a []string, b ...string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

// hostFiles lists the files to copy: the running binary (as the installed
// name) and its lib/ folder (plus DLLs beside it on Windows), as
// source → destination pairs.
func hostFiles(goos, appDir string, env Env) ([][2]string, error) {
	exe := env.Executable
	if exe == "" {
		return nil, fmt.Errorf("the path of the running program is not known")
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	srcDir := filepath.Dir(exe)
	pairs := [][2]string{{exe, join(goos, appDir, BinaryName(goos))}}
	lib := filepath.Join(srcDir, "lib")
	if st, err := os.Stat(lib); err == nil && st.IsDir() {
		err := filepath.WalkDir(lib, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			rel, err := filepath.Rel(srcDir, p)
			if err != nil {
				return err
			}
			pairs = append(pairs, [2]string{p, join(goos, appDir, filepath.ToSlash(rel))})
			return nil
		})
		if err != nil {
			return nil, plainErr("read", lib, err)
		}
	}
	if goos == "windows" {
		dlls, _ := filepath.Glob(filepath.Join(srcDir, "*.dll"))
		for _, d := range dlls {
			pairs = append(pairs, [2]string{d, join(goos, appDir, filepath.Base(d))})
		}
	}
	return pairs, nil
}

// RenderManifest is browser's host manifest for the host at binPath,
// allowing the Chrome extensions extIDs (Firefox allows its add-on id).
func RenderManifest(browser, binPath string, extIDs ...string) ([]byte, error) {
	d := manifests.Data{Name: buildinfo.NativeName, Description: "Image Diet: optimizes a page's images on this computer", Path: binPath}
	if browser == "firefox" {
		d.AllowedExtensions = []string{FirefoxAddonID}
		return manifests.Render(manifests.Firefox, d)
	}
	for _, id := range extIDs {
		d.AllowedOrigins = append(d.AllowedOrigins, "chrome-extension://"+id+"/")
	}
	return manifests.Render(manifests.Chromium, d)
}

// managedBy refuses a system-wide install or uninstall over a package's
// files: the package manager owns them.
func managedBy(o Options, appDir string) error {
	if !o.System {
		return nil
	}
	if f := Packaged(appDir); f != "" {
		return fmt.Errorf("%s belongs to the %s package: repair it with %s, or remove it with %s", appDir, PackageName, ReinstallCommand(f), RemoveCommand(f))
	}
	return nil
}

// target resolves what an install or uninstall acts on: the browsers, the
// app folder and the record of an earlier install (nil when there is none).
func target(o Options, env Env) ([]string, string, *Record, error) {
	browsers, err := expandBrowsers(o.Browsers)
	if err != nil {
		return nil, "", nil, err
	}
	appDir, err := AppDir(env.GOOS, o.System, env)
	if err != nil {
		return nil, "", nil, err
	}
	rec, err := LoadRecord(appDir)
	return browsers, appDir, rec, err
}

// Install copies the running host into the app folder, registers it with
// the chosen browsers and records what it wrote. Running it again is
// harmless.
func Install(o Options, env Env) error {
	goos := env.GOOS
	browsers, appDir, rec, err := target(o, env)
	if err != nil {
		return err
	}
	if err := managedBy(o, appDir); err != nil {
		return err
	}
	if rec == nil {
		rec = &Record{Browsers: map[string]*BrowserRecord{}}
	}
	extID, from, err := resolveExtensionID(o.ExtensionID, rec.ExtensionID, env)
	if err != nil {
		return err
	}
	if goos == "windows" && env.reg == nil {
		return fmt.Errorf("the Windows registry is not reachable from this program")
	}
	op := &fsop{dry: o.DryRun, out: env.Stdout}
	out := env.Stdout
	if o.DryRun {
		fmt.Fprintln(out, "Dry run: nothing is changed.")
	}

	// 1. The host program and its libraries.
	created, err := op.mkdirs(appDir)
	if err != nil {
		return err
	}
	rec.Dirs = mergeUnique(rec.Dirs, created...)
	pairs, err := hostFiles(goos, appDir, env)
	if err != nil {
		return err
	}
	var files []string
	for _, p := range pairs {
		c, err := op.mkdirs(filepath.Dir(p[1]))
		if err != nil {
			return err
		}
		rec.Dirs = mergeUnique(rec.Dirs, c...)
		if _, err := op.copyFile(p[0], p[1]); err != nil {
			return err
		}
		files = append(files, p[1])
	}
	for _, f := range rec.Files { // files an older install wrote that this one does not
		if !slices.Contains(files, f) {
			if err := op.remove(f); err != nil {
				return err
			}
		}
	}
	rec.Files = files
	binPath := join(goos, appDir, BinaryName(goos))
	fmt.Fprintf(out, "Host program: %s\n", binPath)

	// 2. One manifest per browser (and its registry key on Windows).
	for _, b := range browsers {
		mpath, err := ManifestPath(b, goos, o.System, env)
		if err != nil {
			return err
		}
		br := rec.Browsers[b]
		if br == nil || br.Manifest != mpath {
			br = &BrowserRecord{Manifest: mpath}
		}
		c, err := op.mkdirs(filepath.Dir(mpath))
		if err != nil {
			return err
		}
		br.Dirs = mergeUnique(br.Dirs, c...)
		data, err := RenderManifest(b, binPath, extID)
		if err != nil {
			return err
		}
		if _, err := op.writeFile(mpath, data, 0o644); err != nil {
			return err
		}
		if goos == "windows" {
			root, key, _ := RegistryKey(b, o.System)
			op.say(`set registry key %s\%s to %s`, root, key, mpath)
			if br.Registry == nil || br.Registry.Root != root || br.Registry.Key != key {
				br.Registry = &RegistryRecord{Root: root, Key: key}
			}
			if !o.DryRun {
				made, err := env.reg.SetDefault(root, key, mpath)
				if err != nil {
					return fmt.Errorf(`cannot set registry key %s\%s: %v`, root, key, err)
				}
				br.Registry.Created = mergeUnique(br.Registry.Created, made...)
			}
			fmt.Fprintf(out, "Registered for %s: %s\\%s\n", DisplayName(b), root, key)
		} else {
			fmt.Fprintf(out, "Registered for %s: %s\n", DisplayName(b), mpath)
		}
		rec.Browsers[b] = br
	}

	// 3. The record of what was written.
	rec.Version, rec.Scope, rec.AppDir, rec.ExtensionID = 1, scopeName(o.System), appDir, extID
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if _, err := op.writeFile(join(goos, appDir, RecordName), append(data, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "Allowed extension: %s (from %s)\n", extID, from)
	if o.DryRun {
		return nil
	}
	fmt.Fprintln(out, "The host is installed.")
	fmt.Fprintln(out)
	extDir := ExtensionDir(env)
	if extDir == "" {
		extDir = "the extension/ folder of the Image Diet source"
	}
	fmt.Fprintln(out, "One step left: open chrome://extensions, turn on Developer mode, click \"Load unpacked\"")
	fmt.Fprintf(out, "and choose %s\n", extDir)
	return nil
}

// Uninstall removes what Install recorded for the chosen browsers; when no
// browser is left it removes the host's files, the record and the app
// folder (when empty).
func Uninstall(o Options, env Env) error {
	goos := env.GOOS
	browsers, appDir, rec, err := target(o, env)
	if err != nil {
		return err
	}
	if err := managedBy(o, appDir); err != nil {
		return err
	}
	op := &fsop{dry: o.DryRun, out: env.Stdout}
	out := env.Stdout
	if o.DryRun {
		fmt.Fprintln(out, "Dry run: nothing is changed.")
	}
	if rec == nil {
		return uninstallUnrecorded(browsers, o, env, op, appDir)
	}
	var dirs []string
	for _, b := range browsers {
		br := rec.Browsers[b]
		if br == nil {
			continue
		}
		if br.Registry != nil && env.reg != nil {
			op.say(`delete registry key %s\%s`, br.Registry.Root, br.Registry.Key)
			if !o.DryRun {
				if err := env.reg.Delete(br.Registry.Root, br.Registry.Key); err != nil {
					return fmt.Errorf(`cannot delete registry key %s\%s: %v`, br.Registry.Root, br.Registry.Key, err)
				}
				for i := len(br.Registry.Created) - 1; i >= 0; i-- {
					env.reg.DeleteIfEmpty(br.Registry.Root, br.Registry.Created[i])
				}
			}
		}
		delete(rec.Browsers, b)
		shared := false
		for _, other := range rec.Browsers {
			shared = shared || other.Manifest == br.Manifest
		}
		if !shared {
			if err := op.remove(br.Manifest); err != nil {
				return err
			}
		}
		dirs = mergeUnique(dirs, br.Dirs...)
		fmt.Fprintf(out, "Unregistered from %s\n", DisplayName(b))
	}
	// Folders made for a manifest may still hold another browser's
	// manifest; the record keeps those until they are empty.
	rec.Dirs = mergeUnique(rec.Dirs, op.rmdirs(dirs)...)
	if len(rec.Browsers) > 0 {
		data, err := json.MarshalIndent(rec, "", "  ")
		if err != nil {
			return err
		}
		_, err = op.writeFile(join(goos, appDir, RecordName), append(data, '\n'), 0o644)
		return err
	}
	for _, f := range rec.Files {
		if err := op.remove(f); err != nil {
			return err
		}
	}
	if err := op.remove(join(goos, appDir, RecordName)); err != nil {
		return err
	}
	op.rmdirs(append(dirsUnder(rec.Files, appDir), mergeUnique(rec.Dirs, appDir)...))
	if o.DryRun {
		return nil
	}
	if _, err := os.Stat(appDir); err == nil {
		fmt.Fprintf(out, "Kept %s: it holds files the installer did not write.\n", appDir)
	}
	fmt.Fprintln(out, "The host is uninstalled.")
	return nil
}

// dirsUnder lists the folders between each file and root (the lib/ folder).
func dirsUnder(files []string, root string) []string {
	var out []string
	for _, f := range files {
		for d := filepath.Dir(f); len(d) > len(root) && strings.HasPrefix(d, root); d = filepath.Dir(d) {
			out = mergeUnique(out, d)
		}
	}
	return out
}

// uninstallUnrecorded handles a missing record: it removes only manifests
// that name this host and point into the app folder, and leaves files it
// cannot attribute.
func uninstallUnrecorded(browsers []string, o Options, env Env, op *fsop, appDir string) error {
	out := env.Stdout
	fmt.Fprintf(out, "No install record in %s: removing only manifests that point there.\n", appDir)
	for _, b := range browsers {
		mpath, err := ManifestPath(b, env.GOOS, o.System, env)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(mpath)
		if err != nil {
			continue
		}
		m, err := manifests.Parse(data)
		if err != nil || m.Name != buildinfo.NativeName || !strings.HasPrefix(m.Path, appDir) {
			continue
		}
		if env.GOOS == "windows" && env.reg != nil {
			root, key, _ := RegistryKey(b, o.System)
			if v, err := env.reg.Default(root, key); err == nil && v == mpath {
				op.say(`delete registry key %s\%s`, root, key)
				if !o.DryRun {
					env.reg.Delete(root, key)
				}
			}
		}
		if err := op.remove(mpath); err != nil {
			return err
		}
		fmt.Fprintf(out, "Unregistered from %s\n", DisplayName(b))
	}
	return nil
}
