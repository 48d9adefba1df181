package optimize

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
)

// fuzzSeed reads a seed file of go test's fuzz corpus format holding one
// []byte.
func fuzzSeed(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, lit, _ := strings.Cut(strings.TrimSpace(string(b)), "[]byte(")
	s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(s)
}

// TestAnimationsKeptAsIs: animated PNGs (blend and dispose operations,
// 16-bit) and an AVIF image sequence are valid files; they come back
// without an error, with no candidate, and with a sentence saying why
// they are kept, never as decode_failed.
func TestAnimationsKeptAsIs(t *testing.T) {
	apng8, err := os.ReadFile("../probe/testdata/apng-blend-dispose.png")
	if err != nil {
		t.Fatal(err)
	}
	apng16, err := os.ReadFile("../probe/testdata/apng-16bit.png")
	if err != nil {
		t.Fatal(err)
	}
	avis := fuzzSeed(t, "../probe/testdata/fuzz/FuzzRead/avif_sequence")
	e := New(Config{})
	for _, tt := range []struct {
		name   string
		src    []byte
		format string
	}{
		{"apng", apng8, PNG},
		{"apng 16-bit", apng16, PNG},
		{"avif sequence", avis, AVIF},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := e.Optimize(context.Background(), tt.src, Options{Formats: []string{JPEG, PNG, WebP, AVIF}})
			if err != nil {
				t.Fatalf("error %v, want the image kept", err)
			}
			if !rep.Source.Animated || rep.Source.Format != tt.format || rep.Best != nil || len(rep.Candidates) != 0 {
				t.Fatalf("source %+v, best %v, %d candidates", rep.Source, rep.Best, len(rep.Candidates))
			}
			if len(rep.Skipped) != 1 || rep.Skipped[0].Format != tt.format || !strings.Contains(rep.Skipped[0].Reason, "kept as they are") {
				t.Fatalf("skipped %+v, want one reason", rep.Skipped)
			}
		})
	}
}
