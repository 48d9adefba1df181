package metric

import (
	"errors"
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
