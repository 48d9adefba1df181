package svgclean

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/imagediet/imgdiet/internal/proto"
)

const head = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">`

// wellFormed parses b strictly and returns its element names in order.
func wellFormed(t testing.TB, b []byte) []string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	var names []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("output is not well-formed: %v\n%s", err, b)
		}
		if se, ok := tok.(xml.StartElement); ok {
			names = append(names, se.Name.Local)
		}
	}
}

func TestCleanRemoves(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		gone  []string // must not appear, case-insensitively
		kept  []string // must appear
		extra Options
	}{
		{"script", head + `<script>alert(1)</script><rect width="5" height="5"/></svg>`,
			[]string{"<script", "alert"}, []string{"<rect"}, Options{}},
		{"script cdata", head + `<script type="text/ecmascript"><![CDATA[alert(1)]]></script><rect width="5" height="5"/></svg>`,
			[]string{"script", "alert"}, []string{"<rect"}, Options{}},
		{"script in the xhtml namespace", head + `<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script><circle r="2"/></svg>`,
			[]string{"script", "alert", "xhtml"}, []string{"<circle"}, Options{}},
		{"html in svg", head + `<h:img xmlns:h="http://www.w3.org/1999/xhtml" src="x" onerror="alert(1)"/><circle r="2"/></svg>`,
			[]string{"img", "alert", "onerror"}, []string{"<circle"}, Options{}},
		{"event handlers", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="5" height="5" onclick="alert(2)" ONMOUSEOVER="alert(3)" fill="red"/></svg>`,
			[]string{"onload", "onclick", "onmouseover", "alert"}, []string{"<rect", "red"}, Options{}},
		{"javascript href", head + `<a href="javascript:alert(1)"><rect width="5" height="5"/></a><a xlink:href=" JaVaScRiPt:alert(2)"><circle r="1"/></a><a href="java&#x9;script:alert(3)"><circle r="2"/></a></svg>`,
			[]string{"javascript", "alert", "href"}, []string{"<a", "<rect", "<circle"}, Options{}},
		{"external image", head + `<image href="http://example.com/a.png" width="5" height="5"/><image xlink:href="//example.com/b.png"/><image href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="/><image href="data:image/png;base64,iVBORw0KGgo=" width="1" height="1"/></svg>`,
			[]string{"example.com", "svg+xml"}, []string{"data:image/png;base64,iVBORw0KGgo="}, Options{}},
		{"xlink href to http", head + `<defs><path id="p" d="M0 0h5v5z"/></defs><use xlink:href="http://evil.example/x.svg#p"/><use xlink:href="#p" x="2"/></svg>`,
			[]string{"evil.example"}, []string{`xlink:href="#p"`}, Options{}},
		{"use href to http", head + `<use href="http://evil.example/sprite.svg#icon"/><use href="https://evil.example/a.svg"/></svg>`,
			[]string{"evil.example"}, []string{"<use"}, Options{}},
		{"style url", head + `<linearGradient id="g"><stop offset="0"/></linearGradient><rect width="5" height="5" style="fill:url(http://evil.example/a.svg#g);stroke:url( '#g' )"/><rect width="1" height="1" fill="url(&quot;https://evil.example/b&quot;)" stroke="url(#g)"/></svg>`,
			[]string{"evil.example"}, []string{"url(#g)", "<rect"}, Options{}},
		{"style element", head + `<style>@import url(http://evil.example/a.css); @import "http://evil.example/b.css"; rect { fill: url(http://evil.example/c.svg#x); stroke: url(#g) } circle { fill: blue }</style><rect width="5" height="5"/></svg>`,
			[]string{"evil.example", "@import"}, []string{"url(#g)", "circle{fill:", "<style"}, Options{}},
		{"style escapes", head + `<style>rect { background: \75 rl(http://evil.example/x) }</style><rect width="5" height="5"/></svg>`,
			[]string{"evil.example", "<style"}, []string{"<rect"}, Options{}},
		{"style javascript", head + `<rect width="5" height="5" style="background:url(javascript:alert(1))"/></svg>`,
			[]string{"javascript", "alert", "style"}, []string{"<rect"}, Options{}},
		{"embedded documents", head + `<foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml"><iframe src="http://evil.example/"/></div></foreignObject><iframe src="x"/><embed src="x"/><object data="x"/><rect width="5" height="5"/></svg>`,
			[]string{"foreignobject", "iframe", "embed", "object", "evil.example"}, []string{"<rect"}, Options{}},
		{"animated href", head + `<a><set attributeName="href" to="javascript:alert(1)"/><animate attributeName="xlink:href" values="http://evil.example/"/><animate attributeName="opacity" from="0" to="1" dur="1s"/><rect width="5" height="5"/></a></svg>`,
			[]string{"javascript", "evil.example", "<set"}, []string{"<animate", "opacity"}, Options{}},
		{"declarations and instructions", `<?xml version="1.0"?><?xml-stylesheet href="http://evil.example/a.css" type="text/css"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg xmlns="http://www.w3.org/2000/svg"><rect width="5" height="5"/></svg>`,
			[]string{"evil.example", "<?", "doctype", "w3.org/Graphics"}, []string{"<rect"}, Options{}},
		{"xml:base", `<svg xmlns="http://www.w3.org/2000/svg" xml:base="http://evil.example/"><rect width="5" height="5"/></svg>`,
			[]string{"evil.example", "xml:base"}, []string{"<rect"}, Options{}},
		{"style in kept metadata", `<svg xmlns="http://www.w3.org/2000/svg"><metadata><style>rect{fill:url(http://evil.example/a#b)}</style><desc>kept</desc></metadata><rect width="5" height="5"/></svg>`,
			[]string{"evil.example", "<style"}, []string{"<metadata><desc>kept</desc></metadata>", "<rect"}, Options{KeepMetadata: true}},
		{"metadata comments editors", `<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd" inkscape:version="1.2"><!-- a comment --><metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></metadata><sodipodi:namedview id="n"/><g inkscape:label="Layer"><rect width="5" height="5"/></g></svg>`,
			[]string{"comment", "metadata", "rdf", "inkscape", "sodipodi"}, []string{"<g><rect"}, Options{}},
		{"metadata comments editors kept", `<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd" inkscape:version="1.2"><!-- a comment --><metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" onload="alert(1)"/></metadata><sodipodi:namedview id="n"/><g inkscape:label="Layer"><rect width="5" height="5"/></g></svg>`,
			[]string{"alert"}, []string{"a comment", "<metadata>", "<rdf:RDF", `inkscape:label="Layer"`, "<sodipodi:namedview"}, Options{KeepMetadata: true}},
		{"javascript text", head + `<text x="1" y="5">javascript:alert(1) &lt;script&gt;</text></svg>`,
			[]string{"javascript:", "<script"}, []string{"<text", "javascript&#58;alert(1)"}, Options{}},
		{"illustrator entities", `<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [
	<!ENTITY ns_svg "http://www.w3.org/2000/svg">
	<!ENTITY ns_xlink "http://www.w3.org/1999/xlink">
	<!ENTITY st0 "fill:#F00;">
]><svg version="1.1" xmlns="&ns_svg;" xmlns:xlink="&ns_xlink;"><rect style="&st0;" width="5" height="5"/></svg>`,
			[]string{"entity", "doctype", "&ns_svg"}, []string{"<rect", "fill:red"}, Options{}},
		{"greater-than in text", head + `<text>a &gt; b, c > d, ]]&gt;</text><style>rect>g{fill:red}</style><rect width="5" height="5"/></svg>`,
			[]string{"&gt<"}, []string{"<text", "<rect"}, Options{}},
		{"no namespace", `<svg width="10" height="10"><rect width="5" height="5"/></svg>`,
			[]string{}, []string{`xmlns="http://www.w3.org/2000/svg"`, "<rect"}, Options{}},
		{"svg prefix", `<svg:svg xmlns:svg="http://www.w3.org/2000/svg"><svg:rect width="5" height="5"/></svg:svg>`,
			[]string{"svg:"}, []string{"<rect"}, Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Clean([]byte(tt.in), tt.extra)
			if err != nil {
				t.Fatalf("Clean: %v", err)
			}
			wellFormed(t, out)
			low := strings.ToLower(string(out))
			for _, g := range tt.gone {
				if strings.Contains(low, strings.ToLower(g)) {
					t.Errorf("output has %q:\n%s", g, out)
				}
			}
			for _, k := range tt.kept {
				if !strings.Contains(string(out), k) {
					t.Errorf("output lacks %q:\n%s", k, out)
				}
			}
		})
	}
}

