package optimize

// Step 3: the pixels. The source is opened once, strictly (a truncated or
// corrupt file fails whatever reads its pixels first), auto-rotated,
// shrunk on load to the display box and converted to 8-bit sRGB with 3
// or 4 bands. Then it is either held decoded in memory, for the many
// encodes of a search, or, when that would not fit in the memory budget
// (or a single encode at a fixed quality reads it once anyway), read anew
// from the source's bytes by each encode. Either way the search that
// follows is the same: it asks the image for pixels to encode.

import (
	"context"
	"math"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/imagediet/imgdiet/internal/codec"
	"github.com/imagediet/imgdiet/internal/vipsrt"
)

// pic is one source's pixels as the encoders read them.
type pic struct {
	src []byte
	s   Source
	// boxW and boxH are the box the source is shrunk on load to fit.
	boxW, boxH int
	// width and height are the size of the pixels (all frames stacked).
	width, height int
	bands         int
	pageHeight    int
	frames        int
	// alpha reports that the source's alpha band is in use; when it is
	// not, the band is dropped and bands is 3.
	alpha bool
	// held is the image decoded in memory, or nil when each encode reads
	// the source anew (read).
	held *vips.ImageRef
	// reduced marks a copy shrunk below the source's size, searched in
	// place of an image too large to search at full size.
	reduced bool
	// noRoom marks an animation too large to encode whole within the
	// budget: it is encoded whole or not at all.
	noRoom bool
	// big marks an image read anew because holding it would not fit.
	big bool
	// spare is a lazy pipeline opened already and not read yet: the
	// first read takes it instead of opening the source again.
	spare *vips.ImageRef
	// need is the estimated peak of working on the image held in memory.
	need    int64
	mem     *budget
	limit   int64 // the memory budget
	release func()
	trim    bool
}

const unbounded = 10_000_000

// trimAbove is the estimated peak above which the C heap's freed memory is
// handed back to the system when a call ends, so that one large image
// does not leave the process large. Smaller calls skip it: the next one
// would fault the pages in again (AVIF or palette PNG of a 1.7 MP photo
// estimate 70-115 MB).
const trimAbove = 128 << 20

// open opens src for the search: held decoded when it fits in the memory
// budget (waiting for its share), else left to be read by each encode.
// The alpha band is checked for use either way.
func (e *Engine) open(ctx context.Context, src []byte, s Source, opt Options) (*pic, error) {
	w, h := box(s, opt)
	im := &pic{src: src, s: s, boxW: w, boxH: h, frames: s.Frames, mem: e.mem, limit: e.cfg.MemoryBudget,
		release: func() {}}
	ref, err := im.load()
	if err != nil {
		return nil, err
	}
	im.need = e.inMemoryCost(im, opt)
	if im.need > e.cfg.MemoryBudget {
		ref.Close()
		if im.frames > 1 {
			im.noRoom = true
			return im, nil
		}
		im.big = true
		return im, im.streamedAlpha(ctx)
	}
	if im.bands == 3 && opt.Quality > 0 && len(formats(im, opt)) == 1 {
		// One encode at a fixed quality reads the pixels once: let it read
		// them from the decoder, as a plain libvips pipeline would, through
		// the pipeline just opened.
		im.spare = ref
		return im, nil
	}
	release, err := e.mem.acquire(ctx, im.need)
	if err != nil {
		ref.Close()
		return nil, err
	}
	im.release, im.trim = release, im.need >= trimAbove
	if err := im.hold(ref); err != nil {
		ref.Close()
		im.close()
		return nil, err
	}
	return im, nil
}

// reduce opens a copy of full shrunk to the metric's size and holds it, for
// the formats too costly to search at full size.
func (e *Engine) reduce(ctx context.Context, full *pic, opt Options) (*pic, error) {
	w, h := metricSize(full.width, full.height, e.cfg.MetricPixels)
	im := &pic{src: full.src, s: full.s, boxW: w, boxH: h, frames: full.frames, mem: e.mem, limit: e.cfg.MemoryBudget,
		alpha: full.alpha, release: func() {}, trim: true}
	ref, err := im.load()
	if err != nil {
		return nil, err
	}
	im.reduced = im.width < full.width || im.height < full.height
	release, err := e.mem.acquire(ctx, min(e.inMemoryCost(im, opt), e.cfg.MemoryBudget))
	if err != nil {
		ref.Close()
		return nil, err
	}
	im.release = release
	if err := im.hold(ref); err != nil {
		ref.Close()
		im.close()
		return nil, err
	}
	return im, nil
}

// load opens the source as a lazy pipeline (nothing decoded yet) in the
// image's shape and notes its size; an alpha band known to be unused is
// dropped.
func (im *pic) load() (*vips.ImageRef, error) {
	ref, err := codec.Load(im.src, im.boxW, im.boxH, im.s.Animated)
	if err != nil {
		return nil, err
	}
	if err := im.convert(ref); err != nil {
		ref.Close()
		return nil, err
	}
	return ref, nil
}

