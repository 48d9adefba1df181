package datachan

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/imagediet/imgdiet/internal/store"
)

const testOrigin = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"

// syncBuf collects log output from many goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, cfg Config, src Source) (*Server, *syncBuf) {
	t.Helper()
	if cfg.Origin == "" {
		cfg.Origin = testOrigin
	}
	if src == nil {
		src = store.New(store.Config{})
	}
	logs := &syncBuf{}
	s, err := Start(cfg, src, zerolog.New(logs).Level(zerolog.DebugLevel))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, logs
}

func dial(s *Server, origin string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	if hdr == nil {
		hdr = http.Header{}
	}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	d := websocket.Dialer{HandshakeTimeout: 2 * time.Second}
	return d.Dial(s.URL(), hdr)
}

// connect dials with the right Origin and authenticates.
func connect(t *testing.T, s *Server) *websocket.Conn {
	t.Helper()
	c, _, err := dial(s, testOrigin, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	send(t, c, map[string]string{"auth": s.Token()})
	return c
}

func send(t *testing.T, c *websocket.Conn, v any) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if err := c.WriteJSON(v); err != nil {
		t.Fatal(err)
	}
}

// read returns the next message with a deadline.
func read(t *testing.T, c *websocket.Conn) (int, []byte) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	typ, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return typ, b
}

// readError expects a text error message and returns its code and message.
func readError(t *testing.T, c *websocket.Conn) (string, string) {
	t.Helper()
	typ, b := read(t, c)
	var m struct {
		Error struct{ Code, Message string }
	}
	if typ != websocket.TextMessage || json.Unmarshal(b, &m) != nil || m.Error.Code == "" || m.Error.Message == "" {
		t.Fatalf("want a text error, got type %d %q", typ, truncate(string(b), 200))
	}
	return m.Error.Code, m.Error.Message
}

// readClose expects the connection to end with close code want.
func readClose(t *testing.T, c *websocket.Conn, want int) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != want {
			t.Fatalf("read ended with %v, want close %d", err, want)
		}
		return
	}
}

func TestStartConfig(t *testing.T) {
	src := store.New(store.Config{})
	for _, o := range []string{"", testOrigin + "/"} {
		if s, err := Start(Config{Origin: o}, src, zerolog.Nop()); err == nil {
			s.Close()
			t.Errorf("Start with Origin %q succeeded", o)
		}
	}
	if _, err := Start(Config{Origin: testOrigin}, nil, zerolog.Nop()); err == nil {
		t.Error("Start with nil Source succeeded")
	}
}

func TestURLAndToken(t *testing.T) {
	a, _ := start(t, Config{}, nil)
	b, _ := start(t, Config{}, nil)
	if !strings.HasPrefix(a.URL(), "ws://127.0.0.1:") || !strings.HasSuffix(a.URL(), "/v1/data") || a.URL() == b.URL() {
		t.Fatalf("URLs %q %q", a.URL(), b.URL())
	}
	raw, err := base64.RawURLEncoding.DecodeString(a.Token())
	if err != nil || len(raw) != 32 {
		t.Fatalf("token %q: %d bytes, %v", a.Token(), len(raw), err)
	}
	if a.Token() == b.Token() {
		t.Fatal("two servers share a token")
	}
}

func TestGet(t *testing.T) {
	st := store.New(store.Config{})
	data := bytes.Repeat([]byte("RIFF\x00WEBP"), 100_000) // ~0.9 MB, several frames
	key, _ := st.Put(data, "webp", "photo.webp")
	small, _ := st.Put([]byte{0xff, 0xd8, 0xff}, "jpeg", "")
	s, logs := start(t, Config{}, st)
	c := connect(t, s)

	send(t, c, map[string]string{"get": key})
	typ, got := read(t, c)
	if typ != websocket.BinaryMessage || !bytes.Equal(got, data) {
		t.Fatalf("get: type %d, %d bytes; want binary %d bytes", typ, len(got), len(data))
	}
	send(t, c, map[string]string{"get": small})
	if typ, got := read(t, c); typ != websocket.BinaryMessage || !bytes.Equal(got, []byte{0xff, 0xd8, 0xff}) {
		t.Fatalf("second get: type %d %x", typ, got)
	}

	send(t, c, map[string]string{"get": "8a6e0804-2bd0-4672-b79d-d97027f9071b"})
	if code, _ := readError(t, c); code != "not_found" {
		t.Fatalf("unknown key: code %q", code)
	}
	st.Release([]string{small})
	send(t, c, map[string]string{"get": small})
	if code, _ := readError(t, c); code != "not_found" {
		t.Fatalf("released key: code %q", code)
	}
	s.Close()
	for _, secret := range []string{key, small, "photo.webp", s.Token()} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("log holds %q:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "authenticated") {
		t.Fatalf("no connection events at debug:\n%s", logs.String())
	}
}

