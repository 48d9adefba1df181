package scan

// The variants' work (settings.variants; the rules are in variants.go).
// A row's variants are asked for when its final result goes out: a row
// that gets none (an error, an animation, an image not shown smaller)
// gets its empty "variants" message at once; the others join their
// content's variants job, queued behind every final pass waiting, so no
// final result waits for variants. A job makes, once per content, every
// width its rows ask for that is not made yet, then sends each waiting
// row the widths its own display width and srcset ask for, the files of
// identical bytes shared under one key.

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/proto"
)

// wantVariants asks for row i's variants once its final result res went
// out (c is its content, nil when it had none). r.mu is held.
func (r *run) wantVariants(c *content, i int, res *proto.Result) {
	if !r.set.Variants || r.vsent[i] {
		return
	}
	if c == nil || c.final == nil || res.Status == proto.StatusError {
		r.sendVariants(i, nil, whyError, "")
		return
	}
	if _, why := VariantWidths(r.req.Images[i], res); why != "" {
		r.sendVariants(i, nil, why, "")
		return
	}
	c.vwant = append(c.vwant, i)
	if c.vjob {
		return
	}
	c.vjob = true
	r.left.Add(1) // before the job that sent res counts itself done
	r.vqueue = append(r.vqueue, c)
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// variantPass makes the widths c's waiting rows ask for and sends each
// its message, until no row of c waits.
func (r *run) variantPass(ctx context.Context, c *content) {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() {
		c.vjob = false
		r.dropSource(c)
	}()
	var src []byte
	for len(c.vwant) > 0 && !r.closed && ctx.Err() == nil {
		rows := c.vwant
		c.vwant = nil
		var need []int
		for _, i := range rows {
			ws, _ := VariantWidths(r.req.Images[i], c.last)
			for _, w := range ws {
				if _, ok := c.vmade[w]; !ok && !slices.Contains(need, w) {
					need = append(need, w)
				}
			}
		}
		slices.Sort(need)
		if len(need) > 0 {
			if src == nil {
				src = c.src
			}
			req := r.variantRequest(c, need)
			r.mu.Unlock()
			vr, err := r.makeVariants(ctx, c, &src, req)
			r.mu.Lock()
			if ctx.Err() != nil || r.closed {
				return // a cancel: nothing made is held, nothing is sent
			}
			if err != nil {
				c.vnote = whyFailed
			} else if vr.Note != "" {
				c.vnote = vr.Note
			}
			if c.vmade == nil {
				c.vmade = map[int]optimize.Variant{}
			}
			for _, v := range vr.Variants {
				c.vmade[v.Width] = v
			}
		}
		for _, i := range rows {
			r.sendRowVariants(c, i)
		}
	}
}

// variantRequest is what the engine needs to make widths need of c.
// r.mu is held.
func (r *run) variantRequest(c *content, need []int) optimize.VariantRequest {
	best := ""
	if c.last.Best != nil {
		best = c.last.Best.Format
	}
	return optimize.VariantRequest{
		Widths:       need,
		Formats:      VariantChain(best, c.final.Source.Format, c.final.Alpha),
		Main:         *c.final,
		Quality:      r.set.Quality,
		Target:       r.set.Target,
		KeepMetadata: r.set.KeepMetadata,
		Budget:       r.set.ImageBudget,
	}
}

// makeVariants runs the engine on c's bytes (*src, read again when they
// were not kept).
func (r *run) makeVariants(ctx context.Context, c *content, src *[]byte, req optimize.VariantRequest) (optimize.VariantReport, error) {
	if *src == nil {
		b, err := r.source(ctx, c.url, c.data)
		if err == nil && sha256.Sum256(b) != c.hash {
			err = proto.Errorf(proto.CodeFetchFailed, "The image changed while it was being optimized.")
		}
		if err != nil {
			return optimize.VariantReport{}, err
		}
		*src = b
	}
	ictx, cancel := context.WithTimeout(ctx, r.hardTimeout())
	defer cancel()
	return r.s.cfg.Engine.Variants(ictx, *src, req)
}

// sendRowVariants sends row i the widths of c it asks for, each file held
// under the content's key for its bytes. r.mu is held.
func (r *run) sendRowVariants(c *content, i int) {
	ws, _ := VariantWidths(r.req.Images[i], c.last)
	base := fileBase(r.req.Images[i].URL)
	var out []proto.Variant
	full := false // a file was not held: the holder is near its bound
	for _, w := range ws {
		v, ok := c.vmade[w]
		if !ok {
			continue
		}
		pv := proto.Variant{Width: v.Width, Height: v.Height}
		for j := range v.Files {
			o := &v.Files[j]
			key := ""
			if r.room(c, o) {
				key = r.keyNamed(c, o, fmt.Sprintf("%s-%dw%s", base, v.Width, optimize.ExtFor(o.Format)))
			}
			if key == "" {
				full = true
				continue
			}
			f := proto.VariantFile{Key: key, Format: o.Format, Bytes: int64(len(o.Data)), Quality: o.Quality}
			if o.Distance > 0 {
				f.Distance = RoundDistance(o.Distance)
			}
			pv.Files = append(pv.Files, f)
		}
		if len(pv.Files) > 0 {
			out = append(out, pv)
		}
	}
	note, why := "", ""
	vnote := c.vnote
	if full {
		vnote = whyFull
	}
	switch {
	case len(out) == 0 && vnote != "":
		why = vnote
	case len(out) == 0:
		why = whyFailed
	case len(out) < len(ws):
		note = vnote
		if note == "" {
			note = whyFailed
		}
	default:
		note = vnote
	}
	r.sendVariants(i, out, why, note)
}

// sendVariants sends row i its variants message, once: why when vs is
// empty, else note (the callers give only the one). r.mu is held.
func (r *run) sendVariants(i int, vs []proto.Variant, why, note string) {
	if r.closed || r.vsent[i] {
		return
	}
	r.vsent[i] = true
	if vs == nil {
		vs = []proto.Variant{}
	}
	msg := proto.Variants{Type: proto.TypeVariants, ID: r.req.ID, Index: i, Variants: vs, Reason: why, Note: note}
	if err := r.emit(msg); err != nil {
		r.s.cfg.Log.Error().Err(err).Msg("could not send variants")
	}
}

// fileBase is the base name of an image's URL without its extension
// ("image" when it has none), as fileName uses it.
func fileBase(rawURL string) string { return fileName(rawURL, "") }
