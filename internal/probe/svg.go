package probe

import (
	"bytes"
	"encoding/xml"
	"math"
	"strconv"
	"strings"
)

// maxSVGProlog bounds the tokens read before the root element.
const maxSVGProlog = 256

// readSVG reads the intrinsic size from the root element's width, height
// and viewBox attributes. Unknown sizes (percentages, font-relative units,
// missing attributes) are left 0.
func readSVG(b []byte, info *Info) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	// Not strict: Illustrator writes xmlns="&ns_svg;" with the entity
	// declared in the DOCTYPE; an unknown entity is kept as text here and
	// a size that uses one reads as unknown.
	d.Strict = false
	info.Alpha = true // rendered on a transparent canvas
	info.BitDepth = 8
	for range maxSVGProlog {
		tok, err := d.RawToken()
		if err != nil {
			return errDamaged()
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local != "svg" {
			return errDamaged()
		}
		var w, h, vw, vh float64
		var wok, hok, vok bool
		for _, a := range se.Attr {
			if a.Name.Space != "" {
				continue
			}
			switch a.Name.Local {
			case "width":
				w, wok = svgLength(a.Value)
			case "height":
				h, hok = svgLength(a.Value)
			case "viewBox":
				vw, vh, vok = viewBox(a.Value)
			}
		}
		switch {
		case wok && hok:
		case vok && wok:
			h = w * vh / vw
		case vok && hok:
			w = h * vw / vh
		case vok:
			w, h = vw, vh
		}
		info.Width, info.Height = svgPixels(w), svgPixels(h)
		return nil
	}
	return errDamaged()
}

// svgPixels rounds a positive length in pixels, capping absurd values
// (which still exceed any pixel limit).
func svgPixels(v float64) int {
	switch {
	case !(v > 0):
		return 0
	case v > 1<<30:
		return 1 << 30
	}
	return max(1, int(math.Round(v)))
}

// svgLength parses an absolute SVG length in CSS pixels.
func svgLength(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	unit := 1.0
	for _, u := range []struct {
		suffix string
		px     float64
	}{{"px", 1}, {"pt", 4.0 / 3}, {"pc", 16}, {"mm", 96 / 25.4}, {"cm", 96 / 2.54}, {"in", 96}} {
		if strings.HasSuffix(s, u.suffix) {
			s, unit = strings.TrimSpace(s[:len(s)-2]), u.px
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, false
	}
	return v * unit, true
}

// viewBox parses "min-x min-y width height" and returns width and height.
func viewBox(s string) (w, h float64, ok bool) {
	f := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
	if len(f) != 4 {
		return 0, 0, false
	}
	w, err1 := strconv.ParseFloat(f[2], 64)
	h, err2 := strconv.ParseFloat(f[3], 64)
	if err1 != nil || err2 != nil || !(w > 0) || !(h > 0) || math.IsInf(w, 0) || math.IsInf(h, 0) {
		return 0, 0, false
	}
	return w, h, true
}