func TestBadMessage(t *testing.T) {
	st := store.New(store.Config{})
	key, _ := st.Put([]byte("GIF89a"), "gif", "")
	s, _ := start(t, Config{}, st)
	c := connect(t, s)
	for _, msg := range []string{
		`not json`, `[]`, `"get"`, `{}`, `{"get":1}`, `{"get":""}`, `{"get":null}`,
		`{"get":"` + key + `","zip":[{"key":"` + key + `"}]}`, `{"zip":[]}`, `{"zip":{}}`,
		`{"zip":[{"name":"a.gif"}]}`, `{"get":"` + key + `"} trailing`, `{"auth":"` + s.Token() + `"}`,
	} {
		c.WriteMessage(websocket.TextMessage, []byte(msg))
		if code, _ := readError(t, c); code != "bad_message" {
			t.Errorf("%s: code %q, want bad_message", msg, code)
		}
	}
	c.WriteMessage(websocket.BinaryMessage, []byte(`{"get":"`+key+`"}`))
	if code, _ := readError(t, c); code != "bad_message" {
		t.Errorf("binary request: code %q, want bad_message", code)
	}
	// The connection still serves.
	send(t, c, map[string]string{"get": key})
	if _, got := read(t, c); string(got) != "GIF89a" {
		t.Fatalf("after bad messages got %q", got)
	}
}

func TestZip(t *testing.T) {
	st := store.New(store.Config{})
	webp1 := bytes.Repeat([]byte("webp-one"), 1000)
	webp2 := bytes.Repeat([]byte("webp-two"), 1000)
	svg := []byte(strings.Repeat(`<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>`, 50))
	png := []byte("\x89PNG\r\n\x1a\nxyz")
	jpg := []byte{0xff, 0xd8, 0xff, 0xe0}
	k1, _ := st.Put(webp1, "webp", "")
	k2, _ := st.Put(webp2, "webp", "")
	k3, _ := st.Put(svg, "svg", "")
	k4, _ := st.Put(png, "png", "")
	k5, _ := st.Put(jpg, "jpeg", "stored-name.jpg")
	req := map[string]any{"zip": []map[string]string{
		{"key": k1, "name": "photo.webp"},
		{"key": k2, "name": "Photo.webp"},
		{"key": k3, "name": "../../etc/passwd"},
		{"key": k4, "name": "..\\..\x00\u202e"},
		{"key": k5},
		{"key": k1, "name": "photo/photo-640w.webp"},
		{"key": k1, "name": "/photo\\photo-640w.webp"},
	}}
	want := []struct {
		name   string
		method uint16
		data   []byte
	}{
		{"photo.webp", zip.Store, webp1},
		{"Photo (2).webp", zip.Store, webp2},
		{"etc/passwd.svg", zip.Deflate, svg}, // one folder kept, inside the archive
		{"image-4.png", zip.Store, png},
		{"stored-name.jpg", zip.Store, jpg},
		{"photo/photo-640w.webp", zip.Store, webp1},
		{"photo/photo-640w (2).webp", zip.Store, webp1},
	}
	s, logs := start(t, Config{}, st)
	c := connect(t, s)
	send(t, c, req)
	typ, b := read(t, c)
	if typ != websocket.BinaryMessage {
		t.Fatalf("zip answer type %d: %q", typ, truncate(string(b), 200))
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(want) {
		t.Fatalf("%d entries, want %d", len(zr.File), len(want))
	}
	for i, f := range zr.File {
		w := want[i]
		if f.Name != w.name || f.Method != w.method {
			t.Errorf("entry %d: %q method %d, want %q method %d", i, f.Name, f.Method, w.name, w.method)
		}
		if strings.ContainsAny(f.Name, "\\\x00") || strings.Count(f.Name, "/") > 1 || strings.HasPrefix(f.Name, "/") || strings.Contains(f.Name, "..") {
			t.Errorf("unsafe entry name %q", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, w.data) {
			t.Errorf("entry %d: %d bytes, %v; want %d bytes", i, len(got), err, len(w.data))
		}
	}
	if f := zr.File[2]; f.CompressedSize64 >= f.UncompressedSize64 {
		t.Errorf("svg not compressed: %d >= %d", f.CompressedSize64, f.UncompressedSize64)
	}

	// A missing key fails the whole request: no partial archive.
	st.Release([]string{k2, k4})
	send(t, c, req)
	code, msg := readError(t, c)
	if code != "not_found" || !strings.Contains(msg, "2 of the 7") {
		t.Fatalf("zip with missing keys: %q %q", code, msg)
	}
	s.Close()
	for _, secret := range []string{k1, k3, "photo.webp", "passwd", "stored-name"} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("log holds %q", secret)
		}
	}
}

