package optimize

// The CPU time budget of one call (Options.Budget). libvips and the
// codecs work in threads of their own, so a call's CPU time cannot be read
// off its goroutine: the clock counts the process's CPU time between two
// readings, shared evenly among the calls working meanwhile. On a busy
// machine the budget is spent no faster than the image really works,
// where a wall-clock bound would cut it short (measured: a 20 s wall
// bound cut refinements on 8 page photos at load 10 on 2 cores).

import "time"

// clock is one call's share of the process's CPU time.
type clock struct {
	e     *Engine
	limit time.Duration
	spent time.Duration
	last  time.Duration
}

// clock starts counting a call's CPU time against limit (0: none).
func (e *Engine) clock(limit time.Duration) *clock {
	e.working.Add(1)
	return &clock{e: e, limit: limit, last: processCPU()}
}

// over adds the call's share of the CPU time since the last reading and
// reports whether the budget is spent.
func (c *clock) over() bool {
	if c == nil || c.limit <= 0 {
		return false
	}
	now := processCPU()
	c.spent += (now - c.last) / time.Duration(max(1, c.e.working.Load()))
	c.last = now
	return c.spent > c.limit
}

// stop ends the call's share.
func (c *clock) stop() { c.e.working.Add(-1) }
