package scan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"image"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/imagediet/imgdiet/internal/fetch"
	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/proto"
	"github.com/imagediet/imgdiet/internal/store"
	"github.com/rs/zerolog"
)

// call is one Optimize call as the engine saw it.
type call struct {
	hash   [sha256.Size]byte
	final  bool // not SkipSlow
	box    box
	budget time.Duration
}

// recorder wraps the real engine and records every call. When final is
// set, a final pass (SkipSlow off) runs the real engine and then hands its
// report to final, which plays what an engine may do around it (report
// progress, fail, wait).
type recorder struct {
	Engine
	final func(ctx context.Context, opt optimize.Options, rep optimize.Report, err error) (optimize.Report, error)
	mu    sync.Mutex
	calls []call
}

func newRecorder() *recorder {
	return &recorder{Engine: optimize.New(optimize.Config{Log: zerolog.Nop()})}
}

func (e *recorder) Optimize(ctx context.Context, src []byte, opt optimize.Options) (optimize.Report, error) {
	e.mu.Lock()
	e.calls = append(e.calls, call{sha256.Sum256(src), !opt.SkipSlow, box{opt.DisplayWidth, opt.DisplayHeight}, opt.Budget})
	e.mu.Unlock()
	if e.final != nil && !opt.SkipSlow {
		// final plays the engine's progress: the real pass reports none.
		inner := opt
		inner.Progress = nil
		rep, err := e.Engine.Optimize(ctx, src, inner)
		return e.final(ctx, opt, rep, err)
	}
	return e.Engine.Optimize(ctx, src, opt)
}

// callsOf returns the calls made on src.
func (e *recorder) callsOf(src []byte) []call {
	h := sha256.Sum256(src)
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []call
	for _, c := range e.calls {
		if c.hash == h {
			out = append(out, c)
		}
	}
	return out
}

// scanner returns a Scanner with the given workers and one fetcher, so
// rows are fetched in page order.
func scanner(eng Engine, held Holder, workers int) *Scanner {
	log := zerolog.Nop()
	return New(Config{
		Workers:      workers,
		Fetchers:     1,
		Fetcher:      fetch.New(fetch.DefaultConfig(), log),
		Engine:       eng,
		Held:         held,
		Log:          log,
		ReleaseGrace: 30 * time.Millisecond,
	})
}

// row is one image of a test page: a request URI and its display box.
type row struct {
	uri  string
	w, h float64
	dpr  float64
}

func pageRequest(t *testing.T, srv *site, set string, rows []row) *proto.ScanRequest {
	req := &proto.ScanRequest{Type: "scan", ID: "s", Page: proto.Page{URL: srv.url("/")}, Settings: settings(t, set)}
	for _, r := range rows {
		req.Images = append(req.Images, proto.Image{URL: srv.url(r.uri), DisplayWidth: r.w, DisplayHeight: r.h, DPR: r.dpr})
	}
	return req
}

// byRow splits a scan's results by index, in the order they came.
func byRow(msgs []map[string]any) map[int][]map[string]any {
	out := map[int][]map[string]any{}
	for _, m := range msgs {
		if m["type"] == "result" {
			i := int(m["index"].(float64))
			out[i] = append(out[i], m)
		}
	}
	return out
}

// finalOf returns row i's final result, failing unless there is exactly one.
func finalOf(t *testing.T, rows map[int][]map[string]any, i int) map[string]any {
	t.Helper()
	var f map[string]any
	for _, m := range rows[i] {
		if m["final"] == true {
			if f != nil {
				t.Fatalf("row %d has two final results", i)
			}
			f = m
		}
	}
	if f == nil {
		t.Fatalf("row %d has no final result: %v", i, rows[i])
	}
	return f
}

func bestOf(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	b, _ := m["best"].(map[string]any)
	if b == nil {
		t.Fatalf("result has no best: %v", m)
	}
	return b
}

