package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imagediet/imgdiet/internal/fetch"
	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/proto"
	"github.com/imagediet/imgdiet/internal/store"
	"github.com/imagediet/imgdiet/internal/vipsrt"
	"github.com/rs/zerolog"
)

func TestMain(m *testing.M) {
	vipsrt.Start(vipsrt.DefaultConfig(), zerolog.Nop())
	os.Exit(m.Run())
}

// photo makes a photo-like image: smooth gradients with mild noise, which
// every encoder can shrink.
func photo(w, h int, seed int64) image.Image {
	r := rand.New(rand.NewSource(seed))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := r.Intn(9) - 4
			img.Set(x, y, color.RGBA{
				R: uint8(clamp(x*255/w + n)),
				G: uint8(clamp(y*255/h + n)),
				B: uint8(clamp((x+y)*127/(w+h) + 60 + n)),
				A: 255,
			})
		}
	}
	return img
}

func clamp(v int) int { return max(0, min(255, v)) }

func jpegBytes(t testing.TB, img image.Image, q int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func pngBytes(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// site serves files on loopback by path, counts requests per request URI
// (path and query), and waits delays[URI] before answering one.
type site struct {
	srv    *httptest.Server
	files  map[string][]byte
	delays map[string]time.Duration // set before the first request
	// gates[URI], when set, is waited for before answering URI.
	gates map[string]chan struct{}
	mu    sync.Mutex
	hits  map[string]int
	// inFlight counts requests being answered; most is its peak.
	inFlight, most int
}

func newSite(t *testing.T, files map[string][]byte) *site {
	s := &site{files: files, hits: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.RequestURI]++
		s.inFlight++
		s.most = max(s.most, s.inFlight)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
		}()
		if d := s.delays[r.RequestURI]; d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		if g := s.gates[r.RequestURI]; g != nil {
			select {
			case <-g:
			case <-r.Context().Done():
				return
			}
		}
		b, ok := s.files[r.URL.Path]
		if !ok {
			if strings.HasPrefix(r.URL.Path, "/tiny/") {
				b = s.files["/tiny.png"]
			} else {
				http.NotFound(w, r)
				return
			}
		}
		w.Write(b)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *site) url(p string) string { return s.srv.URL + p }

func (s *site) hitsOf(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[p]
}

func newScanner(held *store.Store) *Scanner {
	log := zerolog.Nop()
	return New(Config{
		Fetcher: fetch.New(fetch.DefaultConfig(), log),
		Engine:  optimize.New(optimize.Config{Log: log}),
		Held:    held,
		Log:     log,
	})
}

// collect runs a scan and returns its messages, decoded, in order.
func collect(t *testing.T, s *Scanner, ctx context.Context, req *proto.ScanRequest) []map[string]any {
	t.Helper()
	return collectHook(t, s, ctx, req, nil)
}

// collectHook is collect that also hands each message to hook as it comes.
func collectHook(t *testing.T, s *Scanner, ctx context.Context, req *proto.ScanRequest, hook func(m map[string]any)) []map[string]any {
	t.Helper()
	if perr := s.Validate(req); perr != nil {
		t.Fatalf("Validate: %v", perr)
	}
	var mu sync.Mutex
	var out []map[string]any
	s.Scan(ctx, req, func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		mu.Lock()
		out = append(out, m)
		mu.Unlock()
		if hook != nil {
			hook(m)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	return out
}

func settings(t *testing.T, js string) *proto.Settings {
	var s proto.Settings
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func TestScanPage(t *testing.T) {
	big := jpegBytes(t, photo(900, 600, 1), 95)
	small := pngBytes(t, photo(200, 150, 2))
	st := newSite(t, map[string][]byte{"/big.jpg": big, "/small.png": small})
	held := store.New(store.Config{})
	s := newScanner(held)
	req := &proto.ScanRequest{
		Type: "scan", ID: "s1",
		Page: proto.Page{URL: st.url("/article")},
		// A fixed quality keeps this test about orchestration, not about
		// where the perceptual search lands on a synthetic image.
		Settings: settings(t, `{"formats":["jpeg","png","webp"],"quality":80}`),
		Images: []proto.Image{
			{URL: st.url("/big.jpg"), DisplayWidth: 300, DisplayHeight: 200, DPR: 2},
			{URL: st.url("/small.png"), DisplayWidth: 200, DisplayHeight: 150, DPR: 1},
			{URL: st.url("/missing.jpg")},
			{URL: st.url("/big.jpg"), DisplayWidth: 150, DisplayHeight: 100, DPR: 1},
			{URL: "blob:" + st.url("/x"), Data: small, DisplayWidth: 200, DisplayHeight: 150, DPR: 1},
			{URL: "file:///etc/passwd"},
		},
	}
	msgs := collect(t, s, context.Background(), req)
	if len(msgs) == 0 || msgs[len(msgs)-1]["type"] != "done" {
		t.Fatalf("last message is not done: %v", msgs)
	}
	finals := map[int]map[string]any{}
	for _, m := range msgs[:len(msgs)-1] {
		if m["type"] != "result" || m["id"] != "s1" {
			t.Fatalf("unexpected message %v", m)
		}
		i := int(m["index"].(float64))
		if m["final"] == true {
			if finals[i] != nil {
				t.Fatalf("two final results for index %d", i)
			}
			finals[i] = m
		}
	}
	if len(finals) != len(req.Images) {
		t.Fatalf("%d final results for %d images", len(finals), len(req.Images))
	}
	if st.hitsOf("/big.jpg") != 1 {
		t.Errorf("duplicate URL fetched %d times, want once", st.hitsOf("/big.jpg"))
	}
	for i, want := range map[int]string{0: "optimized", 3: "optimized", 2: "error", 5: "error"} {
		if finals[i]["status"] != want {
			t.Errorf("image %d: status %v, want %s (%v)", i, finals[i]["status"], want, finals[i])
		}
	}
	if e, _ := finals[2]["error"].(map[string]any); e["code"] != "http_status" || e["httpStatus"] != float64(404) {
		t.Errorf("missing image error = %v", e)
	}
	if e, _ := finals[5]["error"].(map[string]any); e["code"] != "bad_url" {
		t.Errorf("file: URL error = %v", e)
	}
	// The duplicate takes the larger display size: 600×400 device pixels.
	best, _ := finals[0]["best"].(map[string]any)
	if best == nil {
		t.Fatalf("image 0 has no best: %v", finals[0])
	}
	if best["width"] != float64(600) || best["height"] != float64(400) {
		t.Errorf("best of a 900×600 image shown at 300×200@2x is %v×%v, want 600×400", best["width"], best["height"])
	}
	if finals[3]["best"].(map[string]any)["key"] != best["key"] {
		t.Error("duplicate URLs got different keys")
	}
	item, ok := held.Get(best["key"].(string))
	if !ok || int64(len(item.Data)) != int64(best["bytes"].(float64)) {
		t.Fatalf("held bytes for best: ok=%v len=%d, want %v", ok, len(item.Data), best["bytes"])
	}
	// The summary adds up the final results.
	var orig, opt float64
	counts := map[string]float64{}
	for _, m := range finals {
		counts[m["status"].(string)]++
		o, _ := m["original"].(map[string]any)
		if o == nil {
			continue
		}
		orig += o["bytes"].(float64)
		if b, _ := m["best"].(map[string]any); b != nil {
			opt += b["bytes"].(float64)
		} else {
			opt += o["bytes"].(float64)
		}
	}
	sum := msgs[len(msgs)-1]["summary"].(map[string]any)
	if sum["images"] != float64(6) || sum["optimized"] != counts["optimized"] || sum["optimal"] != counts["optimal"] || sum["failed"] != counts["error"] {
		t.Errorf("summary counts %v, results %v", sum, counts)
	}
	if sum["originalBytes"] != orig || sum["optimizedBytes"] != opt || sum["savedBytes"] != orig-opt {
		t.Errorf("summary bytes %v, results orig %v opt %v", sum, orig, opt)
	}
	if msgs[len(msgs)-1]["canceled"] != false {
		t.Error("done says canceled")
	}
}

func TestScanCancelIsPrompt(t *testing.T) {
	var files = map[string][]byte{}
	for i := 0; i < 8; i++ {
		files[fmt.Sprintf("/p%d.jpg", i)] = jpegBytes(t, photo(1200, 800, int64(i)), 95)
	}
	st := newSite(t, files)
	s := newScanner(store.New(store.Config{}))
	req := &proto.ScanRequest{Type: "scan", ID: "c1", Page: proto.Page{URL: st.url("/")}}
	for i := 0; i < 8; i++ {
		req.Images = append(req.Images, proto.Image{URL: st.url(fmt.Sprintf("/p%d.jpg", i))})
	}
	ctx, cancel := context.WithCancel(context.Background())
	var canceledAt atomic.Int64
	go func() {
		time.Sleep(300 * time.Millisecond)
		canceledAt.Store(time.Now().UnixNano())
		cancel()
	}()
	msgs := collect(t, s, ctx, req)
	took := time.Since(time.Unix(0, canceledAt.Load()))
	last := msgs[len(msgs)-1]
	if last["type"] != "done" || last["canceled"] != true {
		t.Fatalf("last message %v, want done canceled", last)
	}
	if took > 500*time.Millisecond {
		t.Fatalf("done arrived %v after cancel, want < 500 ms", took)
	}
}

func TestScanThousandImages(t *testing.T) {
	tiny := pngBytes(t, photo(12, 12, 3))
	st := newSite(t, map[string][]byte{"/tiny.png": tiny})
	s := newScanner(store.New(store.Config{}))
	req := &proto.ScanRequest{Type: "scan", ID: "k", Page: proto.Page{URL: st.url("/")},
		Settings: settings(t, `{"formats":["png","webp"]}`)}
	for i := 0; i < 1000; i++ {
		req.Images = append(req.Images, proto.Image{URL: st.url(fmt.Sprintf("/tiny/%d.png", i)), DisplayWidth: 12, DisplayHeight: 12})
	}
	msgs := collect(t, s, context.Background(), req)
	finals := map[float64]bool{}
	for _, m := range msgs {
		if m["type"] == "result" && m["final"] == true {
			if finals[m["index"].(float64)] {
				t.Fatalf("index %v final twice", m["index"])
			}
			finals[m["index"].(float64)] = true
			if m["status"] == "error" {
				t.Fatalf("image %v failed: %v", m["index"], m["error"])
			}
		}
	}
	if len(finals) != 1000 {
		t.Fatalf("%d final results, want 1000", len(finals))
	}
	if sum := msgs[len(msgs)-1]["summary"].(map[string]any); sum["images"] != float64(1000) {
		t.Fatalf("summary %v", sum)
	}
}

func TestValidate(t *testing.T) {
	s := New(Config{MaxImages: 3})
	img := []proto.Image{{URL: "https://example.com/a.jpg"}}
	tests := []struct {
		name     string
		req      proto.ScanRequest
		code     string
		mentions string
	}{
		{"ok", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: img}, "", ""},
		{"no images", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}}, proto.CodeBadMessage, "images"},
		{"too many", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: make([]proto.Image, 4)}, proto.CodeTooLarge, "3"},
		{"no page", proto.ScanRequest{Images: img}, proto.CodeBadMessage, "page.url"},
		{"bad target", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: img, Settings: settings(t, `{"target":"tiny"}`)}, proto.CodeBadMessage, "target"},
		{"bad format", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: img, Settings: settings(t, `{"formats":["bmp"]}`)}, proto.CodeBadMessage, "formats"},
		{"empty formats", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: img, Settings: settings(t, `{"formats":[]}`)}, proto.CodeBadMessage, "formats"},
		{"quality 0", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: img, Settings: settings(t, `{"quality":0}`)}, proto.CodeBadMessage, "quality"},
		{"quality 101", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: img, Settings: settings(t, `{"quality":101}`)}, proto.CodeBadMessage, "quality"},
		{"quality word", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: img, Settings: settings(t, `{"quality":"best"}`)}, proto.CodeBadMessage, "quality"},
		{"negative min", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: img, Settings: settings(t, `{"minSavingsBytes":-1}`)}, proto.CodeBadMessage, "minSavingsBytes"},
		{"budget 0", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: img, Settings: settings(t, `{"imageBudgetSeconds":0}`)}, proto.CodeBadMessage, "imageBudgetSeconds"},
		{"budget 0.5", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: img, Settings: settings(t, `{"imageBudgetSeconds":0.5}`)}, proto.CodeBadMessage, "imageBudgetSeconds"},
		{"budget 601", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: img, Settings: settings(t, `{"imageBudgetSeconds":601}`)}, proto.CodeBadMessage, "imageBudgetSeconds"},
		{"budget 1e300", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: img, Settings: settings(t, `{"imageBudgetSeconds":1e300}`)}, proto.CodeBadMessage, "imageBudgetSeconds"},
		{"budget 600", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: img, Settings: settings(t, `{"imageBudgetSeconds":600}`)}, "", ""},
		{"budget 1", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: img, Settings: settings(t, `{"imageBudgetSeconds":1}`)}, "", ""},
		{"variants", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: []proto.Image{{URL: "https://x/a", SrcsetWidths: []int{1, 640, 65535}}}, Settings: settings(t, `{"variants":true}`)}, "", ""},
		{"srcset 0", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: []proto.Image{{URL: "https://x/a", SrcsetWidths: []int{640, 0}}}}, proto.CodeBadMessage, "srcsetWidths"},
		{"srcset 65536", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: []proto.Image{{URL: "https://x/a", SrcsetWidths: []int{65536}}}}, proto.CodeBadMessage, "srcsetWidths"},
		{"srcset 17", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: []proto.Image{{URL: "https://x/a", SrcsetWidths: make([]int, 17)}}}, proto.CodeBadMessage, "srcsetWidths"},
		{"negative dpr", proto.ScanRequest{Page: proto.Page{URL: "https://example.com/"}, Images: []proto.Image{{URL: "https://x/a", DPR: -1}}}, proto.CodeBadMessage, "dpr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			perr := s.Validate(&tt.req)
			if tt.code == "" {
				if perr != nil {
					t.Fatalf("Validate = %v, want nil", perr)
				}
				return
			}
			if perr == nil || perr.Code != tt.code || !strings.Contains(perr.Message, tt.mentions) {
				t.Fatalf("Validate = %v, want %s mentioning %q", perr, tt.code, tt.mentions)
			}
		})
	}
}

