package probe

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagediet/imgdiet/internal/proto"
)

var update = flag.Bool("update", false, "rewrite testdata/fuzz/FuzzRead from the test files")

// TestFuzzCorpus keeps the checked-in seed corpus in step with the test
// files (go test -run TestFuzzCorpus -args -update rewrites it).
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzRead")
	cases := readCases(t)
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, tc := range cases {
			name := strings.ReplaceAll(tc.name, " ", "_")
			data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", tc.file)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < len(cases) {
		t.Fatalf("%d seed files, want at least %d: run go test -run TestFuzzCorpus -args -update", len(entries), len(cases))
	}
}

// FuzzRead checks that Read never panics, fails only with its three
// codes, and never returns an Info outside the limits (an SVG's declared
// size is exempt: it is never rasterized).
func FuzzRead(f *testing.F) {
	for _, tc := range readCases(f) {
		f.Add(tc.file)
	}
	lim := Limits{MaxPixels: 1 << 20, MaxFrames: 50}
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := Read(b, lim)
		if err != nil {
			var pe *proto.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *proto.Error", err)
			}
			switch pe.Code {
			case proto.CodeUnsupportedFormat, proto.CodeDecodeFailed, proto.CodeTooManyPixels:
			default:
				t.Fatalf("code %q", pe.Code)
			}
			if (pe.Code == proto.CodeUnsupportedFormat) != (Sniff(b) == "") {
				t.Fatalf("code %q for sniffed format %q", pe.Code, Sniff(b))
			}
			return
		}
		if info.Format == "" || info.Format != Sniff(b) {
			t.Fatalf("format %q, sniffed %q", info.Format, Sniff(b))
		}
		if info.Width < 0 || info.Height < 0 || info.Format != SVG && (info.Width == 0 || info.Height == 0) {
			t.Fatalf("size %dx%d", info.Width, info.Height)
		}
		if info.Frames < 1 || info.Frames > lim.MaxFrames || info.Animated != (info.Frames > 1) {
			t.Fatalf("frames %d animated %v", info.Frames, info.Animated)
		}
		if info.Format != SVG && int64(info.Width)*int64(info.Height)*int64(info.Frames) > lim.MaxPixels {
			t.Fatalf("%dx%dx%d over the limit", info.Width, info.Height, info.Frames)
		}
		if info.Orientation < 1 || info.Orientation > 8 {
			t.Fatalf("orientation %d", info.Orientation)
		}
	})
}
