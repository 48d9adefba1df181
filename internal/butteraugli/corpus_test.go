package butteraugli

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCorpusAgreement compares Distance with the butteraugli binary on a
// directory of PNG pairs named NAME.ref.png and NAME.VARIANT.png, given in
// BUTTERAUGLI_CORPUS (skipped when unset). It reports the largest and
// median absolute and relative errors and fails past the agreement bound
// (0.02 or 1.5 %). The binary's results may be cached in the directory's
// binary.txt, one "NAME.VARIANT.png distance" a line.
func TestCorpusAgreement(t *testing.T) {
	dir := os.Getenv("BUTTERAUGLI_CORPUS")
	if dir == "" {
		t.Skip("BUTTERAUGLI_CORPUS not set")
	}
	bin := binary(t)
	cached := map[string]float64{}
	if b, err := os.ReadFile(filepath.Join(dir, "binary.txt")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) == 2 {
				if v, err := strconv.ParseFloat(f[1], 64); err == nil {
					cached[f[0]] = v
				}
			}
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.png"))
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]*Reference{}
	var abs, rel []float64
	var ours, theirs time.Duration
	binRuns := 0
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasSuffix(name, ".ref.png") {
			continue
		}
		base := name[:strings.Index(name, ".")]
		refPath := filepath.Join(dir, base+".ref.png")
		r := refs[base]
		if r == nil {
			if r, err = NewReference(readPNG(t, refPath)); err != nil {
				t.Fatal(err)
			}
			refs = map[string]*Reference{base: r} // keep one at a time
		}
		m := readPNG(t, f)
		start := time.Now()
		got, err := r.Distance(m)
		if err != nil {
			t.Fatal(err)
		}
		ours += time.Since(start)
		want, ok := cached[name]
		if !ok {
			start = time.Now()
			want = runBinary(t, bin, refPath, f)
			theirs += time.Since(start)
			binRuns++
		}
		e := math.Abs(got - want)
		abs = append(abs, e)
		rel = append(rel, e/want)
		t.Logf("%-50s binary %.6f ours %.6f", name, want, got)
		if e > 0.02 && e > 0.015*want {
			t.Errorf("%s: ours %.6f, binary %.6f", name, got, want)
		}
	}
	if len(abs) == 0 {
		t.Fatal("no pairs")
	}
	slices.Sort(abs)
	slices.Sort(rel)
	t.Logf("%d pairs: abs error max %.6f median %.6f; rel error max %.5f%% median %.5f%%; Distance %v a pair",
		len(abs), abs[len(abs)-1], abs[len(abs)/2], 100*rel[len(rel)-1], 100*rel[len(rel)/2],
		ours/time.Duration(len(abs)))
	if binRuns > 0 {
		t.Logf("binary %v a pair (PNG decoding included)", theirs/time.Duration(binRuns))
	}
}
