package scan

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/sha256"
	"slices"
	"strings"

	"github.com/imagediet/imgdiet/internal/logx"
	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/proto"
)

// box is a display size in device pixels. Zero in one dimension leaves
// that dimension free; the zero box means the size is unknown, so the
// image keeps its full size.
type box struct{ w, h float64 }

func (b box) unknown() bool { return b.w == 0 && b.h == 0 }

// union is the smallest box that asks for at least what b and o ask for:
// the engine resizes to cover the box, so each dimension's larger need
// wins (a 1000×100 banner and a 100×1000 column need 1000×1000).
func (b box) union(o box) box {
	if b.unknown() || o.unknown() {
		return box{}
	}
	return box{max(b.w, o.w), max(b.h, o.h)}
}

// covers reports whether an image made for b is large enough for o.
func (b box) covers(o box) bool {
	return b.unknown() || (!o.unknown() && o.w <= b.w && o.h <= b.h)
}

// unit is one distinct URL of a scan (or one distinct image sent as
// data): it is fetched once, for every row that names it.
type unit struct {
	url     string
	data    []byte
	indexes []int
	box     box
}

// content is one distinct set of bytes within a scan: every unit whose
// bytes hash the same, optimized once for the union of their boxes.
//
// Its fields after units are guarded by run.mu.
type content struct {
	hash  [sha256.Size]byte
	url   string // fetched again for the final pass when src was not kept
	data  []byte // or the request's own bytes
	first int    // lowest row index: breaks ties in the work order
	units []*unit
	box   box // what every unit needs

	estimating bool            // an estimate is running
	est        optimize.Report // the latest estimate, made for estBox
	estBox     box
	hasEst     bool
	// fixed: the final pass started (or the final result went out), so
	// box no longer grows; a row needing more starts a new content.
	fixed   bool
	failed  bool
	queued  bool  // waiting in run.queue
	qi      int   // its index there
	savings int64 // expected savings, from the estimate
	src     []byte
	kept    int64 // bytes of src counted in Scanner.sources

	// What was sent (emit.go).
	last      *proto.Result    // the latest result, without index and url
	finalSent bool             // last is final
	verified  *optimize.Report // the smallest verified answer sent
	held      []heldItem       // every key put for this content
	final     *optimize.Report // the report the final result was made from

	// Variants (variantwork.go).
	vjob  bool                     // a variants job is queued or running
	vwant []int                    // rows waiting for their variants message
	vmade map[int]optimize.Variant // widths made, shared by every row
	vnote string                   // why some width or file is missing
}

// groupUnits merges rows with the same URL (or, for images sent as data,
// the same bytes), keeping the union of their display boxes.
func groupUnits(images []proto.Image) []*unit {
	byKey := map[string]*unit{}
	var out []*unit
	for i, im := range images {
		key := "u:" + im.URL
		if im.Data != nil && (im.URL == "" || strings.HasPrefix(im.URL, "blob:")) {
			key = "d:" + string(im.Data)
		}
		dpr := im.DPR
		if dpr <= 0 {
			dpr = 1
		}
		b := box{im.DisplayWidth * dpr, im.DisplayHeight * dpr}
		u, ok := byKey[key]
		if !ok {
			u = &unit{url: im.URL, data: im.Data, box: b}
			byKey[key] = u
			out = append(out, u)
		} else {
			u.box = u.box.union(b)
		}
		u.indexes = append(u.indexes, i)
	}
	return out
}

// estimateJob is a content whose estimate a worker is to make, with its
// bytes.
type estimateJob struct {
	c   *content
	src []byte
}

// fetchUnit reads u's bytes and joins it to the content they hash to. The
// first unit of a content returns the job of estimating it; a later one
// shares what was sent and, when it needs a larger box than the estimate
// was made for, returns a new estimate job (before the final pass starts)
// or starts a content of its own (after). ok is false when there is no
// job.
func (r *run) fetchUnit(ctx context.Context, u *unit) (job estimateJob, ok bool) {
	src, err := r.source(ctx, u.url, u.data)
	if err != nil {
		r.failUnit(u, nil, err)
		return job, false
	}
	sum := sha256.Sum256(src)
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.contents[sum]
	if c == nil || (c.fixed && !c.failed && !c.box.covers(u.box)) {
		c = &content{hash: sum, url: u.url, data: u.data, first: u.indexes[0], box: u.box,
			units: []*unit{u}, estimating: true}
		r.contents[sum] = c
		r.every = append(r.every, c)
		return estimateJob{c, src}, true
	}
	c.units = append(c.units, u)
	if c.failed {
		r.replay(c, u) // the same bytes fail the same way
		return job, false
	}
	if u.indexes[0] < c.first {
		c.first = u.indexes[0]
		if c.queued {
			heap.Fix(&r.queue, c.qi)
		}
	}
	grown := !c.box.covers(u.box)
	c.box = c.box.union(u.box)
	if !grown && c.last != nil {
		r.replay(c, u)
	}
	if grown && !c.estimating && !c.fixed {
		c.estimating = true
		return estimateJob{c, src}, true
	}
	// An estimate waiting or in flight sees the grown box when it starts
	// or ends (and runs again); a covered unit gets the results as they
	// come.
	return job, false
}

