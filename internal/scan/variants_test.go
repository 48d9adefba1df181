package scan

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/proto"
	"github.com/imagediet/imgdiet/internal/store"
)

// TestCandidateKeys checks what a verified result names beside its best:
// every candidate smaller than the original under a held key (the best's
// own key for the best's bytes) with the distance measured for it, within
// the target; an estimate names no candidate key and no distance.
func TestCandidateKeys(t *testing.T) {
	src := jpegBytes(t, photo(480, 320, 7), 95)
	srv := newSite(t, map[string][]byte{"/a.jpg": src})
	held := store.New(store.Config{})
	s := scanner(newRecorder(), held, 1)
	msgs := collect(t, s, context.Background(), pageRequest(t, srv,
		`{"formats":["jpeg","webp","png"],"quality":"auto","target":"balanced","minSavingsBytes":0}`, []row{{"/a.jpg", 240, 160, 1}}))
	rows := byRow(msgs)
	final := finalOf(t, rows, 0)
	if final["verified"] != true {
		t.Fatalf("final not verified: %v", final)
	}
	best := bestOf(t, final)
	if d, _ := best["distance"].(float64); d <= 0 || d > 1.4 {
		t.Errorf("best.distance = %v, want in (0, 1.4]", best["distance"])
	}
	cands := final["candidates"].([]any)
	keyed := 0
	for _, x := range cands {
		c := x.(map[string]any)
		smaller := c["bytes"].(float64) < float64(len(src))
		key, _ := c["key"].(string)
		if smaller != (key != "") {
			t.Errorf("candidate %v: key %q, smaller than the original %v", c["format"], key, smaller)
		}
		if key != "" {
			keyed++
			it, ok := held.Get(key)
			if !ok || float64(len(it.Data)) != c["bytes"].(float64) || it.Format != c["format"] {
				t.Errorf("candidate %v: key %s holds %d bytes of %s (%v), want %v bytes", c["format"], key, len(it.Data), it.Format, ok, c["bytes"])
			}
		}
		d, hasD := c["distance"].(float64)
		lossless := c["format"] == "png" && c["quality"] == float64(100)
		if lossless == hasD || (hasD && (d <= 0 || d > 1.4)) {
			t.Errorf("candidate %v q%v: distance %v (lossless %v)", c["format"], c["quality"], c["distance"], lossless)
		}
		if c["format"] == best["format"] && c["bytes"] == best["bytes"] && (c["key"] != best["key"] || c["distance"] != best["distance"]) {
			t.Errorf("the best's candidate %v differs from best %v", c, best)
		}
	}
	if keyed < 2 {
		t.Errorf("%d keyed candidates, want at least 2: %v", keyed, cands)
	}
	for _, m := range rows[0] {
		if m["verified"] == true {
			continue
		}
		for _, x := range m["candidates"].([]any) {
			if c := x.(map[string]any); c["key"] != nil || c["distance"] != nil {
				t.Errorf("estimate candidate %v carries a key or distance", c)
			}
		}
	}
}

