package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	_ "golang.org/x/image/webp" // registers WebP for image.DecodeConfig
)

func photoJPEG(t *testing.T, w, h int, seed int64) []byte {
	r := rand.New(rand.NewSource(seed))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := r.Intn(7) - 3
			img.Set(x, y, color.RGBA{uint8(max(0, min(255, x*255/w+n))), uint8(max(0, min(255, y*255/h+n))), uint8(max(0, min(255, 90+n))), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func servePage(t *testing.T, files map[string][]byte, delay time.Duration) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func hello(t *testing.T, h *hostProc) (dataURL, token string) {
	h.send(map[string]any{"type": "hello", "id": "h", "protocol": 1})
	m := h.recv()
	d, _ := m["data"].(map[string]any)
	if d == nil {
		t.Fatalf("hello has no data channel: %v", m)
	}
	return d["url"].(string), d["token"].(string)
}

func dialData(t *testing.T, url, origin string) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: 3 * time.Second}
	return d.Dial(url, http.Header{"Origin": {origin}})
}

// openData opens an authenticated data channel as the extension would; it
// closes when the test ends.
func openData(t *testing.T, dataURL, token string) *websocket.Conn {
	t.Helper()
	c, _, err := dialData(t, dataURL, strings.TrimSuffix(testOrigin, "/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.WriteJSON(map[string]string{"auth": token}); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestScanDownloadZipRelease(t *testing.T) {
	files := map[string][]byte{
		"/a.jpg": photoJPEG(t, 800, 600, 1),
		"/b.jpg": photoJPEG(t, 640, 480, 2),
	}
	var pb bytes.Buffer
	png.Encode(&pb, image.NewRGBA(image.Rect(0, 0, 300, 200)))
	files["/c.png"] = pb.Bytes()
	srv := servePage(t, files, 0)

	h := startHost(t)
	dataURL, token := hello(t, h)
	h.send(map[string]any{
		"type": "scan", "id": "s1",
		"page":     map[string]any{"url": srv.URL + "/page.html"},
		"settings": map[string]any{"formats": []string{"jpeg", "png", "webp"}, "quality": 85, "minSavingsBytes": 100},
		"images": []map[string]any{
			{"url": srv.URL + "/a.jpg", "displayWidth": 400, "displayHeight": 300, "dpr": 1},
			{"url": srv.URL + "/b.jpg"},
			{"url": srv.URL + "/c.png"},
			{"url": srv.URL + "/missing.png"},
		},
	})
	finals := map[int]map[string]any{}
	var done map[string]any
	for done == nil {
		m := h.recv()
		switch m["type"] {
		case "result":
			if m["final"] == true {
				finals[int(m["index"].(float64))] = m
			}
		case "done":
			done = m
		default:
			t.Fatalf("unexpected %v", m)
		}
	}
	if len(finals) != 4 || done["canceled"] != false {
		t.Fatalf("finals %d, done %v", len(finals), done)
	}
	if finals[3]["status"] != "error" {
		t.Errorf("missing image: %v", finals[3])
	}

	c := openData(t, dataURL, token)
	var keys []string
	for i := 0; i < 3; i++ {
		best, _ := finals[i]["best"].(map[string]any)
		if best == nil {
			continue
		}
		key := best["key"].(string)
		keys = append(keys, key)
		c.WriteJSON(map[string]string{"get": key})
		typ, b, err := c.ReadMessage()
		if err != nil || typ != websocket.BinaryMessage {
			t.Fatalf("get %d: %v type %d %s", i, err, typ, b)
		}
		if int64(len(b)) != int64(best["bytes"].(float64)) {
			t.Errorf("get %d: %d bytes, best.bytes %v", i, len(b), best["bytes"])
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width != int(best["width"].(float64)) || cfg.Height != int(best["height"].(float64)) || !strings.HasPrefix(best["format"].(string), format[:3]) {
			t.Errorf("get %d decodes to %s %dx%d (%v), best %v", i, format, cfg.Width, cfg.Height, err, best)
		}
	}
	if len(keys) < 2 {
		t.Fatalf("only %d optimized images: %v", len(keys), finals)
	}
	var entries []map[string]string
	for i, k := range keys {
		entries = append(entries, map[string]string{"key": k, "name": fmt.Sprintf("img%d.bin", i)})
	}
	c.WriteJSON(map[string]any{"zip": entries})
	_, zb, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil || len(zr.File) != len(keys) {
		t.Fatalf("zip: %v, %d entries for %d keys", err, len(zr.File), len(keys))
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := image.DecodeConfig(rc); err != nil {
			t.Errorf("zip entry %s does not decode: %v", f.Name, err)
		}
		rc.Close()
	}

	h.send(map[string]any{"type": "release", "id": "r1", "keys": keys[:1]})
	if m := h.recv(); m["type"] != "released" || m["count"] != float64(1) {
		t.Fatalf("release: %v", m)
	}
	c.WriteJSON(map[string]string{"get": keys[0]})
	if _, b, _ := c.ReadMessage(); !strings.Contains(string(b), "not_found") {
		t.Errorf("get after release: %s", b)
	}
	// Every key the final results name is held: each best's, and each
	// other candidate's smaller than its original.
	named := map[string]bool{}
	for _, f := range finals {
		if best, _ := f["best"].(map[string]any); best != nil {
			named[best["key"].(string)] = true
		}
		cands, _ := f["candidates"].([]any)
		for _, x := range cands {
			if k, _ := x.(map[string]any)["key"].(string); k != "" {
				named[k] = true
			}
		}
	}
	h.send(map[string]any{"type": "release", "id": "r2", "all": true})
	if m := h.recv(); m["type"] != "released" || m["count"] != float64(len(named)-1) || len(named) <= len(keys) {
		t.Fatalf("release all: %v, want %d (the keys named, less the one released)", m, len(named)-1)
	}
	if code, d := h.closeAndWait(); code != 0 || d > time.Second {
		t.Errorf("exit %d after %v", code, d)
	}
	assertOnlyFrames(t, h.raw.String())
	if strings.Contains(h.stderr.String(), "/a.jpg") || strings.Contains(h.stderr.String(), token) {
		t.Errorf("stderr names a path or the token: %s", h.stderr.String())
	}
}

func TestDataChannelRefusesStrangers(t *testing.T) {
	h := startHost(t)
	dataURL, token := hello(t, h)
	for _, origin := range []string{"https://evil.example", "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ""} {
		_, resp, err := dialData(t, dataURL, origin)
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: %v %v, want 403", origin, err, resp)
		}
	}
	for _, auth := range []any{map[string]string{"auth": token + "x"}, map[string]string{"get": "k"}} {
		c, _, err := dialData(t, dataURL, strings.TrimSuffix(testOrigin, "/"))
		if err != nil {
			t.Fatal(err)
		}
		c.WriteJSON(auth)
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		for {
			typ, _, err := c.ReadMessage()
			if err != nil {
				break // closed, as it should be
			}
			if typ == websocket.BinaryMessage {
				t.Fatalf("%v: got data without the token", auth)
			}
		}
		c.Close()
	}
}

func TestCancelAndEOFMidScan(t *testing.T) {
	files := map[string][]byte{}
	var images []map[string]any
	for i := 0; i < 6; i++ {
		p := fmt.Sprintf("/p%d.jpg", i)
		files[p] = photoJPEG(t, 1600, 1200, int64(i))
	}
	srv := servePage(t, files, 0)
	for p := range files {
		images = append(images, map[string]any{"url": srv.URL + p})
	}
	scan := map[string]any{"type": "scan", "id": "s", "page": map[string]any{"url": srv.URL + "/"}, "images": images}

	h := startHost(t)
	h.send(scan)
	time.Sleep(400 * time.Millisecond)
	start := time.Now()
	h.send(map[string]any{"type": "cancel", "id": "c", "scan": "s"})
	for {
		m := h.recv()
		if m["type"] == "done" {
			if m["canceled"] != true {
				t.Fatalf("done %v, want canceled", m)
			}
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("done canceled %v after cancel, want < 500 ms", d)
			}
			break
		}
	}
	h.send(map[string]any{"type": "hello", "id": "still", "protocol": 1})
	for {
		if m := h.recv(); m["id"] == "still" {
			break
		}
	}
	// A new scan, then stdin closes in the middle of it.
	scan["id"] = "s2"
	h.send(scan)
	time.Sleep(400 * time.Millisecond)
	if code, d := h.closeAndWait(); code != 0 || d > time.Second {
		t.Errorf("stdin closed mid-scan: exit %d after %v, want 0 within 1 s", code, d)
	}
}

// TestVerifiedKeysSurviveCancel checks, through the real host, that rows
// with the same bytes behind different URLs share one key, and that Stop
// leaves the verified answers already sent downloadable.
func TestVerifiedKeysSurviveCancel(t *testing.T) {
	files := map[string][]byte{"/a.jpg": photoJPEG(t, 1200, 900, 7), "/b.jpg": photoJPEG(t, 1200, 900, 8)}
	srv := servePage(t, files, 0)
	h := startHost(t)
	dataURL, token := hello(t, h)
	var images []map[string]any
	for _, u := range []string{"/a.jpg?v=1", "/b.jpg", "/a.jpg?v=2", "/b.jpg#x"} {
		images = append(images, map[string]any{"url": srv.URL + u})
	}
	// A fixed quality: the JPEG and WebP answers are verified at once,
	// and the AVIF pass that follows is still running when Stop comes.
	h.send(map[string]any{"type": "scan", "id": "s", "page": map[string]any{"url": srv.URL + "/"},
		"settings": map[string]any{"formats": []string{"jpeg", "webp", "avif"}, "quality": 85}, "images": images})
	latest := map[int]map[string]any{}
	canceled := false
	for {
		m := h.recv()
		if m["type"] == "done" {
			if m["canceled"] != true {
				t.Fatalf("done %v, want canceled (the AVIF pass ended before Stop: nothing to check)", m)
			}
			break
		}
		if m["type"] != "result" {
			continue
		}
		i := int(m["index"].(float64))
		if m["final"] == true {
			t.Fatalf("row %d final before Stop: %v", i, m)
		}
		if m["verified"] != true || m["best"] == nil {
			t.Fatalf("row %d: %v, want a verified answer", i, m)
		}
		latest[i] = m
		if len(latest) == len(images) && !canceled {
			canceled = true
			h.send(map[string]any{"type": "cancel", "id": "c", "scan": "s"})
		}
	}
	key := func(i int) string { return latest[i]["best"].(map[string]any)["key"].(string) }
	if key(0) != key(2) || key(0) == key(1) {
		t.Errorf("keys %s %s %s %s: rows with the same bytes must share one, others not", key(0), key(1), key(2), key(3))
	}
	c := openData(t, dataURL, token)
	time.Sleep(200 * time.Millisecond)
	for i := range images {
		c.WriteJSON(map[string]string{"get": key(i)})
		typ, b, err := c.ReadMessage()
		if err != nil || typ != websocket.BinaryMessage || int64(len(b)) != int64(latest[i]["best"].(map[string]any)["bytes"].(float64)) {
			t.Errorf("row %d after Stop: %v, type %d, %d bytes (%.100s)", i, err, typ, len(b), b)
		}
	}
}
