package metric

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestSearch(t *testing.T) {
	tests := []struct {
		name           string
		lo, hi, steps  int
		first          int // lowest accepted quality
		want, maxTried int
	}{
		{"exact in 64", 36, 99, 6, 71, 71, 6},
		{"lowest", 36, 99, 6, 36, 36, 6},
		{"nothing passes", 36, 99, 6, 200, 99, 6},
		{"only top passes", 36, 99, 6, 99, 99, 6},
		{"wide range, few steps", 0, 100, 3, 50, 50, 3},
		{"single value", 80, 80, 6, 90, 80, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, tried, err := Search(tt.lo, tt.hi, tt.steps, func(q int) (bool, error) {
				if q < tt.lo || q > tt.hi {
					t.Fatalf("tried %d outside %d–%d", q, tt.lo, tt.hi)
				}
				return q >= tt.first, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(tried) > tt.maxTried {
				t.Errorf("%d calls, want ≤ %d", len(tried), tt.maxTried)
			}
			if tt.name == "wide range, few steps" {
				if q < tt.first {
					t.Errorf("q = %d below the first accepted %d", q, tt.first)
				}
				return
			}
			if q != tt.want {
				t.Errorf("q = %d, want %d (tried %v)", q, tt.want, tried)
			}
		})
	}
	boom := errors.New("encode failed")
	if _, _, err := Search(36, 99, 6, func(int) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the callback's", err)
	}
}

// TestInterpolate checks Interpolate against the lowest passing quality
// found by trying every quality, on distance curves shaped like an
// encoder's (falling linearly, exponentially, in steps), from guesses
// near and far, and counts its calls.
func TestInterpolate(t *testing.T) {
	curves := []struct {
		name string
		d    func(q int) float64
	}{
		{"linear", func(q int) float64 { return 5 - 0.05*float64(q) }},
		{"exponential", func(q int) float64 { return 8 * math.Exp(-0.035*float64(q)) }},
		{"quadratic", func(q int) float64 { return 0.2 + 0.002*float64((100-q)*(100-q)) }},
		{"plateaus", func(q int) float64 { return 3 - 0.3*float64(q/10) }},
	}
	const lo, hi = 36, 99
	var calls, runs int
	for _, c := range curves {
		for _, thr := range []float64{0.5, 0.9, 1.4, 2.2, 3.5} {
			want := hi + 1
			for q := lo; q <= hi; q++ {
				if c.d(q) <= thr {
					want = q
					break
				}
			}
			for _, guess := range []int{want - 20, want - 3, want, want + 2, want + 9, 50, 99} {
				name := fmt.Sprintf("%s/thr %.1f/guess %d", c.name, thr, guess)
				seen := map[int]bool{}
				q, tried, err := Interpolate(lo, hi, 12, guess, 0, thr, func(q int) (float64, error) {
					if q < lo || q > hi {
						t.Fatalf("%s: tried %d outside %d–%d", name, q, lo, hi)
					}
					if seen[q] {
						t.Errorf("%s: tried %d twice", name, q)
					}
					seen[q] = true
					return c.d(q), nil
				})
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case want > hi && q != hi:
					t.Errorf("%s: nothing passes, got %d, want hi %d", name, q, hi)
				case want <= hi && q != want:
					t.Errorf("%s: q = %d, want %d (tried %v)", name, q, want, tried)
				}
				if want <= hi && guess >= want-3 && guess <= want+9 {
					calls += len(tried)
					runs++
				}
			}
		}
	}
	// Guesses near the answer: fewer calls than a 64-quality bisection.
	mean := float64(calls) / float64(runs)
	t.Logf("%.2f calls on average from guesses near the answer", mean)
	if mean > 4.5 {
		t.Errorf("%.2f calls on average from near guesses, want ≤ 4.5", mean)
	}

	// Out of steps, it answers the lowest passing quality it tested.
	q, tried, _ := Interpolate(lo, hi, 2, 90, 0, 1.4, func(q int) (float64, error) { return 0.1, nil })
	if len(tried) != 2 || q != tried[1] {
		t.Errorf("2 steps: q %d, tried %v", q, tried)
	}
	boom := errors.New("encode failed")
	if _, _, err := Interpolate(lo, hi, 6, 90, 0, 1, func(int) (float64, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the callback's", err)
	}
}
