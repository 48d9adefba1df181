package fetch

import (
	"errors"
	"strings"
	"testing"

	"github.com/imagediet/imgdiet/internal/proto"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		raw  string
		want string // normalized URL; "" means bad_url
	}{
		{"http://example.com/a.png", "http://example.com/a.png"},
		{"HTTPS://Example.COM:443/a.png?x=1#f", "https://example.com:443/a.png?x=1#f"},
		{"http://example.com.:8080/", "http://example.com.:8080/"},
		{"http://cdn_1.example.com/", "http://cdn_1.example.com/"},
		{"http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"},
		{"http://[::1]:8080/x", "http://[::1]:8080/x"},
		{"http://[::ffff:127.0.0.1]/", "http://[::ffff:127.0.0.1]/"},
		{"http://example.com:/", "http://example.com/"},
		{"http://example.com:0080/", "http://example.com:80/"},

		// IPv4 spellings a browser reads as an address.
		{"http://2130706433/", "http://127.0.0.1/"},
		{"http://0x7f.1/", "http://127.0.0.1/"},
		{"http://017700000001/", "http://127.0.0.1/"},
		{"http://0x7f000001/", "http://127.0.0.1/"},
		{"http://0177.0.0.1/", "http://127.0.0.1/"},
		{"http://127.1/", "http://127.0.0.1/"},
		{"http://127.0.1/", "http://127.0.0.1/"},
		{"http://127.0.0.1./", "http://127.0.0.1/"},
		{"http://0/", "http://0.0.0.0/"},
		{"http://0x/", "http://0.0.0.0/"},
		{"http://0xA9.0xFE.0xA9.0xFE/", "http://169.254.169.254/"},
		{"http://2852039166/", "http://169.254.169.254/"},
		{"http://0127.0.0.1/", "http://87.0.0.1/"},

		// Not fetchable.
		{"", ""},
		{"file:///etc/passwd", ""},
		{"ftp://example.com/a.png", ""},
		{"chrome://settings/", ""},
		{"chrome-extension://abc/x.png", ""},
		{"javascript:alert(1)", ""},
		{"data:image/png;base64,iVBORw0KGgo=", ""},
		{"blob:https://example.com/uuid", ""},
		{"ws://example.com/", ""},
		{"mailto:a@example.com", ""},
		{"/relative.png", ""},
		{"//example.com/a.png", ""},
		{"http:example.com", ""},
		{"http:/example.com", ""},
		{"http://", ""},
		{"http:///a.png", ""},
		{"http://user:pass@example.com/", ""},
		{"http://user@example.com/", ""},
		{"http://@example.com/", ""},
		{"http://user:pass@127.0.0.1/", ""},
		{"http://example.com:0/", ""},
		{"http://example.com:65536/", ""},
		{"http://example.com:8x/", ""},
		{"http://bücher.example/", ""},
		{"http://exa mple.com/", ""},
		{"http://a..b/", ""},
		{"http://.example.com/", ""},
		{"http://1.2.3.4.5/", ""},
		{"http://256.0.0.1/", ""},
		{"http://example.123/", ""},
		{"http://4294967296/", ""},
		{"http://0x100000000/", ""},
		{"http://08.0.0.1/", ""},
		{"http://[127.0.0.1]/", ""},
		{"http://%31%32%37.0.0.1/", ""}, // escaped host: refused rather than guessed
		{"http://[fe80::1%25eth0]/", ""},
		{"http://" + strings.Repeat("a", 64) + ".com/", ""},
	}
	for _, tt := range tests {
		u, err := CheckURL(tt.raw)
		if tt.want == "" {
			var pe *proto.Error
			if !errors.As(err, &pe) || pe.Code != proto.CodeBadURL {
				t.Errorf("CheckURL(%q) = %v, %v; want bad_url", tt.raw, u, err)
			} else if strings.Contains(pe.Message, "://") {
				t.Errorf("CheckURL(%q) message names a URL: %q", tt.raw, pe.Message)
			}
			continue
		}
		if err != nil {
			t.Errorf("CheckURL(%q): %v", tt.raw, err)
			continue
		}
		if got := u.String(); got != tt.want {
			t.Errorf("CheckURL(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestOriginOf(t *testing.T) {
	tests := []struct {
		page, want string
		https      bool
	}{
		{"https://example.com/path/page.html?q=secret#frag", "https://example.com/", true},
		{"https://Example.com:443/x", "https://example.com/", true},
		{"http://example.com:80/x", "http://example.com/", false},
		{"http://127.0.0.1:8080/a/b?c", "http://127.0.0.1:8080/", false},
		{"http://[::1]:9000/", "http://[::1]:9000/", false},
		{"http://user:pw@example.com/x", "", false},
		{"file:///home/me/page.html", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, https := originOf(tt.page)
		if got != tt.want || https != tt.https {
			t.Errorf("originOf(%q) = %q, %v; want %q, %v", tt.page, got, https, tt.want, tt.https)
		}
	}
}
