package release

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/imagediet/imgdiet/internal/install"
)

// SystemAppDir is where the packages put the helper and its lib/ folder.
const SystemAppDir = "/opt/imgdiet"

// Package describes one Linux package build.
type Package struct {
	// Version is the release version; Arch the Go architecture (amd64,
	// arm64), which nfpm names per format (amd64 → x86_64 for rpm).
	Version, Arch string
	// BinDir holds the built helper (imgdiet-host) and its lib/ folder.
	BinDir string
	// Notices is the THIRD_PARTY_NOTICES file shipped beside the helper.
	Notices string
	// ExtensionIDs are the Chrome extensions the manifests allow.
	ExtensionIDs []string
	// WorkDir receives the rendered manifests and package markers.
	WorkDir string
	// MTime is every file's time in the packages (RFC 3339, the commit's):
	// the same commit gives the same packages.
	MTime string
}

// content is one entry of nfpm's contents list.
type content struct {
	Src      string    `json:"src,omitempty"`
	Dst      string    `json:"dst"`
	Type     string    `json:"type,omitempty"`
	Packager string    `json:"packager,omitempty"`
	FileInfo *fileInfo `json:"file_info,omitempty"`
}

type fileInfo struct {
	Mode os.FileMode `json:"mode"`
}

// ownedRoots are system folders the packages put files under but never
// own: other packages (or the system) do.
var ownedRoots = map[string]bool{"/": true, "/etc": true, "/etc/opt": true, "/opt": true, "/usr": true, "/usr/lib": true, "/usr/bin": true}

// SystemManifests maps each system-wide manifest path the packages write
// (the folders each browser reads on Linux) to the browsers reading it.
// Chrome and Brave share one.
func SystemManifests() (map[string][]string, error) {
	out := map[string][]string{}
	for _, b := range install.Browsers {
		p, err := install.ManifestPath(b, "linux", true, install.Env{})
		if err != nil {
			return nil, err
		}
		out[p] = append(out[p], b)
	}
	return out, nil
}

// NfpmConfig renders the manifests and package markers into p.WorkDir and
// returns nfpm's configuration for the .deb and .rpm (JSON, which nfpm
// reads as YAML). Both list the same files; the marker's content alone
// differs, so that the helper knows which package manager repairs it.
func NfpmConfig(p Package) ([]byte, error) {
	if len(p.ExtensionIDs) == 0 {
		return nil, fmt.Errorf("no extension ID to allow")
	}
	for _, id := range p.ExtensionIDs {
		if !install.ValidExtensionID(id) {
			return nil, fmt.Errorf("%q is not an extension ID", id)
		}
	}
	// nfpm reads sources relative to its own working folder: make them absolute.
	for _, f := range []*string{&p.BinDir, &p.Notices, &p.WorkDir} {
		a, err := filepath.Abs(*f)
		if err != nil {
			return nil, err
		}
		*f = a
	}
	if err := os.MkdirAll(filepath.Join(p.WorkDir, "manifests"), 0o755); err != nil {
		return nil, err
	}
	bin := path.Join(SystemAppDir, install.BinaryName("linux"))
	cs := []content{
		{Dst: SystemAppDir, Type: "dir", FileInfo: &fileInfo{0o755}},
		{Src: filepath.Join(p.BinDir, "imgdiet-host"), Dst: bin, FileInfo: &fileInfo{0o755}},
		{Src: bin, Dst: "/usr/bin/imgdiet-host", Type: "symlink"},
		{Src: p.Notices, Dst: path.Join(SystemAppDir, "THIRD_PARTY_NOTICES.txt"), FileInfo: &fileInfo{0o644}},
	}
	libs, err := os.ReadDir(filepath.Join(p.BinDir, "lib"))
	if err != nil {
		return nil, err
	}
	cs = append(cs, content{Dst: path.Join(SystemAppDir, "lib"), Type: "dir", FileInfo: &fileInfo{0o755}})
	for _, l := range libs {
		if l.Type().IsRegular() {
			cs = append(cs, content{Src: filepath.Join(p.BinDir, "lib", l.Name()), Dst: path.Join(SystemAppDir, "lib", l.Name()), FileInfo: &fileInfo{0o644}})
		}
	}
	for _, f := range []string{"deb", "rpm"} {
		src := filepath.Join(p.WorkDir, install.PackageMarker+"."+f)
		if err := os.WriteFile(src, []byte(f+"\n"), 0o644); err != nil {
			return nil, err
		}
		cs = append(cs, content{Src: src, Dst: path.Join(SystemAppDir, install.PackageMarker), Packager: f, FileInfo: &fileInfo{0o644}})
	}
	mans, err := SystemManifests()
	if err != nil {
		return nil, err
	}
	dirs := map[string]bool{}
	for dst, browsers := range mans {
		data, err := install.RenderManifest(browsers[0], bin, p.ExtensionIDs...)
		if err != nil {
			return nil, err
		}
		src := filepath.Join(p.WorkDir, "manifests", browsers[0]+".json")
		if err := os.WriteFile(src, data, 0o644); err != nil {
			return nil, err
		}
		cs = append(cs, content{Src: src, Dst: dst, FileInfo: &fileInfo{0o644}})
		// Own the browser's folders, so that removing the package removes
		// them when nothing else is in them (rpm keeps unowned ones).
		for d := path.Dir(dst); !ownedRoots[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	var ds []string
	for d := range dirs {
		ds = append(ds, d)
	}
	sort.Strings(ds)
	for _, d := range ds {
		cs = append(cs, content{Dst: d, Type: "dir", FileInfo: &fileInfo{0o755}})
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Dst < cs[j].Dst })

	cfg := map[string]any{
		"name":        install.PackageName,
		"arch":        p.Arch,
		"platform":    "linux",
		"version":     p.Version,
		"section":     "web",
		"priority":    "optional",
		"maintainer":  "Image Diet <imagediet@imagediet.app>",
		"vendor":      "Image Diet",
		"description": "Image Diet's helper: optimizes a web page's images on this computer\nThe native-messaging helper of the Image Diet browser extension (Chrome,\nChromium, Edge, Brave, Vivaldi, Firefox). It fetches a page's images,\nre-encodes them with libvips and reports how many bytes each could lose.\nNothing is uploaded. It is registered with every browser system-wide.",
		"contents":    cs,
		"mtime":       p.MTime,
		"overrides": map[string]any{
			// The helper needs glibc 2.34 (built on Debian 12); libvips
			// needs libstdc++ (GLIBCXX_3.4.22) and libgcc_s.
			"deb": map[string]any{"depends": []string{"libc6 (>= 2.34)", "libstdc++6 (>= 6)", "libgcc-s1"}},
			"rpm": map[string]any{"depends": []string{"glibc >= 2.34", "libstdc++", "libgcc"}},
		},
		// zstd at level 19 (nfpm maps it to its best level): 12.5 MB in
		// 2.3 s of CPU per package, where nfpm's xz makes 12.4 MB in 11 s
		// and zstd's default 13.3 MB (measured here). Every system the
		// helper runs on (glibc 2.34: Debian 12, Ubuntu 22.04, Fedora 35,
		// RHEL 9) has a dpkg or rpm that reads zstd.
		"deb": map[string]any{"compression": "zstd:19"},
		"rpm": map[string]any{"compression": "zstd:19", "group": "Applications/Internet"},
	}
	return json.MarshalIndent(cfg, "", "  ")
}
