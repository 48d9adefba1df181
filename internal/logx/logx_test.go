package logx

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://cdn.example.com/secret/path.jpg?token=abc#f", "cdn.example.com"},
		{"http://user:pw@10.0.0.1:8080/a", "10.0.0.1"},
		{"http://[::1]:9/x", "::1"},
		{"data:image/png;base64,AAAA", "(data)"},
		{"blob:https://example.com/uuid", "(blob)"},
		{"/relative/path.png", "(unparsable)"},
		{"::not a url", "(unparsable)"},
	}
	for _, tt := range tests {
		if got := Host(tt.in); got != tt.want {
			t.Errorf("Host(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLevel(t *testing.T) {
	tests := []struct {
		level     string
		def       zerolog.Level
		wantInfo  bool
		wantError bool
	}{
		{"", zerolog.WarnLevel, false, true},
		{"debug", zerolog.WarnLevel, true, true},
		{"ERROR", zerolog.InfoLevel, false, true},
		{"bogus", zerolog.WarnLevel, false, true},
		{"disabled", zerolog.WarnLevel, false, false},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		l := New(Config{Out: &buf, Level: tt.level, Default: tt.def})
		l.Info().Msg("info-line")
		l.Error().Msg("error-line")
		if got := strings.Contains(buf.String(), "info-line"); got != tt.wantInfo {
			t.Errorf("level %q: info logged = %v, want %v", tt.level, got, tt.wantInfo)
		}
		if got := strings.Contains(buf.String(), "error-line"); got != tt.wantError {
			t.Errorf("level %q: error logged = %v, want %v", tt.level, got, tt.wantError)
		}
	}
}
