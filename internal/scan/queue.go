package scan

import (
	"container/heap"
	"context"
)

// queue orders contents for the final pass: the largest expected savings
// first, so the biggest wins become verified, downloadable answers first;
// page order breaks ties. It implements heap.Interface.
type queue []*content

func (q queue) Len() int { return len(q) }

func (q queue) Less(i, j int) bool {
	if q[i].savings != q[j].savings {
		return q[i].savings > q[j].savings
	}
	return q[i].first < q[j].first
}

func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].qi, q[j].qi = i, j
}

// Push adds x, a *content.
func (q *queue) Push(x any) {
	c := x.(*content)
	c.qi = len(*q)
	*q = append(*q, c)
}

// Pop removes the last element (heap.Pop moves the top there first).
func (q *queue) Pop() any {
	old := *q
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	c.qi = -1
	return c
}

// enqueue puts c in the final pass's queue with its expected savings, or
// moves it when it is already there (a new estimate for a larger box).
// r.mu is held.
func (r *run) enqueue(c *content, savings int64) {
	c.savings = savings
	if c.queued {
		heap.Fix(&r.queue, c.qi)
		return
	}
	c.queued = true
	r.left.Add(1) // before the job that queues c counts itself done
	heap.Push(&r.queue, c)
	select {
	case r.wake <- struct{}{}:
	default: // every worker already has a token
	}
}

// next returns the content to work on next, waiting while estimates are
// still coming: a final pass, else (variants set) a content's variants;
// nil when the scan's work is all done or ctx ends.
func (r *run) next(ctx context.Context) (c *content, variants bool) {
	for ctx.Err() == nil {
		r.mu.Lock()
		if r.queue.Len() > 0 {
			c := heap.Pop(&r.queue).(*content)
			c.queued = false
			r.mu.Unlock()
			return c, false
		}
		if len(r.vqueue) > 0 {
			c := r.vqueue[0]
			r.vqueue[0] = nil
			r.vqueue = r.vqueue[1:]
			r.mu.Unlock()
			return c, true
		}
		r.mu.Unlock()
		select {
		case <-r.wake:
		case <-r.all:
			return nil, false
		case <-ctx.Done():
		}
	}
	return nil, false
}