// assertCovers checks that row r's best is at least as large as r is shown.
func assertCovers(t *testing.T, i int, r row, best map[string]any) {
	t.Helper()
	dpr := max(r.dpr, 1)
	if w, h := best["width"].(float64), best["height"].(float64); w < math.Ceil(r.w*dpr) || h < math.Ceil(r.h*dpr) {
		t.Errorf("row %d shown at %v×%v@%v got a %v×%v image", i, r.w, r.h, r.dpr, w, h)
	}
}

// TestDedupByContent checks that identical bytes behind different URLs are
// optimized once per pass, for the largest box any of their rows needs,
// and that every row gets the same key.
func TestDedupByContent(t *testing.T) {
	a := jpegBytes(t, photo(320, 240, 11), 95)
	b := jpegBytes(t, photo(300, 200, 12), 95)
	// The first row asks for the largest box, so the rows after it join
	// what is already being worked on; TestDedupLargerTwinLater covers a
	// larger box coming later.
	rows := []row{
		{"/copy/a.jpg", 240, 160, 1},
		{"/a.jpg?v=0", 120, 80, 1},
		{"/a.jpg?v=1", 120, 80, 1},
		{"/b.jpg", 150, 100, 1},
		{"/a.jpg?v=2", 100, 50, 2}, // 200×100 device pixels
		{"/a.jpg?v=0", 60, 40, 1},  // same URL as row 1
		{"/a.jpg?v=3", 120, 80, 1},
	}
	aRows := []int{0, 1, 2, 4, 5, 6}
	tests := []struct {
		name string
		set  string
		// calls is how many engine calls a content costs: the estimate,
		// and the final pass when there is one.
		calls int
	}{
		{"one pass", `{"formats":["jpeg","webp"],"quality":80}`, 1},
		{"estimate then final", `{"formats":["jpeg","webp"],"quality":"auto"}`, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, map[string][]byte{"/a.jpg": a, "/b.jpg": b, "/copy/a.jpg": a})
			eng := newRecorder()
			held := store.New(store.Config{})
			// One worker keeps the page order, so the largest box is
			// fetched first.
			msgs := collect(t, scanner(eng, held, 1), context.Background(), pageRequest(t, srv, tt.set, rows))
			res := byRow(msgs)
			if got := len(eng.callsOf(a)); got != tt.calls {
				t.Errorf("the shared photo cost %d engine calls, want %d", got, tt.calls)
			}
			if got := len(eng.callsOf(b)); got != tt.calls {
				t.Errorf("the other photo cost %d engine calls, want %d", got, tt.calls)
			}
			for _, c := range eng.callsOf(a) {
				if c.box != (box{240, 160}) {
					t.Errorf("the shared photo was optimized for %v, want the union of its rows' boxes 240×160", c.box)
				}
			}
			key := bestOf(t, finalOf(t, res, 0))["key"]
			for _, i := range aRows {
				best := bestOf(t, finalOf(t, res, i))
				if best["key"] != key {
					t.Errorf("row %d has key %v, row 0 has %v", i, best["key"], key)
				}
				assertCovers(t, i, rows[i], best)
			}
			if bestOf(t, finalOf(t, res, 3))["key"] == key {
				t.Error("a different photo shares the key")
			}
			if item, ok := held.Get(key.(string)); !ok || len(item.Data) != int(bestOf(t, finalOf(t, res, 0))["bytes"].(float64)) {
				t.Errorf("the shared key holds %d bytes (held %v)", len(item.Data), ok)
			}
			for _, uri := range []string{"/a.jpg?v=0", "/a.jpg?v=1", "/a.jpg?v=2", "/a.jpg?v=3", "/copy/a.jpg", "/b.jpg"} {
				if n := srv.hitsOf(uri); n != 1 {
					t.Errorf("%s fetched %d times, want once", uri, n)
				}
			}
			sum := msgs[len(msgs)-1]["summary"].(map[string]any)
			if sum["optimized"] != float64(len(rows)) || sum["originalBytes"] != float64(6*len(a)+len(b)) {
				t.Errorf("summary %v: want %d optimized rows over %d original bytes", sum, len(rows), 6*len(a)+len(b))
			}
		})
	}
}

