package butteraugli

import (
	"image"
	"image/color"
	"math"
	"math/rand"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imagediet/imgdiet/internal/metric"
)

// scene draws a w×h test picture with real structure: a colour gradient,
// hard-edged shapes, rows of text-like strokes, a fine texture and noise.
// With alpha, the picture fades out towards the right and has a hole.
func scene(w, h int, seed int64, alpha bool) *image.NRGBA {
	r := rand.New(rand.NewSource(seed))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	type rect struct {
		x0, y0, x1, y1 int
		c              [3]float64
	}
	var shapes []rect
	for range 6 {
		x, y := r.Intn(w), r.Intn(h)
		shapes = append(shapes, rect{x, y, x + w/8 + r.Intn(w/4+1), y + h/8 + r.Intn(h/4+1),
			[3]float64{r.Float64(), r.Float64(), r.Float64()}})
	}
	phase := r.Float64() * 6
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			c := [3]float64{0.2 + 0.6*fx, 0.3 + 0.4*fy, 0.8 - 0.5*fx*fy}
			for _, s := range shapes {
				if x >= s.x0 && x < s.x1 && y >= s.y0 && y < s.y1 {
					c = s.c
				}
			}
			// Text-like strokes in a band across the middle.
			if y > h*2/5 && y < h*3/5 && (y/2)%6 < 4 && ((x/3)*7+(y/12)*3)%5 < 2 {
				c = [3]float64{0.05, 0.05, 0.1}
			}
			tex := 0.05 * math.Sin(float64(x)*0.9+phase) * math.Cos(float64(y)*0.7)
			var px [4]uint8
			for i, v := range c {
				v = (v+tex)*255 + r.NormFloat64()*4
				px[i] = uint8(max(0, min(255, math.Round(v))))
			}
			px[3] = 255
			if alpha {
				a := 255 * (1.2 - 1.2*fx)
				if math.Hypot(fx-0.3, fy-0.5) < 0.12 {
					a = 0
				}
				px[3] = uint8(max(0, min(255, math.Round(a))))
			}
			img.SetNRGBA(x, y, color.NRGBA{px[0], px[1], px[2], px[3]})
		}
	}
	return img
}

// noisy returns m with deterministic noise of amplitude k added to its
// colour bands.
func noisy(m metric.Image, k float64, seed int64) metric.Image {
	r := rand.New(rand.NewSource(seed))
	out := metric.Image{Pix: make([]byte, len(m.Pix)), Width: m.Width, Height: m.Height, Bands: m.Bands}
	for i, v := range m.Pix {
		if m.Bands == 4 && i%4 == 3 {
			out.Pix[i] = v
			continue
		}
		out.Pix[i] = uint8(max(0, min(255, math.Round(float64(v)+k*r.NormFloat64()))))
	}
	return out
}