// estimate runs the fast pass on c until it is made for c's current box,
// sends it, and queues c for its final pass (or sends it as final when
// there is no final pass). The caller set c.estimating.
func (r *run) estimate(ctx context.Context, c *content, src []byte) {
	for {
		r.mu.Lock()
		b := c.box
		r.mu.Unlock()
		opt := r.options(b, r.slow, r.set.Formats)
		// The estimate gets the budget too: no pass may hold a core for
		// long (a 50 MP estimate took over 20 s of CPU).
		opt.Budget = r.set.ImageBudget
		ictx, cancel := context.WithTimeout(ctx, r.hardTimeout())
		rep, err := r.s.cfg.Engine.Optimize(ictx, src, opt)
		cancel()

		r.mu.Lock()
		if err == nil && c.box != b && !c.fixed {
			r.mu.Unlock()
			continue // a larger row joined meanwhile
		}
		c.estimating = false
		switch {
		case ctx.Err() != nil, c.fixed:
			// Canceled, or the final pass began without this estimate.
		case err != nil:
			r.failContent(c, src, timeoutAware(ictx, err))
		case !r.slow || rep.Source.Animated || rep.Source.Format == optimize.SVG:
			// Nothing to refine: one encoder, no AVIF.
			c.est, c.estBox, c.hasEst = rep, b, true
			if !rep.Verified && rep.Note == "" {
				rep.Note = noteAnimation // an estimate made final says so
			}
			r.send(c, rep, true)
			if c.vjob {
				r.keepSource(c, src) // for the variants
			}
		default:
			c.est, c.estBox, c.hasEst = rep, b, true
			r.send(c, rep, false)
			r.keepSource(c, src)
			r.enqueue(c, expectedSavings(rep))
		}
		r.mu.Unlock()
		return
	}
}

// keepSource holds src for c's final pass while the scanner's source
// budget allows; beyond it the final pass fetches again. r.mu is held.
func (r *run) keepSource(c *content, src []byte) {
	if c.data != nil || c.src != nil {
		return // the request holds the bytes anyway, or they are kept
	}
	if n := int64(len(src)); r.s.sources.Add(n) <= r.s.cfg.SourceBudget {
		c.src, c.kept = src, n
	} else {
		r.s.sources.Add(-n)
	}
}

// dropSource gives c's kept bytes back to the source budget. r.mu is held.
func (r *run) dropSource(c *content) {
	r.s.sources.Add(-c.kept)
	c.src, c.kept = nil, 0
}

// dropSources gives back the kept bytes of every content, once no worker
// is left to use them.
func (r *run) dropSources() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.every {
		r.dropSource(c)
	}
}

// Notes for a final answer that is not the final pass's own.
const (
	noteTimeout = "Checking this image took too long, so the best answer found before then is shown."
	noteFailed  = "The final check of this image failed, so the best answer found before it is shown."
	noteReread  = "The image could not be read again for the final check, so its first estimate is shown."
	// noteAnimation: animations get one pass, measured with the fast
	// metric; the exact check is made on still images only.
	noteAnimation = "Animations are measured with the fast estimate only, without the exact check."
)

