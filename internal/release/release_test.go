package release

import (
	"archive/zip"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imagediet/imgdiet/internal/buildinfo"
	"github.com/imagediet/imgdiet/internal/install"
)

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSums(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(dir string)
		want  string // "" = verifies
	}{
		{"as written", func(string) {}, ""},
		{"changed file", func(d string) { os.WriteFile(filepath.Join(d, "a.deb"), []byte("tampered"), 0o644) }, "a.deb does not match its checksum"},
		{"file added after", func(d string) { os.WriteFile(filepath.Join(d, "new.zip"), []byte("x"), 0o644) }, "new.zip is not listed"},
		{"file removed", func(d string) { os.Remove(filepath.Join(d, "sub", "b.json")) }, "sub/b.json is listed but missing"},
		{"bad line", func(d string) {
			f, _ := os.OpenFile(filepath.Join(d, SumsName), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("not a checksum line\n")
			f.Close()
		}, `line 3 is not`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			write(t, filepath.Join(d, "a.deb"), "package bytes")
			write(t, filepath.Join(d, "sub", "b.json"), "{}")
			if err := WriteSums(d); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(filepath.Join(d, SumsName))
			if !strings.HasPrefix(string(b), "") || !strings.Contains(string(b), "  a.deb\n") || !strings.Contains(string(b), "  sub/b.json\n") {
				t.Fatalf("SHA256SUMS:\n%s", b)
			}
			tt.spoil(d)
			err := VerifySums(d)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("VerifySums: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("VerifySums = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestWithoutKey(t *testing.T) {
	in := []byte(`{"manifest_version": 3, "name": "X", "key": "MIIB", "nested": {"key": "stays"}, "permissions": ["a"]}`)
	out, err := WithoutKey(in)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"manifest_version\": 3,\n  \"name\": \"X\",\n  \"nested\": {\n    \"key\": \"stays\"\n  },\n  \"permissions\": [\n    \"a\"\n  ]\n}\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if _, err := WithoutKey([]byte(`[1]`)); err == nil {
		t.Error("an array is accepted as a manifest")
	}
}

func TestExtensionEntries(t *testing.T) {
	d := t.TempDir()
	write(t, filepath.Join(d, "manifest.json"), `{"name": "X", "version": "1.2.3", "key": "MIIB"}`)
	for _, f := range []string{"sw.js", "lib/a.js", "icons/i.png", "test/a.test.mjs", "icons/make-icons.mjs", "README.md", ".hidden"} {
		write(t, filepath.Join(d, f), "x")
	}
	names := func(es []Entry) []string {
		var n []string
		for _, e := range es {
			n = append(n, e.Name)
		}
		slices.Sort(n)
		return n
	}
	for _, withKey := range []bool{false, true} {
		es, err := ExtensionEntries(d, "1.2.3", withKey)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := names(es), []string{"icons/i.png", "lib/a.js", "manifest.json", "sw.js"}; !slices.Equal(got, want) {
			t.Errorf("shipped %v, want %v", got, want)
		}
		for _, e := range es {
			if e.Name == "manifest.json" && strings.Contains(string(e.Data), `"key"`) != withKey {
				t.Errorf("withKey=%v: manifest %s", withKey, e.Data)
			}
		}
	}
	if _, err := ExtensionEntries(d, "9.9.9", false); err == nil || !strings.Contains(err.Error(), `says version "1.2.3"`) {
		t.Errorf("a version mismatch gives %v", err)
	}
}

func TestWriteZipIsReproducible(t *testing.T) {
	d := t.TempDir()
	write(t, filepath.Join(d, "b.txt"), "bee")
	es := []Entry{{Name: "z/b.txt", Src: filepath.Join(d, "b.txt")}, {Name: "a.txt", Data: []byte("ay")}}
	var zips [][]byte
	for i := range 2 {
		p := filepath.Join(d, "out.zip")
		if err := WriteZip(p, es, time.Time{}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		zips = append(zips, b)
		if i == 0 {
			time.Sleep(1100 * time.Millisecond) // a later build, the same bytes
			os.Chtimes(filepath.Join(d, "b.txt"), time.Now(), time.Now())
		}
	}
	if string(zips[0]) != string(zips[1]) {
		t.Error("two zips of the same files differ")
	}
	zr, err := zip.OpenReader(filepath.Join(d, "out.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 2 || zr.File[0].Name != "a.txt" || !zr.File[0].Modified.Equal(Epoch) {
		t.Errorf("entries %v", zr.File)
	}
}

func TestNfpmConfig(t *testing.T) {
	bin := t.TempDir()
	write(t, filepath.Join(bin, "imgdiet-host"), "elf")
	write(t, filepath.Join(bin, "lib", "libvips-cpp.so.8.18.7"), "so")
	work := t.TempDir()
	raw, err := NfpmConfig(Package{Version: "1.0.0", Arch: "arm64", BinDir: bin, Notices: filepath.Join(bin, "N"), WorkDir: work,
		ExtensionIDs: []string{install.DefaultExtensionID, "abcdefghijklmnopabcdefghijklmnop"}, MTime: "2026-01-02T03:04:05Z"})
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Arch, Version, MTime string
		Contents             []content
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Arch != "arm64" || cfg.Version != "1.0.0" || cfg.MTime != "2026-01-02T03:04:05Z" {
		t.Errorf("config %+v", cfg)
	}
	files := map[string]content{}
	for _, c := range cfg.Contents {
		if c.Type != "dir" {
			files[c.Dst+"|"+c.Packager] = c
		}
	}
	for _, want := range []string{"/opt/imgdiet/imgdiet-host|", "/opt/imgdiet/lib/libvips-cpp.so.8.18.7|", "/usr/bin/imgdiet-host|",
		"/opt/imgdiet/THIRD_PARTY_NOTICES.txt|", "/opt/imgdiet/package-format|deb", "/opt/imgdiet/package-format|rpm"} {
		if _, ok := files[want]; !ok {
			t.Errorf("contents lack %s", want)
		}
	}
	// Every browser's system folder gets a manifest allowing both IDs.
	for _, b := range install.Browsers {
		p, _ := install.ManifestPath(b, "linux", true, install.Env{})
		c, ok := files[p+"|"]
		if !ok {
			t.Errorf("no manifest for %s at %s", b, p)
			continue
		}
		data, _ := os.ReadFile(c.Src)
		var m struct {
			Path              string
			AllowedOrigins    []string `json:"allowed_origins"`
			AllowedExtensions []string `json:"allowed_extensions"`
		}
		json.Unmarshal(data, &m)
		if m.Path != "/opt/imgdiet/imgdiet-host" {
			t.Errorf("%s: path %q", b, m.Path)
		}
		if b == "firefox" {
			if !slices.Equal(m.AllowedExtensions, []string{install.FirefoxAddonID}) {
				t.Errorf("firefox allows %v", m.AllowedExtensions)
			}
		} else if len(m.AllowedOrigins) != 2 {
			t.Errorf("%s allows %v", b, m.AllowedOrigins)
		}
	}
	marker, _ := os.ReadFile(files["/opt/imgdiet/package-format|rpm"].Src)
	if string(marker) != "rpm\n" {
		t.Errorf("rpm marker %q", marker)
	}
	if _, err := NfpmConfig(Package{Version: "1", Arch: "amd64", BinDir: bin, WorkDir: work, ExtensionIDs: []string{"nope"}}); err == nil {
		t.Error("a malformed extension ID is accepted")
	}
}

func TestSBOMAndNotices(t *testing.T) {
	self, err := os.Executable() // a Go binary with build information
	if err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	write(t, filepath.Join(d, "versions.json"), `{"vips": "8.18.7", "uhdr": "2.0.2", "glib": "2.90.0"}`)
	write(t, filepath.Join(d, "README.md"), "| Library | Used under the terms of |\n|---|---|\n| glib | LGPLv3 |\n| libultrahdr | MIT License |\n| libvips | LGPLv3 |\n| mozjpeg | [zlib License, IJG License](https://x/y) |\n")
	write(t, filepath.Join(d, "libvips-cpp.so.8.18.7"), "library")
	bom, err := MakeSBOM(SBOM{Binary: self, Version: "1.0.0", GOOS: "linux", GOARCH: "amd64", Time: Epoch,
		Bundle: Bundle{Package: "@img/sharp-libvips-linux-x64", Version: "1.3.4", Lib: filepath.Join(d, "libvips-cpp.so.8.18.7"),
			VersionsJSON: filepath.Join(d, "versions.json"), README: filepath.Join(d, "README.md")}})
	if err != nil {
		t.Fatal(err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.5" || !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") {
		t.Errorf("header %+v", bom)
	}
	var bundle *cdxComponent
	for i, c := range bom.Components {
		if c.Name == "@img/sharp-libvips-linux-x64" {
			bundle = &bom.Components[i]
		}
	}
	if bundle == nil || bundle.PURL != "pkg:npm/%40img/sharp-libvips-linux-x64@1.3.4" || len(bundle.Hashes) != 1 || bundle.Licenses[0].License.ID != "LGPL-3.0-or-later" {
		t.Fatalf("bundle component %+v", bundle)
	}
	lic := map[string]string{}
	for _, c := range bundle.Components {
		if len(c.Licenses) > 0 {
			lic[c.Name+"@"+c.Version] = c.Licenses[0].License.Name
		}
	}
	if want := map[string]string{"vips@8.18.7": "LGPLv3", "uhdr@2.0.2": "MIT License", "glib@2.90.0": "LGPLv3"}; !maps(lic, want) {
		t.Errorf("bundle licences %v, want %v", lic, want)
	}
	again, _ := MakeSBOM(SBOM{Binary: self, Version: "1.0.0", GOOS: "linux", GOARCH: "amd64", Time: Epoch, Bundle: bundle0(d)})
	if again.SerialNumber != bom.SerialNumber {
		t.Error("the same inputs give another serial number")
	}

	write(t, filepath.Join(d, "goroot", "LICENSE"), "Go's licence")
	write(t, filepath.Join(d, "LGPL-3"), "LESSER GPL TEXT")
	write(t, filepath.Join(d, "GPL-3"), "GPL TEXT")
	// A module cache holding the licence of each module the test binary has.
	cache := filepath.Join(d, "mod")
	text, err := MakeNotices(Notices{Version: "1.0.0", Binaries: []string{self}, ModCache: cache, GoRoot: filepath.Join(d, "goroot"),
		BundleReadmes: map[string]string{"lib (Linux)": filepath.Join(d, "README.md")}, LGPL: filepath.Join(d, "LGPL-3"), GPL: filepath.Join(d, "GPL-3")})
	if len(bom.Components) > 2 { // the test binary links modules: their licences must be found
		if err == nil || !strings.Contains(err.Error(), "no licence file") {
			t.Fatalf("notices without the module cache: %v", err)
		}
		for _, c := range bom.Components[1 : len(bom.Components)-1] {
			write(t, filepath.Join(cache, escapeModPath(c.Name)+"@"+escapeModPath(c.Version), "LICENSE"), "licence of "+c.Name)
		}
		text, err = MakeNotices(Notices{Version: "1.0.0", Binaries: []string{self}, ModCache: cache, GoRoot: filepath.Join(d, "goroot"),
			BundleReadmes: map[string]string{"lib (Linux)": filepath.Join(d, "README.md")}, LGPL: filepath.Join(d, "LGPL-3"), GPL: filepath.Join(d, "GPL-3")})
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(imgdiet-host) 1.0.0", "LGPL-3.0-or-later", "replace", "The bundle's own notice, for lib (Linux)", "| libvips | LGPLv3 |",
		"Go's licence", "4. GNU Lesser General Public License, version 3", "LESSER GPL TEXT", "5. GNU General Public License, version 3", "GPL TEXT"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("notices lack %q", want)
		}
	}
	if got := escapeModPath("github.com/BurntSushi/toml"); got != "github.com/!burnt!sushi/toml" {
		t.Errorf("escapeModPath = %q", got)
	}
}

func bundle0(d string) Bundle {
	return Bundle{Package: "@img/sharp-libvips-linux-x64", Version: "1.3.4", Lib: filepath.Join(d, "libvips-cpp.so.8.18.7"),
		VersionsJSON: filepath.Join(d, "versions.json"), README: filepath.Join(d, "README.md")}
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestVersionIsOnePlace: the extension's manifest carries the helper's
// version (package.sh refuses a release where they differ).
func TestVersionIsOnePlace(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "extension", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Version string }
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.Version != buildinfo.Version {
		t.Errorf("extension/manifest.json says %q, internal/buildinfo %q: change both together", m.Version, buildinfo.Version)
	}
}