// TestDedupLargerTwinLater checks the two ways a row needing a larger box
// can join bytes already being worked on: before their final pass starts
// (the estimate runs again and the final pass serves every row), and after
// their final answer went out (the row gets an answer of its own).
func TestDedupLargerTwinLater(t *testing.T) {
	a := jpegBytes(t, photo(360, 240, 21), 95)
	// Neither box holds the other. On this 360×240 photo the wide one
	// alone needs 180×120, the tall one (and both together) 240×160.
	rows := []row{{"/a.jpg?wide", 180, 60, 1}, {"/a.jpg?tall", 90, 160, 1}}
	tests := []struct {
		name string
		set  string
		// calls lists the boxes the engine worked for, in order.
		calls    []call
		sameKeys bool
		width0   int // of row 0's final best
	}{
		{
			// The estimates are not all made before the larger twin
			// arrives, so no final pass has started.
			"before the final pass", `{"formats":["jpeg","webp"],"quality":"auto"}`,
			[]call{{box: box{180, 60}}, {box: box{180, 160}}, {final: true, box: box{180, 160}}}, true, 240,
		},
		{
			// No final pass: the wide row's answer is final before the
			// larger twin arrives.
			"after the final answer", `{"formats":["jpeg","webp"],"quality":80}`,
			[]call{{final: true, box: box{180, 60}}, {final: true, box: box{90, 160}}}, false, 180,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, map[string][]byte{"/a.jpg": a})
			// The tall row's bytes arrive once the wide row has its
			// first answer (its final one when there is no final pass).
			gate := make(chan struct{})
			srv.gates = map[string]chan struct{}{"/a.jpg?tall": gate}
			var once sync.Once
			eng := newRecorder()
			msgs := collectHook(t, scanner(eng, store.New(store.Config{}), 1), context.Background(), pageRequest(t, srv, tt.set, rows),
				func(m map[string]any) {
					if m["type"] == "result" && m["index"] == float64(0) {
						once.Do(func() { close(gate) })
					}
				})
			var got []call
			for _, c := range eng.callsOf(a) {
				got = append(got, call{final: c.final, box: c.box})
			}
			if !slices.Equal(got, tt.calls) {
				t.Errorf("engine calls %v, want %v", got, tt.calls)
			}
			res := byRow(msgs)
			b0, b1 := bestOf(t, finalOf(t, res, 0)), bestOf(t, finalOf(t, res, 1))
			for i, b := range []map[string]any{b0, b1} {
				assertCovers(t, i, rows[i], b)
			}
			if (b0["key"] == b1["key"]) != tt.sameKeys {
				t.Errorf("keys %v and %v: same = %v, want %v", b0["key"], b1["key"], b0["key"] == b1["key"], tt.sameKeys)
			}
			// No verified answer, final or not, is too small for its row.
			for i := range rows {
				for _, m := range res[i] {
					if m["verified"] == true && m["best"] != nil {
						assertCovers(t, i, rows[i], bestOf(t, m))
					}
				}
			}
			if w := b0["width"]; w != float64(tt.width0) {
				t.Errorf("row 0's final best is %v wide, want %d", w, tt.width0)
			}
		})
	}
}

// TestDedupFailure checks that bytes the engine cannot read fail once, for
// every row that shares them, whatever box a later row needs.
func TestDedupFailure(t *testing.T) {
	bad := []byte("GIF89a, then nothing an image needs")
	srv := newSite(t, map[string][]byte{"/bad.gif": bad})
	srv.delays = map[string]time.Duration{"/bad.gif?2": 200 * time.Millisecond}
	rows := []row{{"/bad.gif?1", 10, 10, 1}, {"/bad.gif?2", 100, 100, 1}, {"/bad.gif?3", 5, 5, 1}}
	for _, set := range []string{`{"quality":80,"formats":["jpeg"]}`, `{"quality":"auto"}`} {
		t.Run(set, func(t *testing.T) {
			eng := newRecorder()
			res := byRow(collect(t, scanner(eng, store.New(store.Config{}), 1), context.Background(), pageRequest(t, srv, set, rows)))
			for i := range rows {
				f := finalOf(t, res, i)
				if e, _ := f["error"].(map[string]any); f["status"] != "error" || e["code"] != "decode_failed" {
					t.Errorf("row %d: %v, want decode_failed", i, f)
				}
			}
			if n := len(eng.callsOf(bad)); n != 1 {
				t.Errorf("%d engine calls for the shared broken bytes, want 1", n)
			}
		})
	}
}