// convert turns ref into 8-bit sRGB with 3 or 4 bands, dropping an alpha
// band known to be unused once the image has been held or checked, and
// notes its size.
func (im *pic) convert(ref *vips.ImageRef) error {
	if ref.Interpretation() != vips.InterpretationSRGB || ref.BandFormat() != vips.BandFormatUchar {
		if err := ref.ToColorSpace(vips.InterpretationSRGB); err != nil {
			return err
		}
	}
	if ref.BandFormat() != vips.BandFormatUchar {
		if err := ref.Cast(vips.BandFormatUchar); err != nil {
			return err
		}
	}
	if b := ref.Bands(); b > 4 {
		if err := ref.ExtractBand(0, 4); err != nil {
			return err
		}
	}
	if im.bands == 3 && ref.Bands() == 4 {
		// Checked before: the alpha band is all opaque.
		if err := ref.ExtractBand(0, 3); err != nil {
			return err
		}
	}
	if b := ref.Bands(); b != 3 && b != 4 {
		return errShape
	}
	im.width, im.height, im.bands = ref.Width(), ref.Height(), ref.Bands()
	im.pageHeight = im.height
	if im.frames > 1 {
		if ph := ref.GetPageHeight(); ph > 0 && im.height%ph == 0 {
			im.pageHeight = ph
			im.frames = im.height / ph
		}
	}
	return nil
}

// hold decodes ref into memory and keeps it. A 4-band image's alpha band
// is checked on the decoded pixels and dropped when every pixel is
// opaque.
func (im *pic) hold(ref *vips.ImageRef) error {
	if err := codec.Materialize(ref); err != nil {
		return err
	}
	if im.bands == 4 && !im.alpha {
		a, err := codec.AlphaMin(ref)
		if err != nil {
			return err
		}
		im.alpha = a < 255
		if !im.alpha {
			if err := ref.ExtractBand(0, 3); err != nil {
				return err
			}
			im.bands = 3
			if err := codec.Materialize(ref); err != nil {
				return err
			}
		}
	}
	im.held = ref
	return nil
}

// streamedAlpha checks, in one streaming pass, whether the alpha band of
// an image that is not held is in use, and drops it from the image's
// shape when it is not.
func (im *pic) streamedAlpha(ctx context.Context) error {
	if im.bands != 4 {
		return nil
	}
	release, err := im.mem.acquire(ctx, sourceCost(im.s, im.pixels(), 4))
	if err != nil {
		return err
	}
	defer release()
	ref, err := im.load()
	if err != nil {
		return err
	}
	defer ref.Close()
	a, err := codec.AlphaMin(ref)
	if err != nil {
		return err
	}
	im.alpha = a < 255
	if !im.alpha {
		im.bands = 3
	}
	return nil
}

// read returns the pixels for one step that needs cost bytes of memory,
// and the function that ends their use: the held image, or the source
// opened anew (the step's memory taken from the budget meanwhile).
func (im *pic) read(ctx context.Context, cost int64) (*vips.ImageRef, func(), error) {
	if im.held != nil {
		return im.held, func() {}, nil
	}
	release, err := im.mem.acquire(ctx, cost)
	if err != nil {
		return nil, nil, err
	}
	ref := im.spare
	im.spare = nil
	if ref == nil {
		if ref, err = im.load(); err != nil {
			release()
			return nil, nil, err
		}
	}
	return ref, func() {
		ref.Close()
		release()
		if im.big {
			vipsrt.Trim()
		}
	}, nil
}

// intact reports whether the source decodes strictly, every pixel: it
// tells a damaged source from an encoder's failure.
func (im *pic) intact() bool {
	return codec.Verify(im.src, im.s.Animated) == nil
}

func (im *pic) pixels() int64 { return int64(im.width) * int64(im.height) }

func (im *pic) close() {
	if im.spare != nil {
		im.spare.Close()
		im.spare = nil
	}
	if im.held != nil {
		im.held.Close()
		im.held = nil
	}
	im.release()
	if im.trim {
		vipsrt.Trim()
	}
}

// box is the size src is shrunk on load to fit: the display box when a
// resize is wanted, else unbounded.
func box(s Source, opt Options) (int, int) {
	if opt.width > 0 {
		return opt.width, unbounded
	}
	if bw := boxWidth(s, opt); bw > 0 {
		return bw, unbounded
	}
	return unbounded, unbounded
}

// boxWidth is the width to shrink to so that the image still covers the
// display box at dpr (object-fit: cover never shows it undersized), or 0
// when no resize is wanted.
func boxWidth(s Source, opt Options) int {
	if !opt.Resize || s.Width <= 0 || s.Height <= 0 {
		return 0
	}
	scale := 0.0
	if opt.DisplayWidth > 0 {
		scale = math.Ceil(opt.DisplayWidth*opt.DPR) / float64(s.Width)
	}
	if opt.DisplayHeight > 0 {
		scale = math.Max(scale, math.Ceil(opt.DisplayHeight*opt.DPR)/float64(s.Height))
	}
	if scale <= 0 || scale >= 1 {
		return 0
	}
	return max(1, int(math.Ceil(float64(s.Width)*scale)))
}
