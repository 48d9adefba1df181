package optimize

// The last step: the candidates in order, the one to offer, and whether
// that answer is verified.

import (
	"fmt"
	"sort"
	"time"
)

// settle makes outs the report's candidates, smallest first, each with
// its reasons, and picks the best (see pick).
func (rep *Report) settle(outs []Output, complete bool) {
	sort.SliceStable(outs, func(i, j int) bool { return len(outs[i].Data) < len(outs[j].Data) })
	for i := range outs {
		outs[i].Reasons = reasons(rep.Source, outs[i])
	}
	rep.Candidates = outs
	rep.Best, rep.Verified = pick(rep.Source, outs, complete)
}

// pick returns the output to offer, from outs sorted smallest first: the
// smallest verified one strictly smaller than the source, else the
// smallest unverified one (an estimate), else nil (keep the original).
// verified reports that this verdict holds at the target: its output was
// verified, or, when the original is kept, complete is set (every format
// was checked to the end).
func pick(s Source, outs []Output, complete bool) (best *Output, verified bool) {
	for i := range outs {
		if int64(len(outs[i].Data)) >= s.Bytes {
			break
		}
		if outs[i].verified {
			return &outs[i], true
		}
		if best == nil {
			best = &outs[i]
		}
	}
	if best != nil {
		return best, false
	}
	return nil, complete
}

func reasons(s Source, o Output) []string {
	var r []string
	if o.Width*o.Height < s.Width*s.Height {
		r = append(r, ReasonResize)
	}
	if o.Format != s.Format {
		r = append(r, ReasonFormat)
	}
	if len(r) == 0 {
		r = append(r, ReasonCompression)
	}
	return r
}

// budgetNote is the sentence a report cut short by its time budget
// carries.
func budgetNote(d time.Duration, found bool) string {
	s := max(1, int(d.Round(time.Second)/time.Second))
	if found {
		return fmt.Sprintf("Image Diet stopped refining this image after %d s of work, its budget; this is the smallest result checked before then.", s)
	}
	return fmt.Sprintf("Image Diet stopped working on this image after %d s of work, its budget, before any smaller result was checked.", s)
}