func TestParseSettingsDefaults(t *testing.T) {
	got, perr := ParseSettings(settings(t, `{"formats":["JPG","webp","webp"],"quality":80,"resize":false,"imageBudgetSeconds":45}`))
	if perr != nil {
		t.Fatal(perr)
	}
	if strings.Join(got.Formats, ",") != "jpeg,webp" || got.Quality != 80 || got.Resize || got.Target != "balanced" || got.MinSavingsBytes != 2048 || got.ImageBudget != 45*time.Second {
		t.Fatalf("ParseSettings = %+v", got)
	}
	def, _ := ParseSettings(nil)
	if strings.Join(def.Formats, ",") != "jpeg,png,webp,avif" || def.Quality != 0 || !def.Resize || def.ImageBudget != 20*time.Second {
		t.Fatalf("defaults = %+v", def)
	}
}

func TestFileName(t *testing.T) {
	tests := []struct{ url, format, want string }{
		{"https://cdn.example.com/img/hero.large.jpg?w=800", "webp", "hero.large.webp"},
		{"https://example.com/", "avif", "image.avif"},
		{"data:image/png;base64,AAAA", "png", "image.png"},
		{"blob:https://example.com/1234", "webp", "image.webp"},
	}
	for _, tt := range tests {
		if got := fileName(tt.url, tt.format); got != tt.want {
			t.Errorf("fileName(%q, %q) = %q, want %q", tt.url, tt.format, got, tt.want)
		}
	}
}