// TestVariantWidths checks the width rule: round(displayWidth) × 1 and
// × 2 and the srcset's widths, capped at the original width, unique,
// ascending; none, with a reason, for images that need none.
func TestVariantWidths(t *testing.T) {
	ok := func(w int, format string, animated bool) *proto.Result {
		return &proto.Result{Status: proto.StatusOptimized, Original: &proto.Original{Width: w, Height: w / 2, Format: format, Animated: animated}}
	}
	tests := []struct {
		name   string
		im     proto.Image
		res    *proto.Result
		want   []int
		reason string
	}{
		{"x1 and x2", proto.Image{DisplayWidth: 640, DPR: 2}, ok(1600, "jpeg", false), []int{640, 1280}, ""},
		{"x2 capped", proto.Image{DisplayWidth: 640}, ok(1000, "jpeg", false), []int{640, 1000}, ""},
		{"rounded", proto.Image{DisplayWidth: 320.5}, ok(1000, "png", false), []int{321, 642}, ""},
		{"srcset merged", proto.Image{DisplayWidth: 400, SrcsetWidths: []int{1200, 800, 400, 3000, 1}}, ok(1600, "webp", false), []int{1, 400, 800, 1200, 1600}, ""},
		{"optimal too", proto.Image{DisplayWidth: 100}, &proto.Result{Status: proto.StatusOptimal, Original: &proto.Original{Width: 300, Format: "jpeg"}}, []int{100, 200}, ""},
		{"not smaller", proto.Image{DisplayWidth: 640}, ok(640, "jpeg", false), nil, whyNotSmaller},
		{"larger", proto.Image{DisplayWidth: 800}, ok(640, "jpeg", false), nil, whyNotSmaller},
		{"no display", proto.Image{}, ok(640, "jpeg", false), nil, whyNoDisplay},
		{"display under half", proto.Image{DisplayWidth: 0.4}, ok(640, "jpeg", false), nil, whyNoDisplay},
		{"animated", proto.Image{DisplayWidth: 100}, ok(640, "gif", true), nil, whyAnimated},
		{"svg", proto.Image{DisplayWidth: 100}, ok(640, "svg", false), nil, whySVG},
		{"error", proto.Image{DisplayWidth: 100}, &proto.Result{Status: proto.StatusError}, nil, whyError},
		{"error with original", proto.Image{DisplayWidth: 100}, &proto.Result{Status: proto.StatusError, Original: &proto.Original{Width: 900}}, nil, whyError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := VariantWidths(tt.im, tt.res)
			if !slices.Equal(got, tt.want) || why != tt.reason {
				t.Fatalf("variantWidths = %v %q, want %v %q", got, why, tt.want, tt.reason)
			}
		})
	}
}

// TestVariantChain checks the chain rule.
func TestVariantChain(t *testing.T) {
	tests := []struct {
		best, source string
		alpha        bool
		want         []string
	}{
		{"avif", "jpeg", false, []string{"avif", "webp", "jpeg"}},
		{"avif", "png", true, []string{"avif", "webp", "png"}},
		{"webp", "jpeg", false, []string{"webp", "jpeg"}},
		{"webp", "png", true, []string{"webp", "png"}},
		{"jpeg", "jpeg", false, []string{"jpeg"}},
		{"png", "png", true, []string{"png"}},
		{"", "jpeg", false, []string{"jpeg"}},
		{"", "webp", false, []string{"webp"}},
		{"", "gif", false, []string{"gif"}},
		{"", "tiff", false, []string{"jpeg"}},
		{"", "tiff", true, []string{"png"}},
	}
	for _, tt := range tests {
		if got := VariantChain(tt.best, tt.source, tt.alpha); !slices.Equal(got, tt.want) {
			t.Errorf("VariantChain(%q, %q, %v) = %v, want %v", tt.best, tt.source, tt.alpha, got, tt.want)
		}
	}
}

// variantCounter wraps the real engine and counts Variants calls; before
// each, hook (when set) runs.
type variantCounter struct {
	Engine
	n    atomic.Int64
	hook func()
}

func (e *variantCounter) Variants(ctx context.Context, src []byte, req optimize.VariantRequest) (optimize.VariantReport, error) {
	e.n.Add(1)
	if e.hook != nil {
		e.hook()
	}
	return e.Engine.Variants(ctx, src, req)
}

