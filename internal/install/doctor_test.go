package install

import (
	"os"

	"github.com/imagediet/imgdiet/internal/buildinfo"
	"path/filepath"
	"strings"
	"testing"
)

func TestDoctor(t *testing.T) {
	tests := []struct {
		name   string
		mode   string // the fake host's behaviour
		spoil  func(t *testing.T, env Env)
		engine func() (string, []string)
		code   int
		args   []string
		says   []string
	}{
		{name: "all well", mode: "ok", code: 0,
			engine: func() (string, []string) { return "8.18.7", []string{"jpeg", "png", "webp", "avif", "gif"} },
			says: []string{"ok    libvips 8.18.7 loads in this program", "Chromium (user): ", "ok    it allows the extension " + DefaultExtensionID,
				"ok    it allows the add-on imagediet@imagediet.app", "answers hello", "libvips 8.18.7", "All is well."}},
		{name: "missing encoders", mode: "ok", code: 1,
			engine: func() (string, []string) { return "8.18.7", []string{"jpeg", "png"} },
			says: []string{"FAIL  libvips 8.18.7 loads in this program; it encodes jpeg, png but not webp, avif, gif",
				"fix: install the release package: sudo apt install ./imgdiet-host_"}},
		{name: "host cannot load libvips", mode: "crash", code: 1,
			says: []string{"FAIL  a browser-started host fails: it exited without answering", "cannot open shared object file",
				"fix: install the release package: sudo apt install ./imgdiet-host_", "or rebuild with scripts/build.sh; then imgdiet-host install --browser"}},
		{name: "host never answers", mode: "silent", code: 1, args: []string{"--timeout", "1s"}, says: []string{"no hello reply within 1s"}},
		{name: "wrong extension", mode: "ok", code: 1,
			spoil: func(t *testing.T, env Env) {
				p, _ := ManifestPath("chrome", "linux", false, env)
				data, _ := os.ReadFile(p)
				os.WriteFile(p, []byte(strings.ReplaceAll(string(data), DefaultExtensionID, "abcdefghijklmnopabcdefghijklmnop")), 0o644)
			},
			says: []string{"FAIL  it does not allow the extension " + DefaultExtensionID + " (it allows chrome-extension://abcdefghijklmnopabcdefghijklmnop/)",
				"fix: imgdiet-host install --browser chrome --extension-id ID"}},
		{name: "host removed", mode: "ok", code: 1,
			spoil: func(t *testing.T, env Env) {
				app, _ := AppDir("linux", false, env)
				os.Remove(filepath.Join(app, "imgdiet-host"))
			},
			says: []string{"does not exist", "fix: imgdiet-host install --browser chromium"}},
		{name: "host not executable", mode: "ok", code: 1,
			spoil: func(t *testing.T, env Env) {
				app, _ := AppDir("linux", false, env)
				os.Chmod(filepath.Join(app, "imgdiet-host"), 0o644)
			},
			says: []string{"is not executable", "fix: chmod +x"}},
		{name: "broken manifest", mode: "ok", code: 1,
			spoil: func(t *testing.T, env Env) {
				p, _ := ManifestPath("edge", "linux", false, env)
				os.WriteFile(p, []byte("{"), 0o644)
			},
			says: []string{"FAIL  the manifest is not valid JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(fakeHostEnv, tt.mode)
			env, out := testEnv(t.TempDir(), fakeBuild(t, "libvips-cpp.so.1"))
			if code := Main("install", nil, env); code != 0 {
				t.Fatalf("install exit %d:\n%s", code, out)
			}
			if tt.spoil != nil {
				tt.spoil(t, env)
			}
			env.Engine = tt.engine
			out.Reset()
			code := Main("doctor", append([]string{"--user"}, tt.args...), env)
			if code != tt.code {
				t.Errorf("exit %d, want %d:\n%s", code, tt.code, out)
			}
			for _, s := range tt.says {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

func TestDoctorNothingRegistered(t *testing.T) {
	env, out := testEnv(t.TempDir(), fakeBuild(t))
	if code := Main("doctor", []string{"--user"}, env); code != 1 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, s := range []string{"Chrome: not registered", "fix (if you use Chrome): imgdiet-host install --browser chrome",
		"not registered with any browser. Fix: install the release package: sudo apt install ./imgdiet-host_" + buildinfo.Version + "_amd64.deb",
		"sudo dnf install ./imgdiet-host-" + buildinfo.Version + "-1.x86_64.rpm"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

// TestDoctorRealHost installs the real built host (scripts/build.sh) into a
// temporary HOME and checks that doctor finds it working. It runs when
// IMGDIET_HOST_BIN names the binary (e.g. bin/imgdiet-host).
func TestDoctorRealHost(t *testing.T) {
	bin := os.Getenv("IMGDIET_HOST_BIN")
	if bin == "" {
		t.Skip("set IMGDIET_HOST_BIN=/path/to/bin/imgdiet-host to check the real host")
	}
	if !filepath.IsAbs(bin) { // relative to the repository root
		bin = filepath.Join("..", "..", bin)
	}
	bin, _ = filepath.Abs(bin)
	home := t.TempDir()
	env, out := testEnv(home, bin)
	before := tree(t, home)
	if code := Main("install", []string{"--browser", "chromium,chrome"}, env); code != 0 {
		t.Fatalf("install exit %d:\n%s", code, out)
	}
	out.Reset()
	code := Main("doctor", []string{"--user", "--browser", "chromium,chrome"}, env)
	t.Logf("doctor:\n%s", out)
	if code != 0 {
		t.Errorf("doctor exit %d", code)
	}
	if code := Main("uninstall", nil, env); code != 0 {
		t.Fatalf("uninstall exit %d:\n%s", code, out)
	}
	if d := diffTrees(before, tree(t, home)); len(d) > 0 {
		t.Errorf("uninstall left: %v", d)
	}
}

// TestDoctorPackaged: a helper a package installed points at the package
// manager, never at the installer or a source build.
func TestDoctorPackaged(t *testing.T) {
	for _, format := range []string{"deb", "rpm"} {
		t.Run(format, func(t *testing.T) {
			bin := fakeBuild(t)
			if err := os.WriteFile(filepath.Join(filepath.Dir(bin), PackageMarker), []byte(format+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			env, out := testEnv(t.TempDir(), bin)
			fix := ReinstallCommand(format)
			engines := []func() (string, []string){
				func() (string, []string) { return "8.18.7", []string{"jpeg", "png", "webp", "avif", "gif"} },
				func() (string, []string) { return "", nil },
			}
			says := [][]string{
				{"Installed by the imgdiet-host package (" + format + ")", "fix (if you use Chrome): " + fix + " (the package registers every browser)",
					"not registered with any browser. Fix: " + fix},
				{"FAIL  libvips does not work in this program", "fix: " + fix + " (the release bundles libvips)"},
			}
			for i, eng := range engines {
				env.Engine = eng
				if code := Main("doctor", []string{"--user"}, env); code != 1 {
					t.Fatalf("exit %d:\n%s", code, out)
				}
				for _, s := range says[i] {
					if !strings.Contains(out.String(), s) {
						t.Errorf("output lacks %q:\n%s", s, out)
					}
				}
			}
			if strings.Contains(out.String(), "imgdiet-host install") || strings.Contains(out.String(), "scripts/") {
				t.Errorf("a packaged helper's doctor names the installer:\n%s", out)
			}
		})
	}
}