// TestFetchesRunAhead checks that fetches overlap each other and the
// engine's work: with one worker, Fetchers requests are in flight at once,
// never more.
func TestFetchesRunAhead(t *testing.T) {
	files := map[string][]byte{}
	var rows []row
	for i := range 6 {
		p := fmt.Sprintf("/p%d.jpg", i)
		files[p] = jpegBytes(t, photo(64, 48, int64(80+i)), 90)
		rows = append(rows, row{uri: p})
	}
	srv := newSite(t, files)
	srv.delays = map[string]time.Duration{}
	for p := range files {
		srv.delays[p] = 200 * time.Millisecond
	}
	log := zerolog.Nop()
	s := New(Config{Workers: 1, Fetchers: 3, Fetcher: fetch.New(fetch.DefaultConfig(), log),
		Engine: newRecorder(), Held: store.New(store.Config{}), Log: log})
	res := byRow(collect(t, s, context.Background(), pageRequest(t, srv, `{"formats":["jpeg"],"quality":80}`, rows)))
	for i := range rows {
		if f := finalOf(t, res, i); f["status"] == "error" {
			t.Errorf("row %d: %v", i, f)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.most != 3 {
		t.Errorf("at most %d fetches in flight, want 3 (Fetchers)", srv.most)
	}
}

// TestAnimationFinalSaysUnverified checks that an animation, which gets
// one pass measured with the fast metric only, has a final result that
// says it is not verified and why.
func TestAnimationFinalSaysUnverified(t *testing.T) {
	// Photo-like frames, made an animated lossy WebP: its lossy
	// re-encode, measured with the fast metric only, is the answer.
	anim := &gif.GIF{}
	for i := range 3 {
		fr := image.NewPaletted(image.Rect(0, 0, 96, 64), palette.Plan9)
		draw.FloydSteinberg.Draw(fr, fr.Rect, photo(96, 64, int64(90+i)), image.Point{})
		anim.Image = append(anim.Image, fr)
		anim.Delay = append(anim.Delay, 10)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, anim); err != nil {
		t.Fatal(err)
	}
	rep, err := optimize.New(optimize.Config{Log: zerolog.Nop()}).Optimize(context.Background(), b.Bytes(), optimize.Options{Formats: []string{"webp"}, Quality: 95})
	if err != nil || len(rep.Candidates) == 0 || rep.Candidates[0].Format != "webp" {
		t.Fatalf("making an animated WebP: %v %+v", err, rep.Candidates)
	}
	srv := newSite(t, map[string][]byte{"/a.webp": rep.Candidates[0].Data})
	res := byRow(collect(t, scanner(newRecorder(), store.New(store.Config{}), 1), context.Background(),
		pageRequest(t, srv, `{"formats":["webp"],"quality":"auto","minSavingsBytes":0}`, []row{{uri: "/a.webp"}})))
	if len(res[0]) != 1 {
		t.Fatalf("an animation got %d results, want one final: %v", len(res[0]), res[0])
	}
	f := finalOf(t, res, 0)
	if f["original"].(map[string]any)["animated"] != true || f["verified"] != false || f["note"] != noteAnimation {
		t.Errorf("final %v, want an animated original, verified false and the note %q", f, noteAnimation)
	}
}

// TestFinalPassOrder checks that every image gets its estimate before any
// final pass starts, and that the final passes run in order of the
// savings the estimates promised, largest first.
func TestFinalPassOrder(t *testing.T) {
	files := map[string][]byte{
		"/p0.jpg": jpegBytes(t, photo(160, 120, 31), 95),
		"/p1.jpg": jpegBytes(t, photo(480, 360, 32), 95),
		"/p2.jpg": jpegBytes(t, photo(320, 240, 33), 95),
		"/p3.jpg": jpegBytes(t, photo(240, 180, 34), 80),
	}
	srv := newSite(t, files)
	var rows []row
	for i := range len(files) {
		rows = append(rows, row{uri: fmt.Sprintf("/p%d.jpg", i)})
	}
	// Fixed quality with AVIF: the estimate is JPEG and WebP, the final
	// pass AVIF, which is quick on these sizes.
	set := `{"formats":["jpeg","webp","avif"],"quality":70,"minSavingsBytes":0}`
	// One worker: with more, the first final pass may start while another
	// worker still estimates the last image, so only the rest would follow
	// the order.
	eng := newRecorder()
	msgs := collect(t, scanner(eng, store.New(store.Config{}), 1), context.Background(), pageRequest(t, srv, set, rows))
	promised := map[[sha256.Size]byte]int64{}
	for _, m := range msgs {
		if m["type"] != "result" || m["final"] == true {
			continue
		}
		o := m["original"].(map[string]any)["bytes"].(float64)
		saved := 0.0
		if b, _ := m["best"].(map[string]any); b != nil {
			saved = o - b["bytes"].(float64)
		}
		promised[sha256.Sum256(files[rows[int(m["index"].(float64))].uri])] = int64(saved)
	}
	var order, pageOrder []int64
	for _, r := range rows {
		pageOrder = append(pageOrder, promised[sha256.Sum256(files[r.uri])])
	}
	for i, c := range eng.calls {
		if !c.final {
			if i >= len(files) {
				t.Errorf("an estimate came after a final pass had started: %v", eng.calls)
			}
			continue
		}
		order = append(order, promised[c.hash])
	}
	if len(order) != len(files) {
		t.Fatalf("%d final passes for %d images", len(order), len(files))
	}
	desc := func(a, b int64) int { return int(b - a) }
	if slices.IsSortedFunc(pageOrder, desc) {
		t.Fatalf("the page is already in savings order %v: the test cannot tell a queue from a FIFO", pageOrder)
	}
	if !slices.IsSortedFunc(order, desc) {
		t.Errorf("final passes ran with promised savings %v, want largest first", order)
	}
}

// larger returns rep with its best replaced by its largest candidate that
// still saves bytes, as a verified answer found before the final one; ok
// is false when rep has no such candidate larger than its best.
func larger(rep optimize.Report) (optimize.Report, bool) {
	out := snapshot(rep)
	for i := len(out.Candidates) - 1; i >= 0; i-- {
		c := &out.Candidates[i]
		if rep.Best != nil && len(c.Data) > len(rep.Best.Data) && int64(len(c.Data)) < rep.Source.Bytes {
			out.Best, out.Verified = c, true
			return out, true
		}
	}
	return out, false
}

// TestVerifiedAnswers checks what rows get while the final pass works:
// each verified answer smaller than the last is sent at once, non-final,
// under a held key; the final result replaces it and its key is released
// after the grace period; when the final pass fails the last verified
// answer is made final, with a note, and stays held.
func TestVerifiedAnswers(t *testing.T) {
	src := jpegBytes(t, photo(240, 160, 41), 95)
	const budgetNote = "The time budget ran out."
	tests := []struct {
		name string
		// after plays the engine's side once the real final pass is done.
		after func(ctx context.Context, t *testing.T, opt optimize.Options, rep optimize.Report) (optimize.Report, error)
		// earlyFinal: the final result names the early answer's bytes.
		earlyFinal bool
		note       string
		// budget is settings.imageBudgetSeconds (0: the default).
		budget int
	}{
		{"smaller answer later", func(ctx context.Context, t *testing.T, opt optimize.Options, rep optimize.Report) (optimize.Report, error) {
			early, ok := larger(rep)
			if !ok {
				t.Fatalf("the final pass found no candidate larger than its best: %+v", rep.Candidates)
			}
			opt.Progress(early)
			opt.Progress(early) // no smaller: nothing new is sent
			return rep, nil
		}, false, "", 0},
		{"final pass fails", func(ctx context.Context, t *testing.T, opt optimize.Options, rep optimize.Report) (optimize.Report, error) {
			early, _ := larger(rep)
			opt.Progress(early)
			return optimize.Report{}, proto.Errorf(proto.CodeEncodeFailed, "The image could not be re-encoded.")
		}, true, noteFailed, 0},
		{"budget note", func(ctx context.Context, t *testing.T, opt optimize.Options, rep optimize.Report) (optimize.Report, error) {
			early, _ := larger(rep)
			opt.Progress(early)
			rep.Note = budgetNote
			return rep, nil
		}, false, budgetNote, 0},
		{"hard timeout", func(ctx context.Context, t *testing.T, opt optimize.Options, rep optimize.Report) (optimize.Report, error) {
			early, _ := larger(rep)
			opt.Progress(early)
			<-ctx.Done() // an engine that ignores its budget: the safety net ends it
			return optimize.Report{}, proto.Errorf(proto.CodeCanceled, "The optimization was canceled.")
		}, true, noteTimeout, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, map[string][]byte{"/a.jpg": src})
			eng := newRecorder()
			eng.final = func(ctx context.Context, opt optimize.Options, rep optimize.Report, err error) (optimize.Report, error) {
				if err != nil {
					t.Errorf("real final pass: %v", err)
					return rep, err
				}
				return tt.after(ctx, t, opt, rep)
			}
			held := store.New(store.Config{})
			rows := []row{{"/a.jpg?x=1", 0, 0, 1}, {"/a.jpg?x=2", 0, 0, 1}}
			s := scanner(eng, held, 2)
			s.cfg.ImageTimeout = time.Millisecond // the bound is then twice the budget
			set := `{"formats":["jpeg","webp"],"quality":"auto","minSavingsBytes":0}`
			if tt.budget > 0 {
				set = fmt.Sprintf(`{"formats":["jpeg","webp"],"quality":"auto","minSavingsBytes":0,"imageBudgetSeconds":%d}`, tt.budget)
			}
			msgs := collect(t, s, context.Background(), pageRequest(t, srv, set, rows))
			res := byRow(msgs)
			var earlyKey, finalKey any
			named := map[any]bool{} // the keys row 0's final result names
			for i := range rows {
				got := res[i]
				// estimate, early verified answer, final
				if len(got) != 3 {
					t.Fatalf("row %d got %d results, want 3: %v", i, len(got), got)
				}
				est, early, final := got[0], got[1], got[2]
				if est["verified"] != false || est["final"] != false {
					t.Errorf("row %d: first result verified=%v final=%v, want an unverified estimate", i, est["verified"], est["final"])
				}
				if early["verified"] != true || early["final"] != false || early["status"] != "optimized" {
					t.Errorf("row %d: second result verified=%v final=%v status=%v, want a verified, non-final, downloadable answer", i, early["verified"], early["final"], early["status"])
				}
				if final["verified"] != true || final["final"] != true || final["note"] != nilIfEmpty(tt.note) {
					t.Errorf("row %d: final verified=%v note=%v, want verified with note %q", i, final["verified"], final["note"], tt.note)
				}
				eb, fb := bestOf(t, early), bestOf(t, final)
				if i == 0 {
					earlyKey, finalKey = eb["key"], fb["key"]
					named[fb["key"]] = true
					for _, c := range final["candidates"].([]any) {
						if k := c.(map[string]any)["key"]; k != nil {
							named[k] = true
						}
					}
				} else if eb["key"] != earlyKey || fb["key"] != finalKey {
					t.Errorf("row %d keys %v, %v; row 0 %v, %v", i, eb["key"], fb["key"], earlyKey, finalKey)
				}
				if tt.earlyFinal != (fb["key"] == eb["key"]) || (tt.earlyFinal && fb["bytes"] != eb["bytes"]) {
					t.Errorf("row %d: final best %v, early %v (early bytes final: %v)", i, fb, eb, tt.earlyFinal)
				}
				if !tt.earlyFinal && fb["bytes"].(float64) >= eb["bytes"].(float64) {
					t.Errorf("row %d: final %v bytes, not smaller than the early answer's %v", i, fb["bytes"], eb["bytes"])
				}
			}
			if n := len(eng.callsOf(src)); n != 2 {
				t.Errorf("%d engine calls for one photo behind two URLs, want 2", n)
			}
			// After the grace period only the keys the final result names
			// are held: its best's and its candidates'.
			waitHeld(t, held, earlyKey.(string), named[earlyKey])
			if _, ok := held.Get(finalKey.(string)); !ok {
				t.Error("the final key is not held")
			}
		})
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// waitHeld waits for key to be held (want) or released (!want), failing
// after 2 s.
func waitHeld(t *testing.T, held *store.Store, key string, want bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, ok := held.Get(key)
		if ok == want {
			if want {
				// Still held well after the grace period?
				time.Sleep(100 * time.Millisecond)
				if _, ok := held.Get(key); !ok {
					t.Fatalf("key %s was released", key)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("key %s held = %v, want %v", key, ok, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCancelKeepsVerifiedKeys checks that stopping a scan keeps the key a
// verified answer named (the row stays downloadable) and releases the
// keys it superseded.
func TestCancelKeepsVerifiedKeys(t *testing.T) {
	files := map[string][]byte{"/a.jpg": jpegBytes(t, photo(240, 160, 51), 95), "/b.jpg": jpegBytes(t, photo(240, 160, 52), 95)}
	srv := newSite(t, files)
	eng := newRecorder()
	eng.final = func(ctx context.Context, opt optimize.Options, rep optimize.Report, err error) (optimize.Report, error) {
		opt.Progress(rep)
		<-ctx.Done() // still refining when the person presses Stop
		return optimize.Report{}, proto.Errorf(proto.CodeCanceled, "The optimization was canceled.")
	}
	held := store.New(store.Config{})
	// One worker: the second photo's final pass is still queued at Stop.
	s := scanner(eng, held, 1)
	req := pageRequest(t, srv, `{"formats":["jpeg","webp"],"quality":"auto","minSavingsBytes":0}`, []row{{uri: "/a.jpg"}, {uri: "/b.jpg"}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	rows := map[int][]proto.Result{}
	var done *proto.Done
	s.Scan(ctx, req, func(v any) error {
		mu.Lock()
		defer mu.Unlock()
		switch m := v.(type) {
		case proto.Result:
			rows[m.Index] = append(rows[m.Index], m)
			if m.Verified {
				cancel()
			}
		case proto.Done:
			done = &m
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if done == nil || !done.Canceled {
		t.Fatalf("done = %+v, want canceled", done)
	}
	var first, waiting []proto.Result // the row refined first, the queued one
	for _, r := range rows {
		if len(r) == 2 {
			first = r
		} else {
			waiting = r
		}
	}
	if len(first) != 2 || first[0].Verified || !first[1].Verified || first[1].Final || first[1].Best == nil || first[0].Best == nil {
		t.Fatalf("results %+v, want an estimate then a verified answer", rows)
	}
	if len(waiting) != 1 || waiting[0].Verified || waiting[0].Best == nil {
		t.Fatalf("queued row got %+v, want its estimate only", waiting)
	}
	if first[0].Best.Key == first[1].Best.Key {
		t.Fatal("the estimate and the verified answer name the same bytes: nothing superseded to check")
	}
	waitHeld(t, held, first[0].Best.Key, false)
	waitHeld(t, held, first[1].Best.Key, true)
	// The latest answer of a row whose final pass never ran is kept too.
	waitHeld(t, held, waiting[0].Best.Key, true)
	// The source kept for the final pass that never ran is given back to
	// the scanner's budget.
	for deadline := time.Now().Add(2 * time.Second); s.sources.Load() != 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d source bytes still counted after the canceled scan", s.sources.Load())
		}
	}
}

// TestImageBudget checks that settings.imageBudgetSeconds reaches the
// engine as the budget of each of an image's passes, the estimate and
// the final pass.
func TestImageBudget(t *testing.T) {
	src := jpegBytes(t, photo(160, 120, 61), 95)
	tests := []struct {
		set       string
		estimate  time.Duration // -1: no separate estimate
		finalPass time.Duration
	}{
		{`{"formats":["jpeg","avif"],"quality":80}`, DefaultImageBudget, DefaultImageBudget},
		{`{"formats":["jpeg","avif"],"quality":80,"imageBudgetSeconds":2.5}`, 2500 * time.Millisecond, 2500 * time.Millisecond},
		{`{"formats":["jpeg","webp"],"quality":80,"imageBudgetSeconds":7}`, -1, 7 * time.Second},
		{`{"formats":["jpeg","avif"],"quality":80,"imageBudgetSeconds":600}`, 600 * time.Second, 600 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.set, func(t *testing.T) {
			srv := newSite(t, map[string][]byte{"/a.jpg": src})
			eng := newRecorder()
			collect(t, scanner(eng, store.New(store.Config{}), 1), context.Background(), pageRequest(t, srv, tt.set, []row{{uri: "/a.jpg"}}))
			var want []call
			if tt.estimate >= 0 {
				want = append(want, call{budget: tt.estimate})
			}
			want = append(want, call{final: true, budget: tt.finalPass})
			var got []call
			for _, c := range eng.callsOf(src) {
				got = append(got, call{final: c.final, budget: c.budget})
			}
			if !slices.Equal(got, want) {
				t.Errorf("engine calls %+v, want %+v", got, want)
			}
		})
	}
}

// TestProgressFromEngine runs the real engine's final pass: the row gets
// verified answers as the search finds them, each smaller than the last,
// under held keys, before its final result.
func TestProgressFromEngine(t *testing.T) {
	src := jpegBytes(t, photo(240, 160, 71), 95)
	srv := newSite(t, map[string][]byte{"/a.jpg": src})
	held := store.New(store.Config{})
	var mu sync.Mutex
	var got []proto.Result
	heldThen := map[string]bool{} // key -> held when its result arrived
	s := scanner(optimize.New(optimize.Config{Log: zerolog.Nop()}), held, 1)
	req := pageRequest(t, srv, `{"formats":["jpeg","webp","avif"],"quality":"auto","minSavingsBytes":0}`, []row{{uri: "/a.jpg"}})
	s.Scan(context.Background(), req, func(v any) error {
		mu.Lock()
		defer mu.Unlock()
		if m, ok := v.(proto.Result); ok {
			got = append(got, m)
			if m.Best != nil {
				_, heldThen[m.Best.Key] = held.Get(m.Best.Key)
			}
		}
		return nil
	})
	if len(got) < 3 {
		t.Fatalf("%d results, want an estimate, at least one verified answer and the final one: %+v", len(got), got)
	}
	if got[0].Verified || got[0].Final {
		t.Errorf("first result %+v, want the unverified estimate", got[0])
	}
	last := int64(1 << 62)
	for _, r := range got[1 : len(got)-1] {
		if !r.Verified || r.Final || r.Best == nil || !heldThen[r.Best.Key] {
			t.Fatalf("in-between result %+v, want a verified, downloadable, non-final answer", r)
		}
		if r.Best.Bytes >= last {
			t.Errorf("verified answers of %d then %d bytes: each must be smaller", last, r.Best.Bytes)
		}
		last = r.Best.Bytes
	}
	final := got[len(got)-1]
	if !final.Final || !final.Verified || final.Best == nil || final.Best.Bytes > last {
		t.Errorf("final %+v, want verified and no larger than the last verified answer (%d bytes)", final, last)
	}
}