// TestScanVariants runs a page with variants: every row gets exactly one
// variants message, after its final result and before done; a photo
// shown smaller gets its widths (display × 1 and × 2 and its srcset,
// capped) in its chain of formats, each file held under its key and
// decoding to exactly its declared size, within the target; identical
// bytes behind another URL share the files and keys, made in one engine
// call; rows that need none get a reason.
func TestScanVariants(t *testing.T) {
	big := jpegBytes(t, photo(960, 640, 21), 95)
	small := jpegBytes(t, photo(200, 150, 22), 95)
	srv := newSite(t, map[string][]byte{"/big.jpg": big, "/twin.jpg": big, "/small.jpg": small})
	held := store.New(store.Config{})
	eng := &variantCounter{Engine: newRecorder()}
	s := scanner(eng, held, 2)
	req := &proto.ScanRequest{Type: "scan", ID: "v", Page: proto.Page{URL: srv.url("/")},
		Settings: settings(t, `{"formats":["jpeg","webp","avif"],"quality":"auto","variants":true}`),
		Images: []proto.Image{
			{URL: srv.url("/big.jpg"), DisplayWidth: 300, DisplayHeight: 200, DPR: 2, SrcsetWidths: []int{480, 2000}},
			{URL: srv.url("/small.jpg"), DisplayWidth: 200, DisplayHeight: 150, DPR: 1},
			{URL: srv.url("/missing.jpg"), DisplayWidth: 100, DPR: 1},
			{URL: srv.url("/twin.jpg"), DisplayWidth: 480, DisplayHeight: 320, DPR: 1},
		}}
	msgs := collect(t, s, context.Background(), req)
	final, vmsg, done := map[int]int{}, map[int]int{}, -1
	for n, m := range msgs {
		i, _ := m["index"].(float64)
		switch {
		case m["type"] == "result" && m["final"] == true:
			final[int(i)] = n
		case m["type"] == "variants":
			if _, dup := vmsg[int(i)]; dup {
				t.Errorf("row %d got two variants messages", int(i))
			}
			vmsg[int(i)] = n
		case m["type"] == "done":
			done = n
		}
	}
	for i := range req.Images {
		f, okf := final[i]
		v, okv := vmsg[i]
		if !okf || !okv || f > v || v > done {
			t.Errorf("row %d: final at %d (%v), variants at %d (%v), done at %d: want final, variants, done", i, f, okf, v, okv, done)
		}
	}
	get := func(i int) map[string]any { return msgs[vmsg[i]] }
	for i, why := range map[int]string{1: whyNotSmaller, 2: whyError} {
		if m := get(i); len(m["variants"].([]any)) != 0 || m["reason"] != why {
			t.Errorf("row %d: %v, want no variants because %q", i, m, why)
		}
	}
	files := map[int]map[string]string{} // width → format → key, from row 0
	check := func(i int, wantWidths []int) {
		m := get(i)
		if m["reason"] != nil || m["note"] != nil {
			t.Errorf("row %d: reason %v note %v", i, m["reason"], m["note"])
		}
		var widths []int
		for _, x := range m["variants"].([]any) {
			v := x.(map[string]any)
			w, h := int(v["width"].(float64)), int(v["height"].(float64))
			widths = append(widths, w)
			var formats []string
			for _, y := range v["files"].([]any) {
				f := y.(map[string]any)
				key, format := f["key"].(string), f["format"].(string)
				formats = append(formats, format)
				it, ok := held.Get(key)
				if !ok || float64(len(it.Data)) != f["bytes"].(float64) || it.Format != format {
					t.Fatalf("row %d width %d %s: key %s not held as declared", i, w, format, key)
				}
				img, err := vips.NewImageFromBuffer(it.Data)
				if err != nil {
					t.Fatalf("row %d width %d %s does not decode: %v", i, w, format, err)
				}
				if img.Width() != w || img.Height() != h {
					t.Errorf("row %d: %s declared %d×%d decodes to %d×%d", i, format, w, h, img.Width(), img.Height())
				}
				img.Close()
				if d, _ := f["distance"].(float64); d <= 0 || d > 1.4 {
					t.Errorf("row %d width %d %s: distance %v, want within balanced's 1.4", i, w, format, f["distance"])
				}
				if i == 0 {
					if files[w] == nil {
						files[w] = map[string]string{}
					}
					files[w][format] = key
				} else if k, ok := files[w][format]; ok && k != key {
					t.Errorf("row %d width %d %s: key %s, row 0 has %s for the same bytes", i, w, format, key, k)
				}
			}
			best := msgs[final[i]]["best"].(map[string]any)["format"].(string)
			if want := VariantChain(best, "jpeg", false); !slices.Equal(formats, want) {
				t.Errorf("row %d width %d: formats %v, want the chain %v", i, w, formats, want)
			}
		}
		if !slices.Equal(widths, wantWidths) {
			t.Errorf("row %d widths %v, want %v", i, widths, wantWidths)
		}
	}
	check(0, []int{300, 480, 600, 960})
	check(3, []int{480, 960})
	if n := eng.n.Load(); n != 1 {
		t.Errorf("%d engine Variants calls for one photo behind two URLs, want 1", n)
	}
}

