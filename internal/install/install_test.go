package install

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imagediet/imgdiet/internal/buildinfo"
	"github.com/imagediet/imgdiet/manifests"
)

// fakeHostEnv makes the test binary act as a minimal native host (see
// TestMain), so that install has a real executable to copy and doctor a
// real process to start.
const fakeHostEnv = "IMGDIET_INSTALL_TEST_FAKE_HOST"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeHostEnv); mode != "" {
		os.Exit(fakeHost(mode))
	}
	os.Exit(m.Run())
}

// fakeHost answers hello frames until stdin closes. mode "silent" never
// answers; "crash" fails the way a host with a missing library does.
func fakeHost(mode string) int {
	if mode == "crash" {
		fmt.Fprintln(os.Stderr, "imgdiet-host: error while loading shared libraries: libvips-cpp.so.8.18.7: cannot open shared object file")
		return 127
	}
	if len(os.Args) < 2 || !(strings.HasPrefix(os.Args[1], "chrome-extension://") || strings.HasSuffix(os.Args[1], ".json")) {
		fmt.Fprintln(os.Stderr, "fake host: not started by a browser")
		return 2
	}
	for {
		var n uint32
		if err := binary.Read(os.Stdin, binary.NativeEndian, &n); err != nil {
			return 0
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(os.Stdin, b); err != nil {
			return 0
		}
		var req struct{ Type, ID string }
		json.Unmarshal(b, &req)
		if mode == "silent" {
			continue
		}
		out, _ := json.Marshal(map[string]any{"type": "hello", "id": req.ID, "protocol": 1,
			"host": map[string]string{"name": "imgdiet-host", "version": "test"}, "engine": map[string]string{"libvips": "8.18.7"},
			"encoders": []string{"jpeg", "png", "webp", "avif", "gif"}})
		os.Stdout.Write(binary.NativeEndian.AppendUint32(nil, uint32(len(out))))
		os.Stdout.Write(out)
	}
}

// fakeBuild lays out a built host like scripts/build.sh does: bin/imgdiet-host
// (a copy of this test binary) and bin/lib/<libs>.
func fakeBuild(t *testing.T, libs ...string) string {
	t.Helper()
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin", "imgdiet-host")
	if err := os.MkdirAll(filepath.Join(dir, "bin", "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, l := range libs {
		if err := os.WriteFile(filepath.Join(dir, "bin", "lib", l), []byte("library "+l), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return bin
}

func testEnv(home, exe string) (Env, *bytes.Buffer) {
	var out bytes.Buffer
	return Env{Stdout: &out, Stderr: &out, GOOS: "linux", GOARCH: "amd64", Home: home, Executable: exe,
		Getenv: func(string) string { return "" }}, &out
}

// tree describes every entry below root: path → mode and content hash.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		v := info.Mode().String()
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		rel, _ := filepath.Rel(root, p)
		m[rel] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func diffTrees(a, b map[string]string) []string {
	var d []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			d = append(d, "gone: "+k)
		} else if v != w {
			d = append(d, "changed: "+k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, "new: "+k)
		}
	}
	return d
}

// checkInstalled verifies each browser's manifest the way a browser reads it.
func checkInstalled(t *testing.T, env Env, extID string) {
	t.Helper()
	for _, b := range Browsers {
		mp, err := ManifestPath(b, "linux", false, env)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(mp)
		if err != nil {
			t.Fatalf("%s: manifest missing: %v", b, err)
		}
		m, err := manifests.Parse(data)
		if err != nil {
			t.Fatalf("%s: manifest does not parse: %v", b, err)
		}
		if m.Name != buildinfo.NativeName || m.Type != "stdio" {
			t.Errorf("%s: name %q type %q", b, m.Name, m.Type)
		}
		if !filepath.IsAbs(m.Path) || filepath.Base(m.Path) != "imgdiet-host" {
			t.Errorf("%s: path %q", b, m.Path)
		}
		st, err := os.Stat(m.Path)
		if err != nil || st.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s: host %q missing or not executable (%v)", b, m.Path, err)
		}
		if filepath.Base(filepath.Dir(mp)) != "NativeMessagingHosts" && b != "firefox" {
			t.Errorf("%s: manifest in %s", b, mp)
		}
		if b == "firefox" {
			if !equal(m.AllowedExtensions, []string{FirefoxAddonID}) || m.AllowedOrigins != nil {
				t.Errorf("firefox: allowed %v %v", m.AllowedExtensions, m.AllowedOrigins)
			}
		} else if !equal(m.AllowedOrigins, []string{"chrome-extension://" + extID + "/"}) || m.AllowedExtensions != nil {
			t.Errorf("%s: allowed_origins %v", b, m.AllowedOrigins)
		}
	}
}

func TestInstallTwiceThenUninstallRestoresHome(t *testing.T) {
	home := t.TempDir()
	// Something of the user's own that must survive.
	os.MkdirAll(filepath.Join(home, ".config", "chromium"), 0o755)
	os.WriteFile(filepath.Join(home, ".config", "chromium", "Local State"), []byte("{}"), 0o600)
	exe := fakeBuild(t, "libvips-cpp.so.8.18.7", "LIBVIPS-README.md")
	env, out := testEnv(home, exe)
	before := tree(t, home)

	if code := Main("install", []string{"--browser", "all"}, env); code != 0 {
		t.Fatalf("install exit %d:\n%s", code, out)
	}
	for _, want := range []string{"Registered for Chrome", "Registered for Chromium", "chrome://extensions", "Load unpacked"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	checkInstalled(t, env, DefaultExtensionID)
	app := filepath.Join(home, ".local", "share", "imgdiet")
	lib, err := os.ReadFile(filepath.Join(app, "lib", "libvips-cpp.so.8.18.7"))
	if err != nil || string(lib) != "library libvips-cpp.so.8.18.7" {
		t.Fatalf("library not copied beside the host: %q, %v", lib, err)
	}
	first := tree(t, home)

	out.Reset()
	if code := Main("install", nil, env); code != 0 {
		t.Fatalf("second install exit %d:\n%s", code, out)
	}
	if d := diffTrees(first, tree(t, home)); len(d) > 0 {
		t.Errorf("installing twice changed files: %v", d)
	}

	out.Reset()
	if code := Main("uninstall", nil, env); code != 0 {
		t.Fatalf("uninstall exit %d:\n%s", code, out)
	}
	if d := diffTrees(before, tree(t, home)); len(d) > 0 {
		t.Errorf("uninstall did not restore HOME: %v\n%s", d, out)
	}
}

func TestInstallHonoursXDG(t *testing.T) {
	home := t.TempDir()
	exe := fakeBuild(t, "libvips-cpp.so.1")
	env, out := testEnv(home, exe)
	env.XDGConfigHome = filepath.Join(home, "cfg")
	env.Getenv = func(k string) string {
		if k == "XDG_DATA_HOME" {
			return filepath.Join(home, "data")
		}
		return ""
	}
	before := tree(t, home)
	if code := Main("install", []string{"--browser", "chromium"}, env); code != 0 {
		t.Fatalf("install exit %d:\n%s", code, out)
	}
	m, err := os.ReadFile(filepath.Join(home, "cfg", "chromium", "NativeMessagingHosts", "com.imagediet.host.json"))
	if err != nil {
		t.Fatal(err)
	}
	mf, _ := manifests.Parse(m)
	if mf.Path != filepath.Join(home, "data", "imgdiet", "imgdiet-host") {
		t.Errorf("host path %q", mf.Path)
	}
	if _, err := os.Stat(filepath.Join(home, ".config")); err == nil {
		t.Error("~/.config was written although XDG_CONFIG_HOME is set")
	}
	if code := Main("uninstall", []string{"--browser", "chromium"}, env); code != 0 {
		t.Fatalf("uninstall exit %d:\n%s", code, out)
	}
	if d := diffTrees(before, tree(t, home)); len(d) > 0 {
		t.Errorf("uninstall left: %v", d)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	home := t.TempDir()
	env, out := testEnv(home, fakeBuild(t, "libvips-cpp.so.1"))
	before := tree(t, home)
	if code := Main("install", []string{"--dry-run"}, env); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if d := diffTrees(before, tree(t, home)); len(d) > 0 {
		t.Fatalf("dry run wrote: %v", d)
	}
	for _, want := range []string{"would create folder " + filepath.Join(home, ".local"), "would write " + filepath.Join(home, ".mozilla", "native-messaging-hosts", "com.imagediet.host.json")} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	// A dry-run uninstall of a real install removes nothing either.
	if code := Main("install", nil, env); code != 0 {
		t.Fatalf("install exit %d:\n%s", code, out)
	}
	installed := tree(t, home)
	out.Reset()
	if code := Main("uninstall", []string{"--dry-run"}, env); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if d := diffTrees(installed, tree(t, home)); len(d) > 0 {
		t.Fatalf("dry-run uninstall changed: %v", d)
	}
	if !strings.Contains(out.String(), "would remove "+filepath.Join(home, ".local", "share", "imgdiet", "imgdiet-host")) ||
		!strings.Contains(out.String(), "would remove empty folder "+filepath.Join(home, ".local")+"\n") {
		t.Errorf("dry-run uninstall output:\n%s", out)
	}
}

func TestReinstallDropsStaleLibraryAndPartialUninstall(t *testing.T) {
	home := t.TempDir()
	exe := fakeBuild(t, "libvips-cpp.so.1")
	env, out := testEnv(home, exe)
	before := tree(t, home)
	if code := Main("install", []string{"--browser", "chrome,firefox", "--extension-id", "abcdefghijklmnopabcdefghijklmnop"}, env); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	lib := filepath.Join(filepath.Dir(exe), "lib")
	os.Remove(filepath.Join(lib, "libvips-cpp.so.1"))
	os.WriteFile(filepath.Join(lib, "libvips-cpp.so.2"), []byte("v2"), 0o644)
	if code := Main("install", []string{"--browser", "chromium"}, env); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	app := filepath.Join(home, ".local", "share", "imgdiet")
	if _, err := os.Stat(filepath.Join(app, "lib", "libvips-cpp.so.1")); err == nil {
		t.Error("the old library is still installed")
	}
	if _, err := os.Stat(filepath.Join(app, "lib", "libvips-cpp.so.2")); err != nil {
		t.Error("the new library is not installed")
	}
	rec, err := LoadRecord(app)
	if err != nil || rec == nil {
		t.Fatalf("record: %v", err)
	}
	if rec.ExtensionID != "abcdefghijklmnopabcdefghijklmnop" || len(rec.Browsers) != 3 {
		t.Errorf("record kept id %q and %d browsers", rec.ExtensionID, len(rec.Browsers))
	}
	// The extension ID given once is kept by a later install without the flag.
	m, _ := os.ReadFile(filepath.Join(home, ".config", "chromium", "NativeMessagingHosts", "com.imagediet.host.json"))
	if !strings.Contains(string(m), "chrome-extension://abcdefghijklmnopabcdefghijklmnop/") {
		t.Errorf("chromium manifest: %s", m)
	}

	if code := Main("uninstall", []string{"--browser", "chrome"}, env); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "google-chrome")); err == nil {
		t.Error("chrome's folders were left")
	}
	if _, err := os.Stat(filepath.Join(app, "imgdiet-host")); err != nil {
		t.Error("the host was removed while browsers still use it")
	}
	if code := Main("uninstall", nil, env); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if d := diffTrees(before, tree(t, home)); len(d) > 0 {
		t.Errorf("uninstall left: %v", d)
	}
}

func TestUninstallKeepsForeignFiles(t *testing.T) {
	home := t.TempDir()
	env, out := testEnv(home, fakeBuild(t))
	if code := Main("install", []string{"--browser", "chromium"}, env); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	mine := filepath.Join(home, ".config", "chromium", "NativeMessagingHosts", "other.host.json")
	os.WriteFile(mine, []byte("{}"), 0o644)
	if code := Main("uninstall", nil, env); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Error("uninstall removed another host's manifest")
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "chromium", "NativeMessagingHosts", "com.imagediet.host.json")); err == nil {
		t.Error("our manifest is still there")
	}
}