// finalPass runs the verified pass on c for its (now fixed) box and
// sends each smaller verified answer as it is found, then the final one.
func (r *run) finalPass(ctx context.Context, c *content) {
	r.mu.Lock()
	if c.finalSent { // a new estimate for a larger box failed meanwhile
		r.dropSource(c)
		r.mu.Unlock()
		return
	}
	c.fixed = true
	b := c.box
	src := c.src
	est := c.est
	current := c.hasEst && c.estBox == b // the estimate fits this box
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		if c.vjob {
			r.keepSource(c, src) // the variants read the bytes next
		} else {
			r.dropSource(c)
		}
		r.mu.Unlock()
	}()
	if src == nil {
		var err error
		src, err = r.source(ctx, c.url, c.data)
		if err == nil && sha256.Sum256(src) != c.hash {
			err = proto.Errorf(proto.CodeFetchFailed, "The image changed while it was being optimized.")
		}
		if err != nil {
			if ctx.Err() == nil {
				r.mu.Lock()
				r.fallback(c, src, noteReread, err)
				r.mu.Unlock()
			}
			return
		}
	}
	fixedQ := r.set.Quality > 0
	merged := fixedQ && current // the final pass adds AVIF to the estimate
	formats := finalFormats(r.set)
	if fixedQ && !current {
		formats = r.set.Formats
	}
	view := func(rep optimize.Report) optimize.Report {
		if merged {
			return merge(est, rep)
		}
		return rep
	}
	opt := r.options(b, false, formats)
	opt.Budget = r.set.ImageBudget
	if !fixedQ && current {
		opt.Previous = est.Candidates
	}
	opt.Progress = func(rep optimize.Report) { r.progress(c, view(snapshot(rep))) }
	ictx, cancel := context.WithTimeout(ctx, r.hardTimeout())
	rep, err := r.s.cfg.Engine.Optimize(ictx, src, opt)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		note := noteFailed
		if ictx.Err() == context.DeadlineExceeded {
			note = noteTimeout
		}
		r.s.cfg.Log.Debug().Err(err).Str("host", logx.Host(c.url)).Msg("final pass failed; keeping the best answer so far")
		r.mu.Lock()
		r.fallback(c, src, note, timeoutAware(ictx, err))
		r.mu.Unlock()
		return
	}
	r.mu.Lock()
	r.send(c, view(rep), true)
	r.mu.Unlock()
}

// fallback makes the best answer c already has final, with note: its
// smallest verified one, else its estimate; err when it has neither.
// r.mu is held.
func (r *run) fallback(c *content, src []byte, note string, err error) {
	var rep optimize.Report
	switch {
	case c.verified != nil:
		rep = *c.verified
	case c.hasEst && c.estBox == c.box:
		rep = c.est
	default:
		r.failContent(c, src, err)
		return
	}
	rep.Note = note
	r.send(c, rep, true)
}

// progress sends a verified answer the final pass found before its end,
// when it is smaller than any verified answer sent for c.
func (r *run) progress(c *content, rep optimize.Report) {
	if !rep.Verified || rep.Best == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.verified != nil && c.verified.Best != nil && len(rep.Best.Data) >= len(c.verified.Best.Data) {
		return
	}
	if !r.worthKeeping(rep) {
		return // not downloadable: the final answer says what it is
	}
	r.send(c, rep, false)
}

// expectedSavings is what an estimate promises: the original's bytes less
// its best candidate's.
func expectedSavings(rep optimize.Report) int64 {
	if rep.Best == nil {
		return 0
	}
	return rep.Source.Bytes - int64(len(rep.Best.Data))
}

// snapshot copies a report's candidate list, so a report the engine goes
// on changing after Progress returns stays as it was sent.
func snapshot(rep optimize.Report) optimize.Report {
	out := rep
	out.Candidates = slices.Clone(rep.Candidates)
	out.Skipped = slices.Clone(rep.Skipped)
	out.Best = nil
	if rep.Best != nil {
		for i := range out.Candidates {
			if out.Candidates[i].Format == rep.Best.Format && bytes.Equal(out.Candidates[i].Data, rep.Best.Data) {
				out.Best = &out.Candidates[i]
				break
			}
		}
		if out.Best == nil {
			b := *rep.Best
			out.Best = &b
		}
	}
	return out
}

// merge combines the estimate's candidates (fixed quality: final as they
// are) with the final pass's (AVIF).
func merge(fast, slow optimize.Report) optimize.Report {
	out := fast
	out.Candidates = append(slices.Clone(fast.Candidates), slow.Candidates...)
	out.Skipped = append(slices.Clone(fast.Skipped), slow.Skipped...)
	out.Verified = fast.Verified && slow.Verified
	out.Note = slow.Note
	slices.SortStableFunc(out.Candidates, func(a, b optimize.Output) int { return len(a.Data) - len(b.Data) })
	out.Best = nil
	for i := range out.Candidates {
		if int64(len(out.Candidates[i].Data)) < out.Source.Bytes {
			out.Best = &out.Candidates[i]
			break
		}
	}
	return out
}
