package svgclean

import "testing"

func TestCleanCSS(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"fill:red", "fill:red", true},
		{"fill:url(#g);stroke:blue", "fill:url(#g);stroke:blue", true},
		{"fill:orange;fill:url(http://e.example/q);stroke:blue", "fill:orange;stroke:blue", true},
		{"fill:url( 'http://e.example/a;b' ) ; stroke:red", " stroke:red", true},
		{"a{fill:url(//e.example/x)}b{fill:red}", "a{}b{fill:red}", true},
		{"a{stroke:red;fill:URL(HTTP://E.EXAMPLE/X)}", "a{stroke:red;}", true},
		{"background:url(data:image/png;base64,AAAA)", "background:url(data:image/png;base64,AAAA)", true},
		{"background:url(data:image/svg+xml,%3Csvg%3E)", "", true},
		{"@import url(x.css);a{fill:red}", "a{fill:red}", true},
		{`@import "x.css"`, "", true},
		{"fill:url(#g", "", false},
		{`fill:u\72l(http://e.example)`, "", false},
		{"width:expression(alert(1))", "", false},
		{"background:image-set('http://e.example/a.png' 1x)", "", false},
		{"background:url(JavaScript:alert(1))", "", false},
	}
	for _, tt := range tests {
		got, ok := cleanCSS(tt.in)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("cleanCSS(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSafeRef(t *testing.T) {
	tests := map[string]bool{
		"#a":                          true,
		" #a":                         true,
		"data:image/png;base64,AAAA":  true,
		"DATA:IMAGE/JPEG;base64,AAAA": true,
		"data:image/svg+xml,<svg/>":   false,
		"data:text/html,<script>":     false,
		"http://e.example/a.png":      false,
		"//e.example/a.png":           false,
		"a.png":                       false,
		"java\tscript:alert(1)":       false,
		"":                            false,
	}
	for in, want := range tests {
		if got := safeRef(in); got != want {
			t.Errorf("safeRef(%q) = %v", in, got)
		}
	}
}
