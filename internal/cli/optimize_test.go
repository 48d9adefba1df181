package cli

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imagediet/imgdiet/internal/fetch"
	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/vipsrt"
	"github.com/rs/zerolog"
)

func TestOptimizeBudgetFlag(t *testing.T) {
	tests := []struct {
		args []string
		want time.Duration // 0: a usage error naming --budget
	}{
		{nil, 20 * time.Second},
		{[]string{"--budget", "7"}, 7 * time.Second},
		{[]string{"--budget=2.5"}, 2500 * time.Millisecond},
		{[]string{"--budget", "600"}, 600 * time.Second},
		{[]string{"--budget", "1"}, time.Second},
		{[]string{"--budget", "0"}, 0},
		{[]string{"--budget", "0.5"}, 0},
		{[]string{"--budget", "601"}, 0},
		{[]string{"--budget", "NaN"}, 0},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var budget time.Duration
			called := false
			var out, errb bytes.Buffer
			deps := func() OptimizeDeps { called = true; return OptimizeDeps{} }
			f := optimizeFlags{}
			if err := newOptimizeFlags(&f, &errb).Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			opt, err := f.options()
			if err == nil {
				budget = opt.Budget
			}
			if tt.want == 0 {
				if err == nil || !strings.Contains(err.Error(), "--budget") {
					t.Fatalf("options() = %v, want an error naming --budget", err)
				}
				// The command refuses it before starting the engine.
				args := append(append([]string{}, tt.args...), "x.jpg")
				if code := runOptimize(args, &out, &errb, deps); code != ExitUsage || called {
					t.Fatalf("exit %d (engine started: %v), want %d before any work", code, called, ExitUsage)
				}
				return
			}
			if err != nil || budget != tt.want {
				t.Fatalf("budget %v (err %v), want %v", budget, err, tt.want)
			}
		})
	}
}

// TestOptimizeJSONVerified runs the command on a real file: its JSON
// result says the answer was verified.
func TestOptimizeJSONVerified(t *testing.T) {
	vipsrt.Start(vipsrt.DefaultConfig(), zerolog.Nop())
	img := image.NewRGBA(image.Rect(0, 0, 96, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 96; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 2), uint8(y * 3), uint8((x + y) % 256), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 98}); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "a.jpg")
	if err := os.WriteFile(in, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	deps := func() OptimizeDeps {
		return OptimizeDeps{Engine: optimize.New(optimize.Config{Log: zerolog.Nop()}), Fetcher: fetch.New(fetch.DefaultConfig(), zerolog.Nop())}
	}
	var out, errb bytes.Buffer
	if code := runOptimize([]string{"--json", "--formats", "jpeg,webp", "--quality", "80", "--budget", "5", in}, &out, &errb, deps); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(out.String(), "\n", 2)[0]), &res); err != nil {
		t.Fatalf("%v in %q", err, out.String())
	}
	if res["verified"] != true || res["final"] != true {
		t.Fatalf("result %v, want final and verified", res)
	}
}
