package scan

import (
	"bytes"
	"math"
	"slices"
	"time"

	"github.com/imagediet/imgdiet/internal/logx"
	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/probe"
	"github.com/imagediet/imgdiet/internal/proto"
)

// Keys. Every best a result names is held under a key, shared by every row
// of the content. A content may send several results: an estimate, then
// smaller verified answers while the final pass runs, then the final one.
// A key stays held while any result sent for the content may still be on
// screen: the host releases a content's keys other than the one its final
// result names once that final result is sent, and, when the scan is
// canceled, every key but the one its latest result names. Either way it
// waits Config.ReleaseGrace first, so a download asked for just before
// the newer result arrived still completes. Keys a latest result names
// stay held until the extension releases them (or the session ends).

// heldItem is bytes put in the holder for a content, and their key.
type heldItem struct {
	key, format string
	data        []byte
}

// worthKeeping reports whether rep's best saves enough to be offered.
func (r *run) worthKeeping(rep optimize.Report) bool {
	if rep.Best == nil {
		return false
	}
	saved := rep.Source.Bytes - int64(len(rep.Best.Data))
	return saved > 0 && saved >= r.set.MinSavingsBytes
}

// keyFor returns the key holding best for c: the key of identical bytes
// sent before, or a new one. "" when the holder refused them. r.mu is
// held.
func (r *run) keyFor(c *content, g *unit, best *optimize.Output) string {
	return r.keyNamed(c, best, fileName(g.url, best.Format))
}

// keyNamed is keyFor with the name new bytes are held under. r.mu is
// held.
func (r *run) keyNamed(c *content, best *optimize.Output, name string) string {
	if key := heldKey(c, best); key != "" {
		return key
	}
	key, err := r.s.cfg.Held.Put(best.Data, best.Format, name)
	if err != nil {
		r.s.cfg.Log.Warn().Err(err).Msg("could not hold an optimized image")
		return ""
	}
	c.held = append(c.held, heldItem{key: key, format: best.Format, data: best.Data})
	return key
}

// send sends rep to every row of c; final marks it the last result for
// them. r.mu is held.
func (r *run) send(c *content, rep optimize.Report, final bool) {
	if r.closed || c.finalSent {
		return
	}
	res := proto.Result{
		Type:     proto.TypeResult,
		ID:       r.req.ID,
		Final:    final,
		Verified: rep.Verified,
		Note:     rep.Note,
		Original: &proto.Original{
			Bytes:    rep.Source.Bytes,
			Format:   rep.Source.Format,
			Width:    rep.Source.Width,
			Height:   rep.Source.Height,
			Animated: rep.Source.Animated,
		},
		Status: proto.StatusOptimal,
	}
	for _, sk := range rep.Skipped {
		res.Skipped = append(res.Skipped, proto.Skip{Format: sk.Format, Reason: sk.Reason})
	}
	for i := range rep.Candidates {
		res.Candidates = append(res.Candidates, r.candidate(c, rep, &rep.Candidates[i]))
	}
	if best := rep.Best; r.worthKeeping(rep) {
		if key := r.keyFor(c, c.units[0], best); key != "" {
			res.Status = proto.StatusOptimized
			res.Best = &proto.Candidate{
				Key: key, Format: best.Format, Bytes: int64(len(best.Data)),
				Width: best.Width, Height: best.Height, Quality: best.Quality,
			}
			if rep.Verified && best.Distance > 0 {
				res.Best.Distance = RoundDistance(best.Distance)
			}
			res.SavedBytes = rep.Source.Bytes - res.Best.Bytes
			res.SavedPercent = math.Round(float64(res.SavedBytes)*1000/float64(rep.Source.Bytes)) / 10
			res.Reasons = best.Reasons
			if rep.Verified {
				v := rep
				c.verified = &v
			}
		}
	}
	c.last = &res
	if final {
		c.final = &rep
		c.finalSent, c.fixed = true, true
		r.retire(c, keysOf(&res))
	}
	for _, u := range c.units {
		r.emitRows(c, u, res)
	}
}

// replay sends c's latest result to a unit that joined it. r.mu is held.
func (r *run) replay(c *content, u *unit) {
	if !r.closed {
		r.emitRows(c, u, *c.last)
	}
}

// candidate is o, a candidate of rep, as a result lists it. A verified
// result holds each candidate smaller than the source, so the person may
// choose it instead of the best, and names the distance measured for it.
// r.mu is held.
func (r *run) candidate(c *content, rep optimize.Report, o *optimize.Output) proto.Candidate {
	pc := proto.Candidate{Format: o.Format, Bytes: int64(len(o.Data)), Width: o.Width, Height: o.Height, Quality: o.Quality}
	if !rep.Verified {
		return pc
	}
	if o.Distance > 0 {
		pc.Distance = RoundDistance(o.Distance)
	}
	if pc.Bytes < rep.Source.Bytes && (o == rep.Best || r.room(c, o)) {
		pc.Key = r.keyFor(c, c.units[0], o)
	}
	return pc
}

// extraShare is the share of the holder's bound that files besides the
// answers (other candidates, variants) may fill: the holder evicts its
// oldest files when full, and those must not push the rows' answers out.
const extraShare = 0.75