// TestScanVariantsCancel cancels a scan while its variants are being
// made: done arrives canceled, no variants message is sent for the row,
// nothing more is held than the results named, and the kept source bytes
// are given back.
func TestScanVariantsCancel(t *testing.T) {
	big := jpegBytes(t, photo(800, 600, 23), 95)
	srv := newSite(t, map[string][]byte{"/big.jpg": big})
	held := store.New(store.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eng := &variantCounter{Engine: newRecorder(), hook: cancel}
	s := scanner(eng, held, 1)
	req := &proto.ScanRequest{Type: "scan", ID: "c", Page: proto.Page{URL: srv.url("/")},
		Settings: settings(t, `{"formats":["jpeg","webp"],"quality":"auto","variants":true,"minSavingsBytes":0}`),
		Images:   []proto.Image{{URL: srv.url("/big.jpg"), DisplayWidth: 200, DPR: 1}}}
	msgs := collect(t, s, ctx, req)
	named := map[string]bool{}
	for _, m := range msgs {
		switch m["type"] {
		case "variants":
			t.Errorf("a variants message after the cancel: %v", m)
		case "done":
			if m["canceled"] != true {
				t.Errorf("done not canceled: %v", m)
			}
		case "result":
			if b, _ := m["best"].(map[string]any); b != nil {
				named[b["key"].(string)] = true
			}
			for _, x := range m["candidates"].([]any) {
				if k, _ := x.(map[string]any)["key"].(string); k != "" {
					named[k] = true
				}
			}
		}
	}
	if eng.n.Load() != 1 {
		t.Fatalf("Variants called %d times, want 1", eng.n.Load())
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.sources.Load() != 0 || s.running.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after the cancel: %d source bytes kept, %d scans running", s.sources.Load(), s.running.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(3 * s.cfg.ReleaseGrace)
	if n := held.Len(); n > len(named) {
		t.Errorf("%d files held, but the results named %d", n, len(named))
	}
}

// fullHolder is a store that says it is at its bound.
type fullHolder struct{ *store.Store }

func (h fullHolder) Bytes() int64 { return h.MaxBytes() }

// TestHeldBound checks that files besides the answers never push the
// answers out of a full holder: with the holder at its bound, a verified
// result's best is held but no other candidate, and a variants message
// lists only files already held (the best's bytes at its own width),
// with a note.
func TestHeldBound(t *testing.T) {
	src := jpegBytes(t, photo(480, 320, 31), 95)
	srv := newSite(t, map[string][]byte{"/a.jpg": src})
	held := store.New(store.Config{})
	s := scanner(newRecorder(), fullHolder{held}, 1)
	msgs := collect(t, s, context.Background(), pageRequest(t, srv,
		`{"formats":["jpeg","webp"],"quality":"auto","minSavingsBytes":0,"variants":true}`, []row{{"/a.jpg", 240, 160, 1}}))
	final := finalOf(t, byRow(msgs), 0)
	best := bestOf(t, final)
	for _, x := range final["candidates"].([]any) {
		c := x.(map[string]any)
		if k, _ := c["key"].(string); (k != "") != (k == best["key"]) {
			t.Errorf("candidate %v has key %q, best %v: only the best may be held", c["format"], k, best["key"])
		}
	}
	var v map[string]any
	for _, m := range msgs {
		if m["type"] == "variants" {
			v = m
		}
	}
	if v == nil || v["note"] != whyFull {
		t.Fatalf("variants %v, want the note %q", v, whyFull)
	}
	for _, x := range v["variants"].([]any) {
		for _, y := range x.(map[string]any)["files"].([]any) {
			if k := y.(map[string]any)["key"]; k != best["key"] {
				t.Errorf("variant file %v held with key %v, not the best's", y, k)
			}
		}
	}
	time.Sleep(3 * s.cfg.ReleaseGrace) // an estimate's own key is released
	if held.Len() != 1 {
		t.Errorf("%d files held, want the best alone", held.Len())
	}
}
