package optimize

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/davidbyttow/govips/v2/vips"
)

// referee runs Debian's butteraugli, the independent check the targets are
// defined by, on the decoded source and the decoded candidate.
func referee(t *testing.T, src, cand []byte) float64 {
	t.Helper()
	bin, err := exec.LookPath("butteraugli")
	if err != nil {
		t.Fatal("butteraugli not found: install Debian's butteraugli package (scripts/install-deps.sh does)")
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		img, err := vips.NewImageFromBuffer(b)
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		png, _, err := img.ExportPng(&vips.PngExportParams{Compression: 1})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, png, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	out, err := exec.Command(bin, write("ref.png", src), write("cand.png", cand)).Output()
	if err != nil {
		t.Fatalf("butteraugli: %v", err)
	}
	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("butteraugli printed %q", out)
	}
	return d
}

// TestTargetsHoldForTheReferee checks automatic quality against the
// referee itself: every candidate stays within its target's butteraugli
// distance, and the search is tight (some pick lands close to the limit,
// not far below it, which would waste bytes).
func TestTargetsHoldForTheReferee(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes and runs butteraugli many times")
	}
	src := encJPEG(t, photo(320, 240, 7), 95)
	for _, tt := range []struct {
		target      string
		limit, near float64
	}{
		{"high", 1.0, 0.7},
		{"balanced", 1.4, 1.0},
	} {
		t.Run(tt.target, func(t *testing.T) {
			rep := run(t, src, Options{Formats: []string{JPEG, WebP, AVIF}, Target: tt.target})
			if len(rep.Candidates) == 0 {
				t.Fatal("no candidate")
			}
			closest := 0.0
			for _, c := range rep.Candidates {
				d := referee(t, src, c.Data)
				t.Logf("%s q%d %d bytes: butteraugli %.3f", c.Format, c.Quality, len(c.Data), d)
				if d > tt.limit {
					t.Errorf("%s q%d: butteraugli %.3f over %s's %.1f", c.Format, c.Quality, d, tt.target, tt.limit)
				}
				closest = max(closest, d)
			}
			if closest < tt.near {
				t.Errorf("closest pick at butteraugli %.3f: the search stops far below %.1f", closest, tt.limit)
			}
		})
	}
}
