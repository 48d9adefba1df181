package cli

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestMain(t *testing.T) {
	ran := ""
	app := &App{
		Commands: map[string]Command{
			"echo": {Summary: "echo args", Run: func(args []string, stdout, stderr io.Writer) int {
				ran = strings.Join(args, ",")
				return 7
			}},
		},
		Version: func() []string { return []string{"libvips 8.18.7"} },
	}
	tests := []struct {
		args               []string
		code               int
		inStdout, inStderr string
		ran                string
	}{
		{nil, ExitUsage, "", "Usage:", ""},
		{[]string{"--help"}, ExitOK, "echo args", "", ""},
		{[]string{"version"}, ExitOK, "libvips 8.18.7", "", ""},
		{[]string{"--bogus"}, ExitUsage, "", `unknown command or argument "--bogus"`, ""},
		{[]string{"echo", "a", "b"}, 7, "", "", "a,b"},
	}
	for _, tt := range tests {
		ran = ""
		var out, errb bytes.Buffer
		code := app.Main(tt.args, &out, &errb)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d", tt.args, code, tt.code)
		}
		if !strings.Contains(out.String(), tt.inStdout) || !strings.Contains(errb.String(), tt.inStderr) {
			t.Errorf("%v: stdout %q stderr %q", tt.args, out.String(), errb.String())
		}
		if ran != tt.ran {
			t.Errorf("%v: ran %q, want %q", tt.args, ran, tt.ran)
		}
	}
}
