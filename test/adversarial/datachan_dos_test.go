package adversarial

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// noisePNG is a w×h PNG of random pixels: its best encoding stays large.
func noisePNG(w, h int) []byte {
	r := rand.New(rand.NewSource(11))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		v := r.Uint32()
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(v), uint8(v>>8), uint8(v>>16), 255
	}
	var b bytes.Buffer
	(&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, img)
	return b.Bytes()
}

// holdLarge scans a noise image sent as bytes, re-encoded as JPEG at
// quality 90, and returns the held result's key and size.
func holdLarge(t *testing.T, h *host, id string, w, hgt int) (string, int64) {
	t.Helper()
	res := h.scan(id, "https://news.example/", map[string]any{"formats": []string{"jpeg"}, "quality": 90, "minSavingsBytes": 0, "resize": false},
		[]map[string]any{{"url": "blob:https://news.example/noise", "data": noisePNG(w, hgt)}}, 60*time.Second)
	r := res.finals[0]
	if r == nil || r.Best == nil || r.Best.Key == "" {
		t.Fatalf("no held result: %+v", r)
	}
	return r.Best.Key, r.Best.Bytes
}

// authed opens the data channel as the extension does.
func authed(t *testing.T, dataURL, token string) *websocket.Conn {
	t.Helper()
	c, _, err := dialWS(dataURL, http.Header{"Origin": {extOrigin}})
	if err != nil {
		t.Fatalf("data channel: %v", err)
	}
	if err := c.WriteJSON(map[string]string{"auth": token}); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestZipMemoryDoS: four connections each ask for a ZIP of about 400 MB
// built from one held file named many times (legitimate: identical images
// share a key) and never read. The helper streams each archive into its
// socket, so its peak RSS stays < 400 MB (it held 2 GB when archives were
// built in memory), and the extension's own ZIP is served meanwhile.
func TestZipMemoryDoS(t *testing.T) {
	t.Parallel()
	h := startHost(t)
	dataURL, token := h.hello("h")
	key, size := holdLarge(t, h, "s", 1500, 1500)
	n := int((400 << 20) / size)
	t.Logf("held file %d bytes; each attacker asks for %d copies (%d MB)", size, n, int64(n)*size>>20)
	entries := make([]map[string]string, n)
	for i := range entries {
		entries[i] = map[string]string{"key": key, "name": fmt.Sprintf("copy-%d.jpg", i)}
	}
	var attackers []*websocket.Conn
	for i := 0; i < 4; i++ {
		c := authed(t, dataURL, token)
		defer c.Close()
		if err := c.WriteJSON(map[string]any{"zip": entries}); err != nil {
			t.Fatal(err)
		}
		attackers = append(attackers, c)
	}
	time.Sleep(3 * time.Second) // let every archive fill its socket

	t0 := time.Now()
	c := authed(t, dataURL, token)
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	c.WriteJSON(map[string]any{"zip": entries[:3]})
	typ, b, err := c.ReadMessage()
	if err != nil || typ != websocket.BinaryMessage {
		t.Fatalf("the extension's ZIP during the attack: %v %.200s", err, b)
	}
	if zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b))); err != nil || len(zr.File) != 3 {
		t.Fatalf("the extension's ZIP: %v", err)
	}
	took := time.Since(t0)
	peak := h.vmHWM()
	t.Logf("peak RSS %d MB; the extension's 3-file ZIP took %v during the attack", peak>>20, took)
	if peak > 400<<20 {
		t.Errorf("peak RSS %d MB under the ZIP attack, want < 400 MB", peak>>20)
	}
	if took > 10*time.Second {
		t.Errorf("the extension's ZIP took %v during the attack", took)
	}
	for _, a := range attackers {
		a.Close()
	}
	assertServing(t, h)
}