// room reports whether o, a file besides a row's answer, may be held for
// c: it is held already, or the holder (when it tells its size) stays
// under extraShare of its bound with it. r.mu is held.
func (r *run) room(c *content, o *optimize.Output) bool {
	if heldKey(c, o) != "" {
		return true
	}
	sz, ok := r.s.cfg.Held.(interface {
		Bytes() int64
		MaxBytes() int64
	})
	return !ok || float64(sz.Bytes()+int64(len(o.Data))) <= extraShare*float64(sz.MaxBytes())
}

// heldKey is the key o's bytes are held under for c, "" when they are
// not held. r.mu is held.
func heldKey(c *content, o *optimize.Output) string {
	for _, h := range c.held {
		if h.format == o.Format && bytes.Equal(h.data, o.Data) {
			return h.key
		}
	}
	return ""
}

// RoundDistance is d rounded to three decimals, as a result carries it
// (the command line's results too).
func RoundDistance(d float64) *float64 {
	v := math.Round(d*1000) / 1000
	return &v
}

// keysOf lists the keys res names: its best's and its candidates'.
func keysOf(res *proto.Result) []string {
	if res == nil {
		return nil
	}
	var keys []string
	if res.Best != nil {
		keys = append(keys, res.Best.Key)
	}
	for _, c := range res.Candidates {
		if c.Key != "" {
			keys = append(keys, c.Key)
		}
	}
	return keys
}

// retire releases, after the grace period, every key of c except those
// in keep. r.mu is held.
func (r *run) retire(c *content, keep []string) {
	var keys []string
	kept := c.held[:0]
	for _, h := range c.held {
		if slices.Contains(keep, h.key) {
			kept = append(kept, h)
		} else {
			keys = append(keys, h.key)
		}
	}
	c.held = kept
	if len(keys) > 0 {
		time.AfterFunc(r.s.cfg.ReleaseGrace, func() { r.s.cfg.Held.Release(keys) })
	}
}

// emitRows sends res for every row of u (of content c, nil when u failed
// before it had one), counting final ones into the summary and asking
// for their variants. r.mu is held.
func (r *run) emitRows(c *content, u *unit, res proto.Result) {
	for _, i := range u.indexes {
		row := res
		row.Index = i
		row.URL = echoURL(r.req.Images[i].URL)
		if err := r.emit(row); err != nil {
			r.s.cfg.Log.Error().Err(err).Msg("could not send a result")
		}
		if !res.Final || r.settled[i] {
			continue
		}
		r.settled[i] = true
		r.wantVariants(c, i, &res)
		switch {
		case res.Status == proto.StatusError:
			r.sum.Failed++
			if res.Original != nil {
				r.sum.OriginalBytes += res.Original.Bytes
				r.sum.OptimizedBytes += res.Original.Bytes
			}
		case res.Best != nil:
			r.sum.Optimized++
			r.sum.OriginalBytes += res.Original.Bytes
			r.sum.OptimizedBytes += res.Best.Bytes
		default:
			r.sum.Optimal++
			r.sum.OriginalBytes += res.Original.Bytes
			r.sum.OptimizedBytes += res.Original.Bytes
		}
	}
}

// errorResult is the final result for an image that failed. src, when
// its bytes were read, is counted as original bytes.
func (r *run) errorResult(rawURL string, src []byte, err error) proto.Result {
	perr := proto.Public(err)
	if perr.Code == proto.CodeInternal {
		r.s.cfg.Log.Error().Err(err).Str("host", logx.Host(rawURL)).Msg("unexpected failure")
	}
	res := proto.Result{
		Type: proto.TypeResult, ID: r.req.ID, Final: true, Status: proto.StatusError,
		Error: &proto.Error{Code: perr.Code, Message: perr.Message, HTTPStatus: perr.HTTPStatus},
	}
	if src != nil {
		res.Original = &proto.Original{Bytes: int64(len(src)), Format: probe.Sniff(src)}
	}
	return res
}

// failUnit sends an error result for every row of u.
func (r *run) failUnit(u *unit, src []byte, err error) {
	res := r.errorResult(u.url, src, err)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.emitRows(nil, u, res)
	}
}

// failContent sends an error result for every row of c; rows that join
// it later get the same. r.mu is held.
func (r *run) failContent(c *content, src []byte, err error) {
	if c.finalSent {
		return
	}
	res := r.errorResult(c.url, src, err)
	c.last, c.finalSent, c.fixed, c.failed = &res, true, true, true
	r.retire(c, nil)
	if r.closed {
		return
	}
	for _, u := range c.units {
		r.emitRows(c, u, res)
	}
}

// finish sends done once; after it nothing more is emitted. A canceled
// scan keeps the key each content's latest result names (a verified
// answer stays downloadable after Stop) and retires the rest.
func (r *run) finish(canceled bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	if canceled {
		for _, c := range r.every {
			if !c.finalSent {
				r.retire(c, keysOf(c.last))
			}
		}
	}
	r.sum.SavedBytes = r.sum.OriginalBytes - r.sum.OptimizedBytes
	r.sum.ElapsedMs = time.Since(r.start).Milliseconds()
	if err := r.emit(proto.Done{Type: proto.TypeDone, ID: r.req.ID, Canceled: canceled, Summary: r.sum}); err != nil {
		r.s.cfg.Log.Error().Err(err).Msg("could not send done")
	}
}
