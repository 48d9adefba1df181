package optimize

import (
	"testing"
	"time"
)

// TestClockShares checks that the CPU time budget charges a call its share
// of the process's CPU time: alone it is charged the whole, with a second
// call working it is charged half.
func TestClockShares(t *testing.T) {
	burn := func() time.Duration {
		start := processCPU()
		x := 0
		for processCPU()-start < 200*time.Millisecond {
			for i := range 100_000 {
				x += i
			}
		}
		_ = x
		return processCPU() - start
	}
	tests := []struct {
		name   string
		calls  int
		lo, hi float64 // bounds of the share charged
	}{
		{"alone", 1, 0.8, 1.2},
		{"beside another", 2, 0.4, 0.6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := engine()
			clocks := make([]*clock, tt.calls)
			for i := range clocks {
				clocks[i] = e.clock(time.Hour)
			}
			used := burn()
			if clocks[0].over() {
				t.Fatal("an hour's budget is over after 200 ms")
			}
			share := float64(clocks[0].spent) / float64(used)
			if share < tt.lo || share > tt.hi {
				t.Errorf("charged %v of %v (%.2f), want %.1f-%.1f", clocks[0].spent, used, share, tt.lo, tt.hi)
			}
			for _, c := range clocks {
				c.stop()
			}
			if n := e.working.Load(); n != 0 {
				t.Errorf("%d calls still counted", n)
			}
		})
	}
	short := engine().clock(time.Millisecond)
	defer short.stop()
	burn()
	if !short.over() {
		t.Error("a 1 ms budget is not over after 200 ms of CPU")
	}
}