func TestZipTooLarge(t *testing.T) {
	st := store.New(store.Config{})
	a, _ := st.Put(make([]byte, 60), "png", "")
	b, _ := st.Put(make([]byte, 60), "png", "")
	s, _ := start(t, Config{MaxZipBytes: 100}, st)
	c := connect(t, s)
	send(t, c, map[string]any{"zip": []map[string]string{{"key": a}, {"key": b}}})
	if code, _ := readError(t, c); code != "too_large" {
		t.Fatalf("code %q, want too_large", code)
	}
	send(t, c, map[string]any{"zip": []map[string]string{{"key": a}}})
	if typ, _ := read(t, c); typ != websocket.BinaryMessage {
		t.Fatal("a zip under the cap was refused")
	}
}

func TestHandshake(t *testing.T) {
	s, _ := start(t, Config{}, nil)
	port := strings.TrimSuffix(strings.TrimPrefix(s.URL(), "ws://127.0.0.1:"), Path)
	tests := []struct {
		name   string
		origin string
		hdr    http.Header
		url    string
		want   int
	}{
		{"right", testOrigin, nil, "", http.StatusSwitchingProtocols},
		{"localhost host", testOrigin, http.Header{"Host": {"localhost:" + port}}, "", http.StatusSwitchingProtocols},
		{"wrong origin", "chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba", nil, "", http.StatusForbidden},
		{"web origin", "https://evil.example", nil, "", http.StatusForbidden},
		{"trailing slash", testOrigin + "/", nil, "", http.StatusForbidden},
		{"origin case", strings.ToUpper(testOrigin), nil, "", http.StatusForbidden},
		{"missing origin", "", nil, "", http.StatusForbidden},
		{"null origin", "null", nil, "", http.StatusForbidden},
		{"two origins", "", http.Header{"Origin": {testOrigin, testOrigin}}, "", http.StatusForbidden},
		{"rebound host", testOrigin, http.Header{"Host": {"evil.example:" + port}}, "", http.StatusForbidden},
		{"other port", testOrigin, http.Header{"Host": {"127.0.0.1:1"}}, "", http.StatusForbidden},
		{"host without port", testOrigin, http.Header{"Host": {"127.0.0.1"}}, "", http.StatusForbidden},
		{"wrong path", testOrigin, nil, "ws://127.0.0.1:" + port + "/v1/other", http.StatusNotFound},
		{"path suffix", testOrigin, nil, s.URL() + "/", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := http.Header{}
			for k, v := range tt.hdr {
				hdr[k] = v
			}
			if tt.origin != "" {
				hdr.Set("Origin", tt.origin)
			}
			u := tt.url
			if u == "" {
				u = s.URL()
			}
			d := websocket.Dialer{HandshakeTimeout: 2 * time.Second}
			c, resp, err := d.Dial(u, hdr)
			if c != nil {
				c.Close()
			}
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	// A plain HTTP GET to the path is not an upgrade.
	req, _ := http.NewRequest("GET", "http"+s.URL()[2:], nil)
	req.Header.Set("Origin", testOrigin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("plain GET: %d", resp.StatusCode)
	}
}

func TestAuthRefused(t *testing.T) {
	s, _ := start(t, Config{AuthTimeout: 300 * time.Millisecond, MaxAuthFailures: 100}, nil)
	tests := []struct {
		name string
		send func(c *websocket.Conn)
	}{
		{"wrong token", func(c *websocket.Conn) { c.WriteJSON(map[string]string{"auth": strings.Repeat("A", 43)}) }},
		{"token prefix", func(c *websocket.Conn) { c.WriteJSON(map[string]string{"auth": s.Token()[:42]}) }},
		{"token plus", func(c *websocket.Conn) { c.WriteJSON(map[string]string{"auth": s.Token() + "A"}) }},
		{"empty token", func(c *websocket.Conn) { c.WriteJSON(map[string]string{"auth": ""}) }},
		{"not json", func(c *websocket.Conn) { c.WriteMessage(websocket.TextMessage, []byte(s.Token())) }},
		{"get first", func(c *websocket.Conn) { c.WriteJSON(map[string]string{"get": "x"}) }},
		{"binary token", func(c *websocket.Conn) {
			c.WriteMessage(websocket.BinaryMessage, []byte(`{"auth":"`+s.Token()+`"}`))
		}},
		{"nothing in time", func(*websocket.Conn) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := dial(s, testOrigin, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			t0 := time.Now()
			tt.send(c)
			if code, _ := readError(t, c); code != "unauthorized" {
				t.Fatalf("code %q, want unauthorized", code)
			}
			readClose(t, c, websocket.ClosePolicyViolation)
			if tt.name == "nothing in time" && time.Since(t0) < 250*time.Millisecond {
				t.Fatalf("closed after %v, before the auth timeout", time.Since(t0))
			}
		})
	}
}

// TestGuessingCannotLockOut: many wrong tokens are logged, and the right
// token is still accepted at once, before, during and after the burst.
func TestGuessingCannotLockOut(t *testing.T) {
	s, logs := start(t, Config{MaxAuthFailures: 3, AuthCooldown: time.Minute}, nil)
	try := func(tok string) (ok bool) {
		t.Helper()
		c, _, err := dial(s, testOrigin, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		send(t, c, map[string]string{"auth": tok})
		send(t, c, map[string]string{"get": "none"})
		code, _ := readError(t, c)
		return code == "not_found" // authenticated: the get was served
	}
	if try("wrong") || try("wrong") {
		t.Fatal("wrong token accepted")
	}
	if !try(s.Token()) {
		t.Fatal("right token refused after 2 failures of 3")
	}
	for i := 0; i < 10; i++ {
		if try("wrong") {
			t.Fatal("wrong token accepted")
		}
	}
	t0 := time.Now()
	if !try(s.Token()) {
		t.Fatal("right token refused after a burst of wrong ones")
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("right token took %v after a burst of wrong ones", d)
	}
	if n := strings.Count(logs.String(), "someone may be guessing"); n != 1 {
		t.Fatalf("%d warnings about guessing, want 1 per window:\n%s", n, logs.String())
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := &limiter{max: 3, window: time.Minute, now: func() time.Time { return now }}
	step := func(d time.Duration) { now = now.Add(d) }
	// Failures spread wider than the window are never reported.
	for i := 0; i < 6; i++ {
		if l.fail() {
			t.Fatalf("reported at spread failure %d", i)
		}
		step(31 * time.Second)
	}
	step(time.Minute)
	l.fail()
	step(time.Second)
	l.fail()
	step(time.Second)
	if !l.fail() {
		t.Fatal("3 failures within the window were not reported")
	}
	for i := 0; i < 5; i++ {
		if l.fail() {
			t.Fatal("reported twice within one window")
		}
	}
	step(time.Minute)
	l.fail()
	l.fail()
	if !l.fail() {
		t.Fatal("not reported again after the window")
	}
}

func TestOversizedMessage(t *testing.T) {
	st := store.New(store.Config{})
	key, _ := st.Put([]byte("GIF89a"), "gif", "")
	s, _ := start(t, Config{MaxMessage: 1024}, st)
	c := connect(t, s)
	// Over MaxMessage: too_large, and the connection still serves.
	c.WriteMessage(websocket.TextMessage, []byte(`{"get":"`+strings.Repeat("x", 2000)+`"}`))
	if code, msg := readError(t, c); code != "too_large" {
		t.Fatalf("oversized request: %q %q, want too_large", code, msg)
	}
	send(t, c, map[string]string{"get": key})
	if _, got := read(t, c); string(got) != "GIF89a" {
		t.Fatalf("after an oversized request got %q", got)
	}
	// Far over it: the connection closes rather than read on.
	c.WriteMessage(websocket.TextMessage, []byte(`{"get":"`+strings.Repeat("x", 20_000)+`"}`))
	readClose(t, c, websocket.CloseMessageTooBig)

	// Before authentication the cap is 1 KiB.
	c2, _, err := dial(s, testOrigin, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.WriteMessage(websocket.TextMessage, []byte(`{"auth":"`+strings.Repeat("x", 2000)+`"}`))
	readClose(t, c2, websocket.CloseMessageTooBig)
}

// TestLargeZipRequest: a zip request for 2,000 files with long names (the
// most one scan holds) is served, far above the old 64 KiB message cap.
func TestLargeZipRequest(t *testing.T) {
	st := store.New(store.Config{})
	key, _ := st.Put([]byte("RIFF....WEBP"), "webp", "")
	var entries []map[string]string
	for i := 0; i < 2000; i++ {
		entries = append(entries, map[string]string{"key": key, "name": fmt.Sprintf("%04d-%s.webp", i, strings.Repeat("ü", 120))})
	}
	req, _ := json.Marshal(map[string]any{"zip": entries})
	if len(req) < 512<<10 {
		t.Fatalf("request only %d bytes", len(req))
	}
	s, _ := start(t, Config{}, st)
	c := connect(t, s)
	c.WriteMessage(websocket.TextMessage, req)
	typ, b := read(t, c)
	if typ != websocket.BinaryMessage {
		t.Fatalf("answer type %d: %q", typ, truncate(string(b), 200))
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil || len(zr.File) != 2000 {
		t.Fatalf("zip: %v, want 2000 entries", err)
	}
	// Over MaxZipEntries: too_large, with the limit named.
	s2, _ := start(t, Config{MaxZipEntries: 10}, st)
	c2 := connect(t, s2)
	send(t, c2, map[string]any{"zip": entries[:11]})
	if code, msg := readError(t, c2); code != "too_large" || !strings.Contains(msg, "10 files") {
		t.Fatalf("11 entries over a cap of 10: %q %q", code, msg)
	}
}

// TestPendingPool: connections that never authenticate cannot keep the
// extension out; they do not count against the authenticated cap and the
// oldest is dropped when a new one needs room.
func TestPendingPool(t *testing.T) {
	st := store.New(store.Config{})
	key, _ := st.Put([]byte("y"), "png", "")
	s, _ := start(t, Config{MaxConns: 2, MaxPending: 3}, st)
	var idle []*websocket.Conn
	for i := 0; i < 3; i++ {
		c, _, err := dial(s, testOrigin, nil)
		if err != nil {
			t.Fatalf("idle connection %d: %v", i, err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	// The pool is full: the extension still gets in, twice; the oldest
	// idle connection is dropped to make room for the first (the second
	// finds room left by the first, which authenticated at once).
	for i := 0; i < 2; i++ {
		c := connect(t, s)
		send(t, c, map[string]string{"get": key})
		if _, got := read(t, c); string(got) != "y" {
			t.Fatalf("extension connection %d got %q", i, got)
		}
	}
	for i, c := range idle[:1] {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _, err := c.ReadMessage()
		var ne net.Error
		if err == nil || errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("idle connection %d not dropped: %v", i, err)
		}
	}
	// Two authenticated connections are the cap: the next upgrade is 503.
	_, resp, err := dial(s, testOrigin, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third authenticated connection: %v, %v; want 503", err, resp)
	}
	// A connection upgraded before the cap was reached is refused with
	// busy when it authenticates.
	send(t, idle[2], map[string]string{"auth": s.Token()})
	if code, _ := readError(t, idle[2]); code != CodeBusy {
		t.Fatalf("authenticating over the cap: %q, want busy", code)
	}
	readClose(t, idle[2], websocket.CloseTryAgainLater)
}

// TestZipStreams: a ZIP is written into the socket as it is built, so a
// client that never reads holds nothing but its own connection: another
// client's ZIP is served meanwhile, and the heap does not grow by the
// archive's size.
func TestZipStreams(t *testing.T) {
	st := store.New(store.Config{})
	big := make([]byte, 8<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	key, _ := st.Put(big, "webp", "")
	var entries []map[string]string
	for i := 0; i < 40; i++ { // 320 MiB of archive per request
		entries = append(entries, map[string]string{"key": key, "name": fmt.Sprintf("%d.webp", i)})
	}
	s, _ := start(t, Config{WriteTimeout: 5 * time.Second}, st)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 3; i++ {
		c := connect(t, s)
		send(t, c, map[string]any{"zip": entries})
	}
	time.Sleep(300 * time.Millisecond)
	reader := connect(t, s)
	send(t, reader, map[string]any{"zip": entries[:2]})
	typ, b := read(t, reader)
	if typ != websocket.BinaryMessage || len(b) < 16<<20 {
		t.Fatalf("reader's zip: type %d, %d bytes", typ, len(b))
	}
	b = nil
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 64<<20 {
		t.Fatalf("heap grew %d MiB with three unread 320 MiB ZIPs in flight", grew>>20)
	}
}

func TestClose(t *testing.T) {
	st := store.New(store.Config{})
	key, _ := st.Put([]byte("x"), "png", "")
	s, _ := start(t, Config{}, st)
	a := connect(t, s)
	send(t, a, map[string]string{"get": key})
	read(t, a)
	b, _, err := dial(s, testOrigin, nil) // not yet authenticated
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Close did not return")
	}
	readClose(t, a, websocket.CloseGoingAway)
	b.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, _, err := b.ReadMessage(); err == nil {
		t.Fatal("unauthenticated connection still open")
	}
	if c, _, err := dial(s, testOrigin, nil); err == nil {
		c.Close()
		t.Fatal("dial after Close succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestKeepalive(t *testing.T) {
	st := store.New(store.Config{})
	key, _ := st.Put([]byte("y"), "png", "")
	s, _ := start(t, Config{PingInterval: 100 * time.Millisecond}, st)

	// A client that reads answers pings and stays connected past the
	// idle limit.
	live := connect(t, s)
	pings := make(chan struct{}, 100)
	live.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return live.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	got := make(chan []byte, 1)
	go func() {
		for {
			_, b, err := live.ReadMessage()
			if err != nil {
				close(got)
				return
			}
			got <- b
		}
	}()

	// A client that never reads cannot answer pings and is dropped.
	dead := connect(t, s)

	time.Sleep(500 * time.Millisecond)
	if len(pings) < 2 {
		t.Fatalf("%d pings in 500ms at a 100ms interval", len(pings))
	}
	send(t, live, map[string]string{"get": key})
	select {
	case b, ok := <-got:
		if !ok || string(b) != "y" {
			t.Fatalf("live connection: %q, %v", b, ok)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("live connection did not answer")
	}
	dead.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		if _, _, err := dead.ReadMessage(); err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("silent connection was not dropped")
			}
			break
		}
	}
}

func benchServer(b *testing.B, n, size int) (*websocket.Conn, []map[string]string) {
	st := store.New(store.Config{})
	var entries []map[string]string
	for i := 0; i < n; i++ {
		k, _ := st.Put(bytes.Repeat([]byte{byte(i)}, size), "webp", "photo.webp")
		entries = append(entries, map[string]string{"key": k})
	}
	s, err := Start(Config{Origin: testOrigin}, st, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	c, _, err := dial(s, testOrigin, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	c.WriteJSON(map[string]string{"auth": s.Token()})
	return c, entries
}

// BenchmarkGet measures one 8 MiB file over the loopback channel.
func BenchmarkGet(b *testing.B) {
	const size = 8 << 20
	c, entries := benchServer(b, 1, size)
	b.SetBytes(size)
	for b.Loop() {
		c.WriteJSON(map[string]string{"get": entries[0]["key"]})
		if _, got, err := c.ReadMessage(); err != nil || len(got) != size {
			b.Fatalf("%d bytes, %v", len(got), err)
		}
	}
}

// BenchmarkZip measures a ZIP of 20 stored 1 MiB files.
func BenchmarkZip(b *testing.B) {
	const n, size = 20, 1 << 20
	c, entries := benchServer(b, n, size)
	b.SetBytes(n * size)
	for b.Loop() {
		c.WriteJSON(map[string]any{"zip": entries})
		if _, got, err := c.ReadMessage(); err != nil || len(got) < n*size {
			b.Fatalf("%d bytes, %v", len(got), err)
		}
	}
}

func TestAnyFirefoxOrigin(t *testing.T) {
	s, _ := start(t, Config{Origin: AnyFirefoxOrigin}, nil)
	tests := []struct {
		origin string
		want   int
	}{
		{"moz-extension://0f6a1c52-6b1e-4d0e-9a4e-3f1b2c3d4e5f", http.StatusSwitchingProtocols},
		{"moz-extension://", http.StatusForbidden},
		{"moz-extension://abc/path", http.StatusForbidden},
		{"chrome-extension://fmeiijmoogoohmijkjchgkjnaeljpcno", http.StatusForbidden},
		{"https://evil.example", http.StatusForbidden},
	}
	for _, tt := range tests {
		d := websocket.Dialer{HandshakeTimeout: 2 * time.Second}
		c, resp, err := d.Dial(s.URL(), http.Header{"Origin": {tt.origin}})
		if c != nil {
			c.Close()
		}
		if resp == nil {
			t.Fatalf("%s: no response: %v", tt.origin, err)
		}
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.origin, resp.StatusCode, tt.want)
		}
	}
}

// TestHandshakeAuth: the token offered as a subprotocol authenticates in
// the upgrade itself, so the connection never waits in the pending pool;
// a wrong one gets HTTP 401 and no socket.
func TestHandshakeAuth(t *testing.T) {
	st := store.New(store.Config{})
	key, _ := st.Put([]byte("y"), "png", "")
	s, _ := start(t, Config{MaxConns: 2, MaxPending: 1}, st)
	dialTok := func(tok string) (*websocket.Conn, *http.Response, error) {
		d := websocket.Dialer{HandshakeTimeout: 2 * time.Second, Subprotocols: []string{Protocol, AuthProtocolPrefix + tok}}
		return d.Dial(s.URL(), http.Header{"Origin": {testOrigin}})
	}
	// An idle connection fills the pending pool; it is not touched.
	idle, _, err := dial(s, testOrigin, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	for i := 0; i < 2; i++ {
		c, _, err := dialTok(s.Token())
		if err != nil {
			t.Fatalf("handshake auth %d: %v", i, err)
		}
		defer c.Close()
		if c.Subprotocol() != Protocol {
			t.Fatalf("selected subprotocol %q, want %q", c.Subprotocol(), Protocol)
		}
		send(t, c, map[string]string{"get": key})
		if _, got := read(t, c); string(got) != "y" {
			t.Fatalf("handshake auth %d: got %q", i, got)
		}
	}
	// The waiting connection was not dropped for them.
	send(t, idle, map[string]string{"auth": s.Token()})
	if code, _ := readError(t, idle); code != CodeBusy {
		t.Fatalf("idle connection authenticating over the cap: %q, want busy", code)
	}
	// Over the cap: 503; a wrong token: 401, before any socket exists.
	if _, resp, err := dialTok(s.Token()); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third: %v, want 503", err)
	}
	for _, tok := range []string{"", "wrong", s.Token() + "x", strings.ToUpper(s.Token())} {
		if c, resp, err := dialTok(tok); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			if c != nil {
				c.Close()
			}
			t.Fatalf("token %q in the handshake: %v, want 401", tok, err)
		}
	}
}

// TestZipReleasedMidway: a stream looks each file up at its turn, so it
// keeps no released file alive; a file released mid-download ends the
// archive with close code 1011 and a reason.
func TestZipReleasedMidway(t *testing.T) {
	st := store.New(store.Config{})
	key, _ := st.Put(make([]byte, 8<<20), "webp", "")
	var entries []map[string]string
	for i := 0; i < 20; i++ {
		entries = append(entries, map[string]string{"key": key})
	}
	s, _ := start(t, Config{}, st)
	c := connect(t, s)
	send(t, c, map[string]any{"zip": entries})
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, r, err := c.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	st.Release([]string{key})
	_, err = io.Copy(io.Discard, r)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseInternalServerErr || !strings.Contains(ce.Text, "released") {
		t.Fatalf("read ended with %v, want close 1011 naming the release", err)
	}
}
