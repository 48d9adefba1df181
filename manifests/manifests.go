// Package manifests holds the native-messaging host manifest templates that
// browsers read to find the host, and renders them.
//
// chromium-family.json.tmpl serves Chrome, Chromium, Edge, Brave and Vivaldi
// (they allow extensions by origin); firefox.json.tmpl serves Firefox (it
// allows add-ons by id). Every value is written as a JSON string, so a path
// with backslashes or quotes stays valid JSON.
package manifests

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"text/template"
)

//go:embed *.tmpl
var files embed.FS

// Template names.
const (
	Chromium = "chromium-family.json.tmpl"
	Firefox  = "firefox.json.tmpl"
)

// Data fills a template. AllowedOrigins is used by the Chromium template,
// AllowedExtensions by the Firefox one.
type Data struct {
	Name              string
	Description       string
	Path              string
	AllowedOrigins    []string
	AllowedExtensions []string
}

// Manifest is a parsed native-messaging host manifest of either kind.
type Manifest struct {
	Name              string   `json:"name"`
	Description       string   `json:"description"`
	Path              string   `json:"path"`
	Type              string   `json:"type"`
	AllowedOrigins    []string `json:"allowed_origins,omitempty"`
	AllowedExtensions []string `json:"allowed_extensions,omitempty"`
}

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"json": func(s string) (string, error) {
		b, err := json.Marshal(s)
		return string(b), err
	},
}).ParseFS(files, "*.tmpl"))

// Render fills the template called name with d and returns the manifest's
// bytes. The result is checked to be valid JSON.
func Render(name string, d Data) ([]byte, error) {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, d); err != nil {
		return nil, fmt.Errorf("manifests: render %s: %w", name, err)
	}
	if !json.Valid(b.Bytes()) {
		return nil, fmt.Errorf("manifests: %s rendered invalid JSON", name)
	}
	return b.Bytes(), nil
}

// Parse reads a manifest of either kind.
func Parse(b []byte) (Manifest, error) {
	var m Manifest
	err := json.Unmarshal(b, &m)
	return m, err
}