func TestUninstallWithoutRecord(t *testing.T) {
	home := t.TempDir()
	env, out := testEnv(home, fakeBuild(t))
	if code := Main("install", []string{"--browser", "chrome"}, env); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	os.Remove(filepath.Join(home, ".local", "share", "imgdiet", RecordName))
	// Another host's manifest with our file name but pointing elsewhere stays.
	ff, _ := ManifestPath("firefox", "linux", false, env)
	os.MkdirAll(filepath.Dir(ff), 0o755)
	os.WriteFile(ff, []byte(`{"name":"com.imagediet.host","path":"/somewhere/else"}`), 0o644)
	out.Reset()
	if code := Main("uninstall", nil, env); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	cm, _ := ManifestPath("chrome", "linux", false, env)
	if _, err := os.Stat(cm); err == nil {
		t.Error("chrome manifest left")
	}
	if _, err := os.Stat(ff); err != nil {
		t.Error("a manifest pointing elsewhere was removed")
	}
	if !strings.Contains(out.String(), "No install record") {
		t.Errorf("output:\n%s", out)
	}
}

func TestMainUsage(t *testing.T) {
	env, out := testEnv(t.TempDir(), fakeBuild(t))
	tests := []struct {
		cmd  string
		args []string
		code int
		says string
	}{
		{"install", []string{"--browser", "safari"}, 1, "unknown browser"},
		{"install", []string{"--extension-id", "nope"}, 1, "not an extension ID"},
		{"install", []string{"extra"}, 2, "unexpected argument"},
		{"install", []string{"--bogus"}, 2, "flag provided but not defined"},
		{"frobnicate", nil, 2, "unknown command"},
		{"doctor", []string{"--dry-run"}, 2, "flag provided but not defined"},
	}
	for _, tt := range tests {
		out.Reset()
		if code := Main(tt.cmd, tt.args, env); code != tt.code || !strings.Contains(out.String(), tt.says) {
			t.Errorf("%s %v: exit %d, output:\n%s", tt.cmd, tt.args, code, out)
		}
	}
}

