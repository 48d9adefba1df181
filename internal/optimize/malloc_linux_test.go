//go:build linux

package optimize

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rs/zerolog"
)

// TestMallocRetains checks the malloc tuning vipsrt does when the binary
// loads: repeated encodes of the same photo reuse heap pages already
// mapped, where glibc's dynamic thresholds hand codec buffers back to the
// kernel and fault them in again on the next encode. The tuning happens
// at load, so each setting runs in a child test process.
func TestMallocRetains(t *testing.T) {
	if os.Getenv("OPTIMIZE_FAULTS") != "" {
		encodeFaults(t)
		return
	}
	faults := func(env ...string) int64 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMallocRetains$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), append(env, "OPTIMIZE_FAULTS=1")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if _, v, ok := strings.Cut(l, "faults per encode: "); ok {
				if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
					return n
				}
			}
		}
		t.Fatalf("child printed no fault count:\n%s", out)
		return 0
	}
	tuned, plain := faults(), faults("IMGDIET_MALLOC_RETAIN=0")
	t.Logf("page faults per WebP encode: %d tuned, %d with glibc's dynamic thresholds", tuned, plain)
	if tuned*2 > plain {
		t.Errorf("tuned malloc: %d page faults per encode, glibc's thresholds %d: want at most half", tuned, plain)
	}
}

// encodeFaults runs the engine's fixed-quality WebP encode of a 1 MP
// photo a few times and prints the minor page faults per encode after the
// first.
func encodeFaults(t *testing.T) {
	src := encJPEG(t, photo(1200, 800, 7), 90)
	e := New(Config{Log: zerolog.Nop(), WebPEffort: 4})
	opt := Options{Formats: []string{WebP}, Quality: 80}
	encode := func() {
		rep, err := e.Optimize(context.Background(), src, opt)
		if err != nil || len(rep.Candidates) != 1 {
			t.Fatalf("Optimize: %v, %d candidates", err, len(rep.Candidates))
		}
	}
	encode()
	const n = 3
	var a, b syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &a)
	for i := 0; i < n; i++ {
		encode()
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &b)
	t.Logf("faults per encode: %d", (b.Minflt-a.Minflt)/n)
}