// TestSkippedReachesResult checks that a format the engine leaves out for
// lack of memory is named, with its reason, in the final result.
func TestSkippedReachesResult(t *testing.T) {
	src := jpegBytes(t, photo(900, 600, 3), 90)
	st := newSite(t, map[string][]byte{"/a.jpg": src})
	log := zerolog.Nop()
	s := New(Config{
		Fetcher: fetch.New(fetch.DefaultConfig(), log),
		// A budget far below what AVIF needs on 900×600 (the engine
		// estimates about 61 MB), enough for JPEG (about 12 MB).
		Engine: optimize.New(optimize.Config{Log: log, MemoryBudget: 24 << 20}),
		Held:   store.New(store.Config{}),
		Log:    log,
	})
	req := &proto.ScanRequest{
		Type: "scan", ID: "s1",
		Page:     proto.Page{URL: st.url("/")},
		Settings: settings(t, `{"formats":["jpeg","avif"],"quality":80}`),
		Images:   []proto.Image{{URL: st.url("/a.jpg")}},
	}
	var final map[string]any
	for _, m := range collect(t, s, context.Background(), req) {
		if m["type"] == "result" && m["final"] == true {
			final = m
		}
	}
	sk, _ := final["skipped"].([]any)
	if len(sk) == 0 {
		t.Fatalf("no skipped formats in %v", final)
	}
	if len(sk) != 1 {
		t.Fatalf("skipped = %v, want AVIF only", sk)
	}
	first, _ := sk[0].(map[string]any)
	if first["format"] != "avif" || !strings.Contains(first["reason"].(string), "AVIF") {
		t.Errorf("skipped = %v", sk)
	}
	if best, _ := final["best"].(map[string]any); best == nil || best["format"] != "jpeg" {
		t.Errorf("best = %v, want the JPEG", final["best"])
	}
}

