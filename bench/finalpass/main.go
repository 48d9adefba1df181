// Command finalpass measures the CPU time of the engine's final pass, one
// image at a time, for the benchmark's search overhead (scripts/bench.sh,
// section overhead). It uses only the engine's API as it stood before the
// search was rebuilt (commit d30b185), so that the same program built
// against that tree gives the "before" column:
//
//	finalpass -display W FILE...
//
// For each file, as a scan does: a fast pass (SkipSlow) with every format,
// then the final pass (butteraugli-verified) given the fast candidates as
// Previous. getrusage(RUSAGE_SELF) is read around the final pass alone; the
// process does nothing else meanwhile. One JSON line per file on stdout:
// the times and the final candidates without their bytes (each with its
// size and SHA-256, and, where the engine names them, the Encoding and
// Effort that made it).
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/vipsrt"
)

// line is one file's measurement.
type line struct {
	File        string            `json:"file"`
	FastCPUMs   float64           `json:"fastCpuMs"`
	FinalCPUMs  float64           `json:"finalCpuMs"`
	FinalWallMs float64           `json:"finalWallMs"`
	Candidates  []json.RawMessage `json:"candidates"`
	Error       string            `json:"error,omitempty"`
}

func main() {
	display := flag.Float64("display", 640, "display width in CSS pixels (DPR 1)")
	flag.Parse()
	log := zerolog.New(os.Stderr).Level(zerolog.WarnLevel)
	vipsrt.Start(vipsrt.DefaultConfig(), log) // as the host: threads = cores
	eng := optimize.New(optimize.Config{Log: log})
	out := json.NewEncoder(os.Stdout)
	for _, f := range flag.Args() {
		l, err := measure(eng, f, *display)
		if err != nil {
			l.Error = err.Error()
		}
		if err := out.Encode(l); err != nil {
			os.Exit(1)
		}
	}
}

func measure(eng *optimize.Engine, file string, display float64) (line, error) {
	l := line{File: filepath.Base(file)}
	src, err := os.ReadFile(file)
	if err != nil {
		return l, err
	}
	opt := optimize.Options{Formats: []string{"jpeg", "png", "webp", "avif"}, Target: "balanced",
		Resize: true, DisplayWidth: display, DPR: 1}
	ctx := context.Background()
	fast := opt
	fast.SkipSlow = true
	c0 := cpu()
	r, err := eng.Optimize(ctx, src, fast)
	if err != nil {
		return l, err
	}
	l.FastCPUMs = ms(cpu() - c0)
	opt.Previous = r.Candidates
	runtime.GC() // outside the measured region
	c0, t0 := cpu(), time.Now()
	r, err = eng.Optimize(ctx, src, opt)
	l.FinalWallMs, l.FinalCPUMs = ms(time.Since(t0)), ms(cpu()-c0)
	if err != nil {
		return l, err
	}
	for _, c := range r.Candidates {
		sum, n := sha256.Sum256(c.Data), len(c.Data)
		c.Data = nil
		b, err := json.Marshal(c)
		if err != nil {
			return l, err
		}
		// The candidate's own fields (Encoding and Effort where this tree
		// has them) plus its size and digest.
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return l, err
		}
		m["bytes"], m["sum"] = n, hex.EncodeToString(sum[:])
		if b, err = json.Marshal(m); err != nil {
			return l, fmt.Errorf("candidate: %w", err)
		}
		l.Candidates = append(l.Candidates, b)
	}
	return l, nil
}

// cpu is the process's user + system time so far, every thread.
func cpu() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
