package release

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// shipped reports whether a file of the extension folder belongs in its
// zips: everything but the tests, the Node scripts that make assets, and
// the developers' README.
func shipped(rel string, d fs.DirEntry) bool {
	base := d.Name()
	switch {
	case strings.HasPrefix(base, "."):
		return false
	case d.IsDir():
		return rel != "test"
	case strings.HasSuffix(base, ".mjs"), rel == "README.md":
		return false
	}
	return true
}

// ExtensionEntries lists the extension folder's shipped files for a zip.
// The manifest's version must be version. withKey keeps the manifest's
// "key" (the unpacked zip, whose ID is then the fixed one); without it the
// manifest is the one the Chrome Web Store takes, which assigns the ID.
func ExtensionEntries(extDir, version string, withKey bool) ([]Entry, error) {
	var out []Entry
	err := filepath.WalkDir(extDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(extDir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if !shipped(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		e := Entry{Name: rel, Src: p}
		if rel == "manifest.json" {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			var m struct {
				Version string `json:"version"`
				Key     string `json:"key"`
			}
			if err := json.Unmarshal(data, &m); err != nil {
				return fmt.Errorf("extension/manifest.json: %v", err)
			}
			if m.Version != version {
				return fmt.Errorf("extension/manifest.json says version %q, the release is %q: change both together", m.Version, version)
			}
			if !withKey {
				if data, err = WithoutKey(data); err != nil {
					return err
				}
			} else if m.Key == "" {
				return fmt.Errorf("extension/manifest.json has no key: the unpacked zip would get a random ID")
			}
			e = Entry{Name: rel, Data: data}
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// WithoutKey returns the manifest without its top-level "key", the other
// members in their order, indented with two spaces.
func WithoutKey(manifest []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(manifest))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("the manifest is not a JSON object")
	}
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		k := t.(string)
		if k == "key" {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
