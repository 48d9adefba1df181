package install

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

var extIDRe = regexp.MustCompile(`^[a-p]{32}$`)

// ValidExtensionID reports whether id has the form of a Chrome extension
// ID: 32 letters from a to p.
func ValidExtensionID(id string) bool { return extIDRe.MatchString(id) }

// ExtensionIDFromKey computes the extension ID Chrome derives from the
// "key" of an extension's manifest.json (base64 of a public key's DER):
// the first 32 hex digits of its SHA-256, each digit 0-f written as a-p.
func ExtensionIDFromKey(key string) (string, error) {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(key))
	if err != nil || len(der) == 0 {
		return "", fmt.Errorf("the extension key is not valid base64")
	}
	sum := sha256.Sum256(der)
	var b strings.Builder
	for _, c := range sum[:16] {
		b.WriteByte('a' + c>>4)
		b.WriteByte('a' + c&0x0f)
	}
	return b.String(), nil
}

// ExtensionDir finds the extension/ folder of the source tree the running
// binary was built in (bin/imgdiet-host → extension/), or "" when the binary
// does not sit in a source tree.
func ExtensionDir(env Env) string {
	if env.Executable == "" {
		return ""
	}
	dir := filepath.Dir(env.Executable)
	for _, c := range []string{filepath.Join(dir, "..", "extension"), filepath.Join(dir, "extension")} {
		if st, err := os.Stat(filepath.Join(c, "manifest.json")); err == nil && st.Mode().IsRegular() {
			if abs, err := filepath.Abs(c); err == nil {
				return abs
			}
			return c
		}
	}
	return ""
}

// extensionIDFromDir reads dir/manifest.json and returns the ID its key
// gives, or "" when it has no key.
func extensionIDFromDir(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return "", err
	}
	var m struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("extension/manifest.json is not valid JSON")
	}
	if m.Key == "" {
		return "", nil
	}
	return ExtensionIDFromKey(m.Key)
}

// resolveExtensionID picks the extension ID to allow: the one given, else
// the one the source tree's extension/manifest.json fixes, else fallback
// (when valid), else DefaultExtensionID. from says where it came from.
func resolveExtensionID(given, fallback string, env Env) (id, from string, err error) {
	if given != "" {
		if !ValidExtensionID(given) {
			return "", "", fmt.Errorf("%q is not an extension ID (32 letters a to p, as shown at chrome://extensions)", given)
		}
		return given, "--extension-id", nil
	}
	if dir := ExtensionDir(env); dir != "" {
		if id, err := extensionIDFromDir(dir); err == nil && id != "" {
			return id, filepath.Join(dir, "manifest.json"), nil
		}
	}
	if ValidExtensionID(fallback) {
		return fallback, "the install record", nil
	}
	return DefaultExtensionID, "built in", nil
}