// TestZipOfAWholeScan: a zip request for 2,000 files (maxImagesPerScan)
// with long names, about 1 MB of JSON, is served as one archive, not
// closed with 1009 as requests over 64 KiB were.
func TestZipOfAWholeScan(t *testing.T) {
	t.Parallel()
	h := startHost(t)
	dataURL, token := h.hello("h")
	key, _ := holdLarge(t, h, "s", 64, 64)
	entries := make([]map[string]string, 2000)
	for i := range entries {
		entries[i] = map[string]string{"key": key, "name": fmt.Sprintf("%s-%04d.jpg", strings.Repeat("photo-of-the-day-", 12), i)}
	}
	c := authed(t, dataURL, token)
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	c.WriteJSON(map[string]any{"zip": entries})
	typ, b, err := c.ReadMessage()
	if err != nil || typ != websocket.BinaryMessage {
		t.Fatalf("2,000-file ZIP: %v %.200s", err, b)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil || len(zr.File) != 2000 {
		t.Fatalf("2,000-file ZIP: %v", err)
	}
	// A request far larger still gets a reason, and the connection serves.
	huge := make([]map[string]string, 40_000)
	for i := range huge {
		huge[i] = map[string]string{"key": key, "name": strings.Repeat("x", 120)}
	}
	c.WriteJSON(map[string]any{"zip": huge})
	typ, b, err = c.ReadMessage()
	if err != nil || typ != websocket.TextMessage || !strings.Contains(string(b), `"too_large"`) {
		t.Fatalf("a 5 MB zip request: %v %.200s; want too_large", err, b)
	}
	c.WriteJSON(map[string]string{"get": key})
	if typ, _, err := c.ReadMessage(); err != nil || typ != websocket.BinaryMessage {
		t.Fatalf("after too_large: %v", err)
	}
	assertServing(t, h)
}

// dialExt opens the data channel as the extension does: the token offered
// as a subprotocol, so the handshake itself authenticates.
func dialExt(dataURL, token string) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: 3 * time.Second, Subprotocols: []string{"imgdiet.v1", "imgdiet.auth." + token}}
	return d.Dial(dataURL, http.Header{"Origin": {extOrigin}})
}

// TestUnauthenticatedSocketsCannotLockOut: a local process knows the
// extension's Origin (it is public), keeps 8 upgraded sockets open without
// a token and reopens each one the moment it is dropped (thousands a
// second); then it guesses tokens. The extension gets in on every try,
// each within 2 s (it got HTTP 503 on 14 of 15 when waiting sockets
// shared the cap).
func TestUnauthenticatedSocketsCannotLockOut(t *testing.T) {
	t.Parallel()
	h := startHost(t)
	dataURL, token := h.hello("h")
	key, _ := holdLarge(t, h, "s", 32, 32)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var opened atomic.Int64
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, _, err := dialWS(dataURL, http.Header{"Origin": {extOrigin}})
				if err != nil {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				opened.Add(1)
				go func() { <-stop; c.Close() }()
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				c.ReadMessage() // until the helper drops it
				c.Close()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)

	var slowest time.Duration
	try := func(what string) {
		t.Helper()
		t0 := time.Now()
		defer func() { slowest = max(slowest, time.Since(t0)) }()
		c, resp, err := dialExt(dataURL, token)
		if err != nil {
			code := 0
			if resp != nil {
				code = resp.StatusCode
			}
			t.Errorf("%s: refused (HTTP %d): %v", what, code, err)
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		c.WriteJSON(map[string]string{"get": key})
		typ, b, err := c.ReadMessage()
		if err != nil || typ != websocket.BinaryMessage {
			t.Errorf("%s: %v %.200s", what, err, b)
		}
		if d := time.Since(t0); d > 2*time.Second {
			t.Errorf("%s took %v", what, d)
		}
	}
	for i := 0; i < 15; i++ {
		try(fmt.Sprintf("try %d of 15 while 8 sockets wait unauthenticated", i+1))
		time.Sleep(100 * time.Millisecond)
	}
	// The guessing part: 30 wrong tokens, then the extension again.
	for i := 0; i < 30; i++ {
		c, _, err := dialWS(dataURL, http.Header{"Origin": {extOrigin}})
		if err != nil {
			continue
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		c.WriteJSON(map[string]string{"auth": base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("guess-%d-0123456789abcdef", i)))})
		c.WriteJSON(map[string]string{"get": key})
		if typ, _, err := c.ReadMessage(); err == nil && typ == websocket.BinaryMessage {
			t.Fatal("a wrong token got the file")
		}
		c.Close()
	}
	for i := 0; i < 3; i++ {
		try(fmt.Sprintf("try %d of 3 after 30 wrong tokens", i+1))
	}
	close(stop)
	wg.Wait()
	t.Logf("the attacker opened %d unauthenticated sockets; the extension's slowest try took %v", opened.Load(), slowest)
	if opened.Load() < 8 {
		t.Errorf("the attack opened only %d sockets", opened.Load())
	}
	assertServing(t, h)
}
