package svgclean

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagediet/imgdiet/internal/proto"
)

var update = flag.Bool("update", false, "rewrite testdata/fuzz/FuzzClean from the seeds")

func seeds(t testing.TB) [][]byte {
	icon, err := os.ReadFile("testdata/icon.svg")
	if err != nil {
		t.Fatal(err)
	}
	out := [][]byte{icon, []byte(billionLaughs())}
	for _, s := range []string{
		head + `<script>alert(1)</script><a xlink:href="javascript:alert(1)"><rect onclick="x()" width="5" height="5" style="fill:url(http://e.example/a#b)"/></a></svg>`,
		head + `<style>@import "x.css"; a{fill:url(#g)}</style><use href="http://e.example/s.svg#i"/><image href="data:image/png;base64,AAAA"/></svg>`,
		`<!DOCTYPE svg [<!ENTITY ns "http://www.w3.org/2000/svg">]><svg xmlns="&ns;"><!-- c --><metadata><x:y xmlns:x="urn:x"/></metadata><text>javascript&#58;</text></svg>`,
		`<svg:svg xmlns:svg="http://www.w3.org/2000/svg"><svg:g><foreignObject><h:p xmlns:h="http://www.w3.org/1999/xhtml"/></foreignObject></svg:g></svg:svg>`,
	} {
		out = append(out, []byte(s))
	}
	return out
}

// TestFuzzCorpus keeps the checked-in seed corpus in step with seeds
// (go test -run TestFuzzCorpus -args -update rewrites it).
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzClean")
	s := seeds(t)
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, b := range s {
			data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbool(%v)\n", b, i%2 == 1)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) < len(s) {
		t.Fatalf("%d seed files (%v), want %d: run go test -run TestFuzzCorpus -args -update", len(entries), err, len(s))
	}
}

// checkSafe fails unless out is well-formed XML with an svg root, no
// script text, no event handler and no reference outside the document.
func checkSafe(t *testing.T, out []byte) {
	t.Helper()
	if hasForbidden(out) {
		t.Fatalf("output has a script tag or URL:\n%s", out)
	}
	d := xml.NewDecoder(bytes.NewReader(out))
	d.Strict = true
	first := true
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("output is not well-formed: %v\n%s", err, out)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if first && (se.Name.Local != "svg" || se.Name.Space != nsSVG) {
			t.Fatalf("root %v", se.Name)
		}
		first = false
		switch strings.ToLower(se.Name.Local) {
		case "script", "foreignobject", "iframe", "embed", "object":
			t.Fatalf("element %v kept:\n%s", se.Name, out)
		}
		for _, a := range se.Attr {
			l := strings.ToLower(a.Name.Local)
			if strings.HasPrefix(l, "on") {
				t.Fatalf("attribute %v kept:\n%s", a.Name, out)
			}
			if l == "href" && !safeRef(a.Value) {
				t.Fatalf("reference %q kept:\n%s", a.Value, out)
			}
		}
	}
}

// FuzzClean checks that Clean never panics, fails only with
// decode_failed, and returns safe, well-formed SVG that it accepts again.
func FuzzClean(f *testing.F) {
	for i, s := range seeds(f) {
		f.Add(s, i%2 == 1)
	}
	f.Fuzz(func(t *testing.T, b []byte, keep bool) {
		opt := Options{KeepMetadata: keep}
		out, err := Clean(b, opt)
		if err != nil {
			var pe *proto.Error
			if !errors.As(err, &pe) || pe.Code != proto.CodeDecodeFailed {
				t.Fatalf("error %v", err)
			}
			return
		}
		checkSafe(t, out)
		again, err := Clean(out, opt)
		if err != nil {
			t.Fatalf("output rejected: %v\n%s", err, out)
		}
		checkSafe(t, again)
	})
}