func TestSystemInstallWithoutPermissionSaysSo(t *testing.T) {
	if os.Geteuid() == 0 || runtime.GOOS != "linux" {
		t.Skip("needs a non-root user on Linux")
	}
	env, out := testEnv(t.TempDir(), fakeBuild(t))
	if code := Main("install", []string{"--system", "--browser", "chromium"}, env); code != 1 || !strings.Contains(out.String(), "permission denied") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestExtensionIDFromKey(t *testing.T) {
	der := []byte("any public key bytes: the ID depends only on their hash")
	sum := sha256.Sum256(der)
	want := strings.Map(func(r rune) rune {
		if r <= '9' {
			return 'a' + (r - '0')
		}
		return 'k' + (r - 'a')
	}, hex.EncodeToString(sum[:16]))
	got, err := ExtensionIDFromKey(base64.StdEncoding.EncodeToString(der))
	if err != nil || got != want || !ValidExtensionID(got) {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	if _, err := ExtensionIDFromKey("not base64!"); err == nil {
		t.Error("bad key accepted")
	}
}

// The extension's manifest key and the built-in ID must agree, or install
// would allow one ID and the browser report another.
func TestRepoExtensionKeyMatchesDefaultID(t *testing.T) {
	dir := filepath.Join("..", "..", "extension")
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		t.Skip("extension/manifest.json is not there yet")
	}
	id, err := extensionIDFromDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if id != DefaultExtensionID {
		t.Errorf("extension/manifest.json key gives %q, built-in ID is %q", id, DefaultExtensionID)
	}
}

func TestInstallReadsExtensionIDFromSourceTree(t *testing.T) {
	exe := fakeBuild(t)
	root := filepath.Dir(filepath.Dir(exe))
	key := base64.StdEncoding.EncodeToString([]byte("a test key"))
	os.MkdirAll(filepath.Join(root, "extension"), 0o755)
	os.WriteFile(filepath.Join(root, "extension", "manifest.json"), []byte(`{"manifest_version":3,"key":"`+key+`"}`), 0o644)
	want, _ := ExtensionIDFromKey(key)
	home := t.TempDir()
	env, out := testEnv(home, exe)
	if code := Main("install", []string{"--browser", "chromium"}, env); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	m, _ := os.ReadFile(filepath.Join(home, ".config", "chromium", "NativeMessagingHosts", "com.imagediet.host.json"))
	if !strings.Contains(string(m), "chrome-extension://"+want+"/") {
		t.Errorf("manifest does not allow %s: %s", want, m)
	}
	if !strings.Contains(out.String(), filepath.Join(root, "extension")) {
		t.Errorf("the one step left does not name the extension folder:\n%s", out)
	}
}

func TestHelloTimesOut(t *testing.T) {
	t.Setenv(fakeHostEnv, "silent")
	exe := fakeBuild(t)
	start := time.Now()
	res := Hello(exe, []string{"chrome-extension://" + DefaultExtensionID + "/"}, 300*time.Millisecond)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "no hello reply") {
		t.Fatalf("got %+v", res)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("took %s", el)
	}
}
