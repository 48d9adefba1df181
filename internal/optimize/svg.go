package optimize

// Step 2, for SVG only: an SVG is minified as text (never rasterized),
// and that is its one candidate.

import "github.com/imagediet/imgdiet/internal/svgclean"

func (e *Engine) svg(src []byte, opt Options, rep Report) (Report, error) {
	out, err := svgclean.Clean(src, svgclean.Options{KeepMetadata: opt.KeepMetadata})
	if err != nil {
		return rep, err
	}
	o := Output{Format: SVG, Data: out, Width: rep.Source.Width, Height: rep.Source.Height, Quality: 100,
		Reasons: []string{ReasonCompression}, verified: true}
	rep.Candidates = []Output{o}
	rep.Verified = true
	if int64(len(out)) < rep.Source.Bytes {
		rep.Best = &rep.Candidates[0]
	}
	return rep, nil
}
