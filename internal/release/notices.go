package release

import (
	"debug/buildinfo"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// Notices are the inputs of THIRD_PARTY_NOTICES.
type Notices struct {
	// Version is the release version.
	Version string
	// Binaries are the helper builds shipped (their Go build information
	// lists the modules compiled in).
	Binaries []string
	// ModCache is the Go module cache (go env GOMODCACHE) holding each
	// module's licence, GoRoot the toolchain whose LICENSE covers the
	// standard library and runtime.
	ModCache, GoRoot string
	// BundleReadmes are the libvips bundles' READMEs (their licence
	// tables), by the file each ships as.
	BundleReadmes map[string]string
	// LGPL and GPL are the full licence texts (Debian's
	// /usr/share/common-licenses/LGPL-3 and GPL-3).
	LGPL, GPL string
}

// licenceFiles are the names a module's licence goes by, in order.
var licenceFiles = []string{"LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "COPYING", "COPYING.md"}

// escapeModPath escapes a module path or version as the module cache does
// (each capital letter becomes '!' and its lower case).
func escapeModPath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func section(b *strings.Builder, title string) {
	fmt.Fprintf(b, "\n\n%s\n%s\n\n", title, strings.Repeat("=", len(title)))
}

// MakeNotices writes the third-party notices: the libvips bundle's libraries
// and licences with what the LGPL lets the user do, every Go module compiled
// into a shipped binary with its licence text, Go's own licence, and the
// full texts of the LGPL-3.0 and of the GPL-3.0 it builds on.
func MakeNotices(n Notices) ([]byte, error) {
	mods := map[string]string{} // path@version → path in the module cache
	for _, bin := range n.Binaries {
		bi, err := buildinfo.ReadFile(bin)
		if err != nil {
			return nil, fmt.Errorf("%s: no Go build information: %v", bin, err)
		}
		for _, d := range bi.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			mods[d.Path+"@"+d.Version] = filepath.Join(n.ModCache, escapeModPath(d.Path)+"@"+escapeModPath(d.Version))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Image Diet helper (imgdiet-host) %s: third-party notices\n\n", n.Version)
	b.WriteString(`The Image Diet helper is built with Go and links the libraries below. Each is
used under the licence shown with it; the full texts follow.`)

	section(&b, "1. libvips and the libraries built into it")
	b.WriteString(`libvips and the libraries it is built with come from sharp's prebuilt libvips
bundles (sharp-libvips). They are shipped as a separate shared library beside
the helper: lib/libvips-cpp.so.* on Linux, libvips-42.dll on Windows.

libvips is licensed under the GNU Lesser General Public License, version 3 or
later (LGPL-3.0-or-later), as are several of the libraries built into it. You
may replace that library with your own build of libvips of the same version
and interface: put it in place of the shipped file and the helper loads it.
The source code of libvips is at https://github.com/libvips/libvips and the
scripts that built this bundle, with the exact source versions, are at
https://github.com/lovell/sharp-libvips (see the version in the helper's SBOM).
The full texts of the LGPL-3.0 and of the GPL-3.0 it supplements are in
sections 4 and 5.
`)
	files := make([]string, 0, len(n.BundleReadmes))
	for f := range n.BundleReadmes {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(n.BundleReadmes[f])
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "\n--- The bundle's own notice, for %s ---\n\n%s\n", f, strings.TrimSpace(string(data)))
	}

	section(&b, "2. Go modules compiled into the helper")
	keys := make([]string, 0, len(mods))
	for k := range mods {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		text, err := readLicence(mods[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %v", k, err)
		}
		fmt.Fprintf(&b, "--- %s ---\n\n%s\n\n", k, strings.TrimSpace(text))
	}

	section(&b, "3. The Go standard library and runtime")
	text, err := os.ReadFile(filepath.Join(n.GoRoot, "LICENSE"))
	if err != nil {
		return nil, err
	}
	b.WriteString(strings.TrimSpace(string(text)) + "\n")

	for _, l := range []struct{ title, path string }{
		{"4. GNU Lesser General Public License, version 3", n.LGPL},
		{"5. GNU General Public License, version 3", n.GPL},
	} {
		section(&b, l.title)
		text, err := os.ReadFile(l.path)
		if err != nil {
			return nil, err
		}
		b.WriteString(strings.TrimSpace(string(text)) + "\n")
	}
	return []byte(b.String()), nil
}

// readLicence returns the licence text in a module's folder.
func readLicence(dir string) (string, error) {
	for _, name := range licenceFiles {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			return string(data), nil
		}
	}
	return "", fmt.Errorf("no licence file in %s (is the module downloaded? go mod download)", dir)
}