func distance(t *testing.T, ref, m metric.Image) float64 {
	t.Helper()
	r, err := NewReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	d, err := r.Distance(m)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestIdentical(t *testing.T) {
	for _, tc := range []struct {
		name  string
		w, h  int
		alpha bool
	}{
		{"rgb", 96, 64, false},
		{"rgba", 96, 64, true},
		{"8x8", 8, 8, false},
		{"odd", 37, 23, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := fromImage(scene(tc.w, tc.h, 1, tc.alpha))
			if d := distance(t, m, m); d != 0 {
				t.Errorf("distance to itself %v, want 0", d)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	m := fromImage(scene(32, 24, 1, false))
	r, err := NewReference(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		m    metric.Image
	}{
		{"wider", fromImage(scene(33, 24, 1, false))},
		{"taller", fromImage(scene(32, 25, 1, false))},
		{"bands", metric.Image{Pix: make([]byte, 32*24), Width: 32, Height: 24, Bands: 1}},
		{"short", metric.Image{Pix: make([]byte, 10), Width: 32, Height: 24, Bands: 3}},
		{"empty", metric.Image{Bands: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.Distance(tc.m); err == nil {
				t.Error("no error")
			}
		})
	}
	if _, err := NewReference(metric.Image{Pix: make([]byte, 4), Width: 2, Height: 2, Bands: 1}); err == nil {
		t.Error("NewReference accepted 1 band")
	}
	if r.Width() != 32 || r.Height() != 24 {
		t.Errorf("size %d×%d, want 32×24", r.Width(), r.Height())
	}
}

func TestTiny(t *testing.T) {
	for _, s := range [][2]int{{7, 20}, {20, 7}, {8, 8}, {10, 10}, {1, 1}} {
		a, b := fromImage(scene(s[0], s[1], 1, false)), fromImage(scene(s[0], s[1], 2, false))
		if d := distance(t, a, b); d != 0 {
			t.Errorf("%d×%d: distance %v, want 0 as the binary", s[0], s[1], d)
		}
	}
}

func TestMonotonic(t *testing.T) {
	ref := fromImage(scene(128, 96, 3, false))
	r, err := NewReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	prev := 0.0
	for _, k := range []float64{0.5, 1, 2, 4, 8, 16, 32} {
		d, err := r.Distance(noisy(ref, k, 7))
		if err != nil {
			t.Fatal(err)
		}
		if d <= prev {
			t.Errorf("noise %v: distance %v, not above %v", k, d, prev)
		}
		prev = d
	}
}

func TestAlpha(t *testing.T) {
	rgba := fromImage(scene(96, 64, 4, true))
	// Pixels that are fully transparent in both images do not count,
	// whatever colour they hide.
	hidden := metric.Image{Pix: append([]byte(nil), rgba.Pix...), Width: rgba.Width, Height: rgba.Height, Bands: 4}
	changed := 0
	for i := 0; i < len(hidden.Pix); i += 4 {
		if hidden.Pix[i+3] == 0 {
			hidden.Pix[i], hidden.Pix[i+1], hidden.Pix[i+2] = 255-hidden.Pix[i], 0, 255
			changed++
		}
	}
	if changed == 0 {
		t.Fatal("scene has no transparent pixel")
	}
	if d := distance(t, rgba, hidden); d != 0 {
		t.Errorf("colour under alpha 0 changed the distance to %v", d)
	}

	// An opaque RGBA image compares as its RGB bands.
	rgb := fromImage(scene(96, 64, 5, false))
	opaque := metric.Image{Pix: make([]byte, 0, 4*96*64), Width: 96, Height: 64, Bands: 4}
	for i := 0; i < len(rgb.Pix); i += 3 {
		opaque.Pix = append(opaque.Pix, rgb.Pix[i], rgb.Pix[i+1], rgb.Pix[i+2], 255)
	}
	n := noisy(rgb, 6, 1)
	if a, b := distance(t, rgb, n), distance(t, opaque, n); a != b || a == 0 {
		t.Errorf("opaque RGBA reference: %v, RGB: %v", b, a)
	}

	// With alpha the distance is the larger of the distances over a black
	// and over a white background.
	dist := noisy(rgba, 6, 2)
	over := func(m metric.Image, bg int) metric.Image {
		o := metric.Image{Pix: make([]byte, 0, 3*m.Width*m.Height), Width: m.Width, Height: m.Height, Bands: 3}
		for i := 0; i < len(m.Pix); i += 4 {
			a := int(m.Pix[i+3])
			for c := range 3 {
				o.Pix = append(o.Pix, byte((int(m.Pix[i+c])*a+bg*(255-a)+127)/255))
			}
		}
		return o
	}
	black := distance(t, over(rgba, 0), over(dist, 0))
	white := distance(t, over(rgba, 255), over(dist, 255))
	if black == white {
		t.Fatalf("backgrounds give the same distance %v; the test needs them to differ", black)
	}
	if d := distance(t, rgba, dist); d != max(black, white) {
		t.Errorf("RGBA distance %v, want max(black %v, white %v)", d, black, white)
	}
}

func TestConcurrent(t *testing.T) {
	ref := fromImage(scene(80, 60, 6, false))
	r, err := NewReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	imgs := make([]metric.Image, 6)
	want := make([]float64, len(imgs))
	for i := range imgs {
		imgs[i] = noisy(ref, float64(2+i), int64(i))
		if want[i], err = r.Distance(imgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 3 {
		for i := range imgs {
			wg.Go(func() {
				if got, err := r.Distance(imgs[i]); err != nil || got != want[i] {
					t.Errorf("image %d: concurrent distance %v (%v), sequential %v", i, got, err, want[i])
				}
			})
		}
	}
	wg.Wait()
}

func BenchmarkDistance(b *testing.B) { benchDistance(b, 1200, 800) }

// BenchmarkDistancePage measures the size of a benchmark page's photos.
func BenchmarkDistancePage(b *testing.B) { benchDistance(b, 640, 427) }

func benchDistance(b *testing.B, w, h int) {
	ref := fromImage(scene(w, h, 8, false))
	dist := noisy(ref, 4, 9)
	r, err := NewReference(ref)
	if err != nil {
		b.Fatal(err)
	}
	start := cpuTime()
	for b.Loop() {
		if _, err := r.Distance(dist); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the process's user and system CPU time: on a shared
// machine it measures a benchmark better than the wall clock.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func BenchmarkNewReference(b *testing.B) {
	ref := fromImage(scene(1200, 800, 8, false))
	for b.Loop() {
		if _, err := NewReference(ref); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScratch reports the bytes a pixel that one Distance call
// allocates as scratch when it finds no pooled scratch (scratch-B/px).
func BenchmarkScratch(b *testing.B) {
	ref := fromImage(scene(1200, 800, 8, false))
	dist := noisy(ref, 4, 9)
	px := float64(ref.Width * ref.Height)
	alloc := func(f func()) float64 {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		f()
		runtime.ReadMemStats(&m1)
		return float64(m1.TotalAlloc - m0.TotalAlloc)
	}
	var r *Reference
	var scratch float64
	for b.Loop() {
		r, _ = NewReference(ref)
		scratch = alloc(func() { r.distance(newWork(r.w, r.h, r.filter), dist, math.Inf(1)) })
	}
	b.ReportMetric(scratch/px, "scratch-B/px")
}

// TestHeights runs Distance over every height up to 160, so that every
// alignment of the cell grid, the blurs' grids and the bottom border
// meets the rows the stages keep (a stage asking for a row no longer kept
// panics).
func TestHeights(t *testing.T) {
	for h := 8; h <= 160; h++ {
		a := fromImage(scene(12, h, int64(h), false))
		d := distance(t, a, noisy(a, 6, 1))
		if h > 10 && (d <= 0 || math.IsNaN(d) || math.IsInf(d, 0)) {
			t.Errorf("12×%d: distance %v", h, d)
		}
	}
}

// TestWithin checks the early-stopping question against the full distance:
// at or above the distance Within answers yes with the exact distance;
// below it, no, with a lower bound above the limit. Scratch left by a
// comparison stopped early must not change the next one.
func TestWithin(t *testing.T) {
	for _, tc := range []struct {
		name  string
		alpha bool
		noise float64
	}{
		{"opaque, light noise", false, 2},
		{"opaque, strong noise", false, 12},
		{"alpha", true, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := fromImage(scene(200, 150, 11, tc.alpha))
			dist := noisy(ref, tc.noise, 3)
			r, err := NewReference(ref)
			if err != nil {
				t.Fatal(err)
			}
			want, err := r.Distance(dist)
			if err != nil || want <= 0 {
				t.Fatalf("distance %v, %v", want, err)
			}
			for _, limit := range []float64{0, want / 4, want / 2, math.Nextafter(want, 0), want, want + 1, math.Inf(1)} {
				d, ok, err := r.Within(dist, limit)
				if err != nil {
					t.Fatal(err)
				}
				if ok != (want <= limit) {
					t.Errorf("limit %v: within %v, distance %v", limit, ok, want)
				}
				switch {
				case ok && d != want:
					t.Errorf("limit %v: within with distance %v, want %v", limit, d, want)
				case !ok && (d <= limit || d > want):
					t.Errorf("limit %v: bound %v not in (limit, %v]", limit, d, want)
				}
				// The scratch reused after an early stop gives the same
				// full distance.
				if again, err := r.Distance(dist); err != nil || again != want {
					t.Errorf("after Within(%v): distance %v (%v), want %v", limit, again, err, want)
				}
			}
		})
	}
}

// BenchmarkWithinFailing measures Within on a candidate that fails a limit
// a tenth under its distance: the cost of a failing search step.
func BenchmarkWithinFailing(b *testing.B) {
	ref := fromImage(scene(640, 427, 8, false))
	dist := noisy(ref, 4, 9)
	r, err := NewReference(ref)
	if err != nil {
		b.Fatal(err)
	}
	d, err := r.Distance(dist)
	if err != nil {
		b.Fatal(err)
	}
	start := cpuTime()
	for b.Loop() {
		if _, ok, err := r.Within(dist, d*0.9); err != nil || ok {
			b.Fatal(ok, err)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}
