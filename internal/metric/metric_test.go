package metric

import (
	"math/rand/v2"
	"testing"
)

// photo returns a w×h image with smooth gradients, edges and fine texture,
// so that noise, blur and colour errors all have something to act on.
func photo(w, h, bands int, seed uint64) Image {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := Image{Pix: make([]byte, w*h*bands), Width: w, Height: h, Bands: bands}
	for y := range h {
		for x := range w {
			p := m.Pix[(y*w+x)*bands:]
			r := 40 + 150*x/w
			g := 60 + 120*y/h
			b := 90
			if (x/23+y/17)%2 == 0 {
				b += 60
			}
			t := rng.IntN(25)
			p[0], p[1], p[2] = byte(r+t), byte(g+t), byte(b+t)
			if bands == 4 {
				p[3] = byte(128 + 127*x/w)
			}
		}
	}
	return m
}

func clone(m Image) Image {
	m.Pix = append([]byte(nil), m.Pix...)
	return m
}

func clamp(v int) byte {
	return byte(min(255, max(0, v)))
}

func noisy(m Image, amp int, seed uint64) Image {
	rng := rand.New(rand.NewPCG(seed, 2))
	o := clone(m)
	for i := range o.Pix {
		if m.Bands == 4 && i%4 == 3 {
			continue
		}
		o.Pix[i] = clamp(int(o.Pix[i]) + rng.IntN(2*amp+1) - amp)
	}
	return o
}

// blurred applies a horizontal box blur of the given radius.
func blurred(m Image, radius int) Image {
	o := clone(m)
	for y := range m.Height {
		for x := range m.Width {
			for c := range 3 {
				s, n := 0, 0
				for d := -radius; d <= radius; d++ {
					if xx := x + d; xx >= 0 && xx < m.Width {
						s += int(m.Pix[(y*m.Width+xx)*m.Bands+c])
						n++
					}
				}
				o.Pix[(y*m.Width+x)*m.Bands+c] = byte(s / n)
			}
		}
	}
	return o
}

func mustDistance(t *testing.T, a, b Image) float64 {
	t.Helper()
	d, err := Distance(a, b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestIdentical(t *testing.T) {
	for _, bands := range []int{3, 4} {
		m := photo(120, 90, bands, 1)
		if d := mustDistance(t, m, clone(m)); d != 0 {
			t.Errorf("bands %d: identical images at distance %g, want 0", bands, d)
		}
	}
}

func TestMonotone(t *testing.T) {
	ref := photo(200, 150, 3, 2)
	tests := []struct {
		name string
		make func(level int) Image
	}{
		{"noise", func(l int) Image { return noisy(ref, 2*l, 7) }},
		{"blur", func(l int) Image { return blurred(ref, l) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev := 0.0
			for l := 1; l <= 5; l++ {
				d := mustDistance(t, ref, tt.make(l))
				if d <= prev {
					t.Fatalf("level %d: distance %g not above level %d's %g", l, d, l-1, prev)
				}
				prev = d
			}
		})
	}
}

func TestColourShift(t *testing.T) {
	ref := photo(160, 120, 3, 3)
	shift := clone(ref)
	for i := 0; i < len(shift.Pix); i += 3 {
		shift.Pix[i] = clamp(int(shift.Pix[i]) + 12) // redder, same structure
	}
	slight := noisy(ref, 1, 9)
	ds, dn := mustDistance(t, ref, shift), mustDistance(t, ref, slight)
	if ds <= 0 || ds <= dn {
		t.Errorf("red shift scored %g, ±1 noise %g: want the shift clearly above", ds, dn)
	}
	th, _ := Threshold(TargetHigh)
	if ds <= th {
		t.Errorf("red shift scored %g, within the high threshold %g", ds, th)
	}
}

func TestAlpha(t *testing.T) {
	ref := photo(100, 80, 4, 4)
	// Changing only the alpha of a region must be seen.
	o := clone(ref)
	for y := 20; y < 60; y++ {
		for x := 20; x < 60; x++ {
			o.Pix[(y*100+x)*4+3] /= 2
		}
	}
	if d := mustDistance(t, ref, o); d <= 0 {
		t.Errorf("alpha change scored %g, want > 0", d)
	}
	// A fully transparent region may change colour freely.
	tr := clone(ref)
	for i := 3; i < len(tr.Pix); i += 4 {
		tr.Pix[i] = 0
	}
	tr2 := clone(tr)
	for i := 0; i < len(tr2.Pix); i += 4 {
		tr2.Pix[i] ^= 0x55
	}
	if d := mustDistance(t, tr, tr2); d != 0 {
		t.Errorf("colour change under alpha 0 scored %g, want 0", d)
	}
	// RGBA that is fully opaque scores like RGB.
	rgb := photo(100, 80, 3, 5)
	rgba := Image{Pix: make([]byte, 100*80*4), Width: 100, Height: 80, Bands: 4}
	for i := range 100 * 80 {
		copy(rgba.Pix[i*4:], rgb.Pix[i*3:i*3+3])
		rgba.Pix[i*4+3] = 255
	}
	n3 := noisy(rgb, 6, 3)
	n4 := clone(rgba)
	for i := range 100 * 80 {
		copy(n4.Pix[i*4:], n3.Pix[i*3:i*3+3])
	}
	if a, b := mustDistance(t, rgb, n3), mustDistance(t, rgba, n4); a != b {
		t.Errorf("opaque RGBA scored %g, RGB %g", b, a)
	}
}

func TestErrors(t *testing.T) {
	a := photo(50, 40, 3, 1)
	tests := []struct {
		name string
		b    Image
	}{
		{"size", photo(40, 50, 3, 1)},
		{"bands", Image{Pix: make([]byte, 50*40*2), Width: 50, Height: 40, Bands: 2}},
		{"short", Image{Pix: make([]byte, 10), Width: 50, Height: 40, Bands: 3}},
		{"empty", Image{Bands: 3}},
	}
	for _, tt := range tests {
		if _, err := Distance(a, tt.b); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	// Images smaller than the window still compare (no scale fits: 0).
	tiny := photo(3, 3, 3, 1)
	if _, err := Distance(tiny, noisy(tiny, 5, 1)); err != nil {
		t.Errorf("tiny: %v", err)
	}
}

func TestThreshold(t *testing.T) {
	h, ok1 := Threshold(TargetHigh)
	b, ok2 := Threshold(TargetBalanced)
	s, ok3 := Threshold(TargetSmall)
	if !ok1 || !ok2 || !ok3 || !(0 < h && h < b && b < s) {
		t.Errorf("thresholds high %g balanced %g small %g: want 0 < high < balanced < small", h, b, s)
	}
	if _, ok := Threshold("best"); ok {
		t.Error("unknown target accepted")
	}
	for _, codec := range []string{"jpeg", "webp", "avif", "png"} {
		if v, ok := ThresholdFor(TargetBalanced, codec); !ok || v <= 0 {
			t.Errorf("ThresholdFor(balanced, %s) = %g, %v", codec, v, ok)
		}
	}
}

func BenchmarkDistance1600(b *testing.B) {
	ref := photo(1600, 1200, 3, 1)
	dist := noisy(ref, 4, 2)
	b.SetBytes(int64(len(ref.Pix)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Distance(ref, dist); err != nil {
			b.Fatal(err)
		}
	}
}
