package release

import (
	"bufio"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"time"
)

// Bundle describes the libvips bundle shipped beside one helper build.
type Bundle struct {
	// Package is the npm package it comes from ("@img/sharp-libvips-linux-x64")
	// and Version that package's version.
	Package, Version string
	// Lib is the shipped library file (hashed into the SBOM).
	Lib string
	// VersionsJSON is the bundle's versions.json (library → version) and
	// README its README.md, whose table gives each library's licence.
	VersionsJSON, README string
}

// SBOM inputs: the helper binary (its Go build information lists the
// modules linked in), the target it was built for, the bundle beside it.
type SBOM struct {
	Binary, Version, GOOS, GOARCH string
	Bundle                        Bundle
	// Time is the release's time (the commit's), so that the SBOM is the
	// same each time it is made from the same commit.
	Time time.Time
}

type cdxLicense struct {
	License struct {
		ID   string `json:"id,omitempty"`
		Name string `json:"name,omitempty"`
	} `json:"license"`
}

type cdxHash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

type cdxComponent struct {
	Type       string         `json:"type"`
	BOMRef     string         `json:"bom-ref,omitempty"`
	Name       string         `json:"name"`
	Version    string         `json:"version,omitempty"`
	PURL       string         `json:"purl,omitempty"`
	Hashes     []cdxHash      `json:"hashes,omitempty"`
	Licenses   []cdxLicense   `json:"licenses,omitempty"`
	Components []cdxComponent `json:"components,omitempty"`
}

// BOM is the CycloneDX 1.5 document (the fields this project fills).
type BOM struct {
	BOMFormat    string `json:"bomFormat"`
	SpecVersion  string `json:"specVersion"`
	SerialNumber string `json:"serialNumber"`
	Version      int    `json:"version"`
	Metadata     struct {
		Timestamp string `json:"timestamp"`
		Tools     struct {
			Components []cdxComponent `json:"components"`
		} `json:"tools"`
		Component cdxComponent `json:"component"`
	} `json:"metadata"`
	Components   []cdxComponent `json:"components"`
	Dependencies []struct {
		Ref       string   `json:"ref"`
		DependsOn []string `json:"dependsOn"`
	} `json:"dependencies"`
}

func license(id, name string) []cdxLicense {
	var l cdxLicense
	l.License.ID, l.License.Name = id, name
	return []cdxLicense{l}
}

// MakeSBOM builds the CycloneDX SBOM of one helper build: the Go toolchain
// and every module linked into the binary (from its build information, so
// exactly what was compiled in), and the libvips bundle with each library
// it contains, its version and its licence as the bundle states it.
func MakeSBOM(s SBOM) (*BOM, error) {
	bi, err := buildinfo.ReadFile(s.Binary)
	if err != nil {
		return nil, fmt.Errorf("%s: no Go build information: %v", s.Binary, err)
	}
	b := &BOM{BOMFormat: "CycloneDX", SpecVersion: "1.5", Version: 1}
	b.Metadata.Timestamp = s.Time.UTC().Format(time.RFC3339)
	b.Metadata.Tools.Components = []cdxComponent{{Type: "application", Name: "imgdiet release (internal/release)", Version: s.Version}}
	qual := fmt.Sprintf("?goos=%s&goarch=%s", s.GOOS, s.GOARCH)
	b.Metadata.Component = cdxComponent{Type: "application", BOMRef: "imgdiet-host", Name: "imgdiet-host", Version: s.Version,
		PURL: "pkg:golang/" + bi.Main.Path + "@" + s.Version + qual}
	refs := []string{}
	add := func(c cdxComponent) {
		b.Components = append(b.Components, c)
		refs = append(refs, c.BOMRef)
	}
	gover := strings.TrimPrefix(bi.GoVersion, "go")
	add(cdxComponent{Type: "library", BOMRef: "pkg:golang/stdlib@" + gover, Name: "stdlib", Version: gover,
		PURL: "pkg:golang/stdlib@" + gover, Licenses: license("BSD-3-Clause", "")})
	deps := append([]*debug.Module(nil), bi.Deps...)
	sort.Slice(deps, func(i, j int) bool { return deps[i].Path < deps[j].Path })
	for _, d := range deps {
		if d.Replace != nil {
			d = d.Replace
		}
		purl := "pkg:golang/" + d.Path + "@" + d.Version
		add(cdxComponent{Type: "library", BOMRef: purl, Name: d.Path, Version: d.Version, PURL: purl})
	}
	bundle, err := bundleComponent(s.Bundle)
	if err != nil {
		return nil, err
	}
	add(bundle)
	b.Dependencies = append(b.Dependencies, struct {
		Ref       string   `json:"ref"`
		DependsOn []string `json:"dependsOn"`
	}{"imgdiet-host", refs})
	// A serial number derived from the content: the same build, the same SBOM.
	body, _ := json.Marshal(b)
	sum := sha256.Sum256(body)
	sum[6] = sum[6]&0x0f | 0x50 // a name-based UUID's version and variant bits
	sum[8] = sum[8]&0x3f | 0x80
	b.SerialNumber = fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	return b, nil
}

// bundleComponent describes the libvips bundle and the libraries in it.
func bundleComponent(bd Bundle) (cdxComponent, error) {
	vdata, err := os.ReadFile(bd.VersionsJSON)
	if err != nil {
		return cdxComponent{}, err
	}
	var versions map[string]string
	if err := json.Unmarshal(vdata, &versions); err != nil {
		return cdxComponent{}, fmt.Errorf("%s: %v", bd.VersionsJSON, err)
	}
	licences, err := readmeLicences(bd.README)
	if err != nil {
		return cdxComponent{}, err
	}
	lib, err := fileSHA256(bd.Lib)
	if err != nil {
		return cdxComponent{}, err
	}
	// purl: a scoped npm name's '@' is written %40; its '/' separates the
	// namespace from the name.
	purl := "pkg:npm/" + strings.Replace(bd.Package, "@", "%40", 1) + "@" + bd.Version
	c := cdxComponent{Type: "library", BOMRef: purl, Name: bd.Package, Version: bd.Version, PURL: purl,
		Hashes: []cdxHash{{Alg: "SHA-256", Content: lib}}, Licenses: license("LGPL-3.0-or-later", "")}
	names := make([]string, 0, len(versions))
	for n := range versions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		sub := cdxComponent{Type: "library", BOMRef: purl + "#" + n, Name: n, Version: versions[n]}
		for _, alias := range []string{n, "lib" + n, bundleAliases[n]} {
			if l, ok := licences[alias]; ok {
				sub.Licenses = license("", l)
				break
			}
		}
		c.Components = append(c.Components, sub)
	}
	return c, nil
}

// bundleAliases maps versions.json names the README spells otherwise.
var bundleAliases = map[string]string{"uhdr": "libultrahdr", "archive": "libarchive"}

var mdLink = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)

// readmeLicences reads the "| Library | Used under the terms of |" table
// of a sharp-libvips README: library → licence.
func readmeLicences(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cells := strings.Split(strings.Trim(strings.TrimSpace(sc.Text()), "|"), "|")
		if len(cells) != 2 {
			continue
		}
		name, lic := strings.TrimSpace(cells[0]), strings.TrimSpace(mdLink.ReplaceAllString(cells[1], "$1"))
		if name == "" || name == "Library" || strings.HasPrefix(name, "-") {
			continue
		}
		out[name] = lic
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no licence table", path)
	}
	return out, sc.Err()
}
