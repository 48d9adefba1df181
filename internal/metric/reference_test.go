package metric

import "testing"

// opaqueRGBA returns m (RGB) as RGBA with every pixel opaque.
func opaqueRGBA(m Image) Image {
	o := Image{Pix: make([]byte, m.Width*m.Height*4), Width: m.Width, Height: m.Height, Bands: 4}
	for i := range m.Width * m.Height {
		copy(o.Pix[i*4:], m.Pix[i*3:i*3+3])
		o.Pix[i*4+3] = 255
	}
	return o
}

func TestReferenceMatchesDistance(t *testing.T) {
	rgb := photo(131, 97, 3, 11)
	rgba := photo(120, 90, 4, 12)
	halfAlpha := clone(rgba)
	for i := 3; i < len(halfAlpha.Pix); i += 4 {
		halfAlpha.Pix[i] /= 2
	}
	tests := []struct {
		name      string
		ref, dist Image
	}{
		{"identical", rgb, clone(rgb)},
		{"noise", rgb, noisy(rgb, 8, 1)},
		{"blur", rgb, blurred(rgb, 2)},
		{"alpha noise", rgba, noisy(rgba, 6, 2)},
		{"alpha changed", rgba, halfAlpha},
		{"opaque ref, translucent candidate", opaqueRGBA(rgb), func() Image {
			m := noisy(opaqueRGBA(rgb), 4, 3)
			m.Pix[3] = 10
			return m
		}()},
		{"tiny", photo(9, 9, 3, 4), noisy(photo(9, 9, 3, 4), 10, 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := mustDistance(t, tt.ref, tt.dist)
			r, err := NewReference(tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if r.Width() != tt.ref.Width || r.Height() != tt.ref.Height {
				t.Fatalf("reference size %d×%d", r.Width(), r.Height())
			}
			for range 2 { // the reference is not consumed by a comparison
				got, err := r.Distance(tt.dist)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Fatalf("Reference.Distance = %v, Distance = %v", got, want)
				}
			}
		})
	}
}

func TestReferenceErrors(t *testing.T) {
	if _, err := NewReference(Image{Width: 4, Height: 4, Bands: 3}); err == nil {
		t.Error("NewReference accepted an image without pixels")
	}
	bad := DefaultConfig()
	bad.Scales = 0
	if _, err := bad.NewReference(photo(20, 20, 3, 1)); err == nil {
		t.Error("NewReference accepted a bad config")
	}
	r, err := NewReference(photo(40, 30, 3, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Distance(photo(30, 40, 3, 1)); err == nil {
		t.Error("Distance accepted a different size")
	}
	if _, err := r.Distance(Image{Pix: []byte{1}, Width: 40, Height: 30, Bands: 3}); err == nil {
		t.Error("Distance accepted too few pixels")
	}
}

func BenchmarkReferenceDistance1600(b *testing.B) {
	ref := photo(1600, 1067, 3, 1)
	dist := noisy(ref, 5, 2)
	r, err := NewReference(ref)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := r.Distance(dist); err != nil {
			b.Fatal(err)
		}
	}
}