func errCode(err error) string {
	var pe *proto.Error
	if !errors.As(err, &pe) {
		return "not a *proto.Error"
	}
	return pe.Code
}

func billionLaughs() string {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\"?>\n<!DOCTYPE svg [\n<!ENTITY lol \"lol\">\n")
	prev := "lol"
	for i := 1; i <= 9; i++ {
		name := "lol" + string(rune('0'+i))
		b.WriteString("<!ENTITY " + name + " \"" + strings.Repeat("&"+prev+";", 10) + "\">\n")
		prev = name
	}
	b.WriteString("]>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><text>&lol9;</text></svg>")
	return b.String()
}

func TestCleanRejects(t *testing.T) {
	nest := func(n int) string {
		return `<svg xmlns="http://www.w3.org/2000/svg">` + strings.Repeat("<g>", n) + strings.Repeat("</g>", n) + "</svg>"
	}
	big := `<svg xmlns="http://www.w3.org/2000/svg"><desc>` + strings.Repeat("x", MaxSize) + `</desc></svg>`
	quadratic := `<!DOCTYPE svg [<!ENTITY a "` + strings.Repeat("a", 1000) + `">]><svg xmlns="http://www.w3.org/2000/svg"><text>` +
		strings.Repeat("&a;", 2000) + `</text></svg>`
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"text", "hello"},
		{"html", `<html><body><svg></svg></body></html>`},
		{"other namespace root", `<svg xmlns="http://example.com/not-svg"/>`},
		{"unclosed", `<svg xmlns="http://www.w3.org/2000/svg"><g></svg>`},
		{"truncated", `<svg xmlns="http://www.w3.org/2000/svg"><rect width="5"`},
		{"unquoted attribute", `<svg xmlns="http://www.w3.org/2000/svg"><rect width=5/></svg>`},
		{"two roots", `<svg xmlns="http://www.w3.org/2000/svg"/><svg xmlns="http://www.w3.org/2000/svg"/>`},
		{"text after root", `<svg xmlns="http://www.w3.org/2000/svg"/>trailing`},
		{"billion laughs", billionLaughs()},
		{"quadratic blowup", quadratic},
		{"external entity", `<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>`},
		{"parameter entity", `<!DOCTYPE svg [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]><svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>`},
		{"unknown entity", `<svg xmlns="http://www.w3.org/2000/svg"><text>&nbsp;</text></svg>`},
		{"deep nesting", nest(MaxDepth)},
		{"too large", big},
		{"utf-16", "\xff\xfe<\x00s\x00v\x00g\x00/\x00>\x00"},
		{"unknown charset", `<?xml version="1.0" encoding="koi8-r"?><svg xmlns="http://www.w3.org/2000/svg"/>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			out, err := Clean([]byte(tt.in), Options{})
			if err == nil {
				t.Fatalf("Clean succeeded:\n%.300s", out)
			}
			if c := errCode(err); c != proto.CodeDecodeFailed {
				t.Fatalf("code %q (%v)", c, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
	if _, err := Clean([]byte(nest(MaxDepth-1)), Options{}); err != nil {
		t.Fatalf("nesting of %d: %v", MaxDepth-1, err)
	}
}

func TestCleanLatin1(t *testing.T) {
	in := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><title>caf\xe9</title></svg>"
	out, err := Clean([]byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "café") {
		t.Fatalf("output %s", out)
	}
}

// TestCleanIcon cleans an Inkscape-saved icon: it must shrink, keep every
// shape and the gradient it uses, and lose the editor data.
func TestCleanIcon(t *testing.T) {
	in, err := os.ReadFile("testdata/icon.svg")
	if err != nil {
		t.Fatal(err)
	}
	out, err := Clean(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("icon: %d -> %d bytes (%.0f%% smaller)", len(in), len(out), 100-100*float64(len(out))/float64(len(in)))
	if len(out) > len(in)/2 {
		t.Errorf("output %d bytes, want at most half of %d", len(out), len(in))
	}
	names := strings.Join(wellFormed(t, out), " ")
	if want := "svg defs linearGradient stop stop linearGradient g path rect circle"; names != want {
		t.Errorf("elements %q, want %q\n%s", names, want, out)
	}
	for _, k := range []string{`xlink:href="#linearGradient1530"`, "url(#linearGradient1532)", `viewBox="0 0 48 48"`, "M24 4 4 22h6V44H20V32h8V44H38V22h6z"} {
		if !strings.Contains(string(out), k) {
			t.Errorf("output lacks %q:\n%s", k, out)
		}
	}
	for _, g := range []string{"inkscape", "sodipodi", "metadata", "rdf", "Created with"} {
		if strings.Contains(string(out), g) {
			t.Errorf("output has %q", g)
		}
	}
	kept, err := Clean(in, Options{KeepMetadata: true})
	if err != nil {
		t.Fatal(err)
	}
	wellFormed(t, kept)
	for _, k := range []string{"<metadata", "<dc:title>Home</dc:title>", "inkscape:label=", "<sodipodi:namedview", "Created with Inkscape"} {
		if !strings.Contains(string(kept), k) {
			t.Errorf("KeepMetadata output lacks %q:\n%s", k, kept)
		}
	}
	if len(kept) <= len(out) {
		t.Errorf("KeepMetadata output %d bytes, not more than %d", len(kept), len(out))
	}
}

func TestCleanBillionLaughsFast(t *testing.T) {
	in := []byte(billionLaughs())
	start := time.Now()
	for range 100 {
		if _, err := Clean(in, Options{}); err == nil {
			t.Fatal("accepted")
		}
	}
	t.Logf("billion laughs rejected in %v each", time.Since(start)/100)
}

func BenchmarkClean(b *testing.B) {
	icon, err := os.ReadFile("testdata/icon.svg")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(icon)))
	for b.Loop() {
		if _, err := Clean(icon, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
