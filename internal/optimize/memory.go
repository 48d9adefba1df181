package optimize

// The memory budget every Optimize call in flight shares (see plan.go for
// what the steps cost and how the plan fits them in).

import (
	"context"
	"sync"
)

// budget is a counting semaphore over bytes: steps take what they
// estimate before they start and give it back when done.
type budget struct {
	mu    sync.Mutex
	total int64
	used  int64
	// freed is closed and replaced whenever bytes are given back.
	freed chan struct{}
}

func newBudget(total int64) *budget {
	return &budget{total: total, freed: make(chan struct{})}
}

// acquire waits until n bytes (at most the whole budget) are free, takes
// them and returns the function that gives them back.
func (b *budget) acquire(ctx context.Context, n int64) (func(), error) {
	n = max(0, min(n, b.total))
	for {
		b.mu.Lock()
		if b.used+n <= b.total {
			b.used += n
			b.mu.Unlock()
			var once sync.Once
			return func() { once.Do(func() { b.give(n) }) }, nil
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return nil, errCanceled
		}
	}
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}