// inFlight wraps the real engine and counts the Optimize calls running;
// while hold is open, each call waits for it to close before it works.
type inFlight struct {
	Engine
	n    atomic.Int64
	hold atomic.Pointer[chan struct{}]
}

func (e *inFlight) Optimize(ctx context.Context, src []byte, opt optimize.Options) (optimize.Report, error) {
	e.n.Add(1)
	defer e.n.Add(-1)
	if h := e.hold.Load(); h != nil {
		<-*h
	}
	return e.Engine.Optimize(ctx, src, opt)
}

// TestIdle checks that Idle runs once the last scan's work has all
// finished: not while another scan runs, and after a cancel only when
// the work still in flight has returned.
func TestIdle(t *testing.T) {
	files := map[string][]byte{}
	for i := 0; i < 4; i++ {
		files[fmt.Sprintf("/p%d.jpg", i)] = jpegBytes(t, photo(240, 160, int64(i)), 95)
	}
	st := newSite(t, files)
	page := func(id string, n int) *proto.ScanRequest {
		req := &proto.ScanRequest{Type: "scan", ID: id, Page: proto.Page{URL: st.url("/")},
			Settings: settings(t, `{"formats":["jpeg","webp"],"quality":80}`)}
		for i := 0; i < n; i++ {
			req.Images = append(req.Images, proto.Image{URL: st.url(fmt.Sprintf("/p%d.jpg", i))})
		}
		return req
	}
	log := zerolog.Nop()
	eng := &inFlight{Engine: optimize.New(optimize.Config{Log: log})}
	var calls atomic.Int64
	var busy atomic.Int64 // Optimize calls running when Idle was called
	s := New(Config{
		Fetcher: fetch.New(fetch.DefaultConfig(), log),
		Engine:  eng,
		Held:    store.New(store.Config{}),
		Log:     log,
		Idle: func() {
			calls.Add(1)
			busy.Add(eng.n.Load())
		},
	})

	// Two scans at once: one call, after both. The engine holds every
	// call until both scans have work in flight, so neither can finish
	// before the other has started.
	overlap := make(chan struct{})
	eng.hold.Store(&overlap)
	var wg sync.WaitGroup
	wg.Go(func() { collect(t, s, context.Background(), page("a", 4)) })
	wg.Go(func() { collect(t, s, context.Background(), page("b", 1)) })
	for want := int64(min(runtime.NumCPU(), 4) + 1); eng.n.Load() < want; {
		time.Sleep(time.Millisecond)
	}
	eng.hold.Store(nil)
	close(overlap)
	wg.Wait()
	if c := calls.Load(); c != 1 {
		t.Fatalf("Idle called %d times after two overlapping scans, want 1", c)
	}

	// A canceled scan: done at once, Idle only after the work returned.
	hold := make(chan struct{})
	eng.hold.Store(&hold)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for eng.n.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	msgs := collect(t, s, ctx, page("c", 4))
	if last := msgs[len(msgs)-1]; last["canceled"] != true {
		t.Fatalf("last message %v, want done canceled", last)
	}
	time.Sleep(50 * time.Millisecond)
	if c := calls.Load(); c != 1 {
		t.Fatalf("Idle called while the canceled scan's work was still held (%d calls)", c)
	}
	close(hold)
	deadline := time.Now().Add(30 * time.Second)
	for calls.Load() != 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if c := calls.Load(); c != 2 {
		t.Fatalf("Idle called %d times after the canceled scan's work ended, want 2", c)
	}
	if b := busy.Load(); b != 0 {
		t.Fatalf("Idle was called with %d encodes still running", b)
	}
}
