package adversarial

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostileSVG carries scripts, event handlers and external references of
// every kind, and padding so a cleaned copy is smaller than the source.
const hostileSVG = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="120" height="80" viewBox="0 0 120 80" onload="alert(1)">
  <!-- PADDING -->
  <metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">` + marker + `</rdf:RDF></metadata>
  <script type="text/javascript">alert('svg script')</script>
  <script xlink:href="http://evil.example/x.js"/>
  <script href="https://evil.example/y.js"></script>
  <style>@import url(http://evil.example/a.css); rect.k { fill: url(http://evil.example/p.svg#p) }</style>
  <image href="http://evil.example/track.png" width="10" height="10"/>
  <image xlink:href="file:///etc/passwd" width="10" height="10"/>
  <use href="http://evil.example/sprite.svg#a"/>
  <use xlink:href="//evil.example/sprite.svg#b"/>
  <foreignObject width="10" height="10"><iframe xmlns="http://www.w3.org/1999/xhtml" src="http://evil.example/"/></foreignObject>
  <a href="javascript:alert(1)"><rect width="10" height="10" fill="red"/></a>
  <a xlink:href="jav&#x09;ascript:alert(5)"><circle r="3" fill="green"/></a>
  <rect class="k" x="20" y="20" width="50" height="40" fill="#0000ff" onclick="alert(2)" style="background:url(http://evil.example/b.png)"/>
  <set attributeName="href" to="javascript:alert(3)"/>
  <animate attributeName="href" values="javascript:alert(4)"/>
  <feImage href="http://evil.example/fe.png"/>
  <handler xmlns:ev="http://www.w3.org/2001/xml-events" ev:event="load">alert(6)</handler>
</svg>`

// svgForbidden must not appear in any cleaned SVG.
var svgForbidden = []string{"<script", "onload", "onclick", "javascript", "evil.example", "/etc/passwd",
	"foreignobject", "iframe", "@import", "alert(", "<handler", "<set", "<animate"}

// hostileServer serves hostile images on loopback.
func hostileServer(t *testing.T) *httptest.Server {
	t.Helper()
	big := 40 << 20
	chunk := make([]byte, 64<<10)
	r := rand.New(rand.NewSource(3))
	random := make([]byte, 100<<10)
	r.Read(random)
	full := photo(400, 300, 5, 90)
	var fullPNG bytes.Buffer
	fullPNG.Write(pngWithMetadata(nil))
	bomb := pngBomb(60000, 60000)
	files := map[string][]byte{
		"/bomb.png":        bomb,
		"/header-bomb.png": bomb[:200],
		"/bomb.jpg":        jpegClaiming(60000, 60000),
		"/wide.jpg":        jpegClaiming(65500, 800),
		"/frames.gif":      gifFrames(200, 200, 3000),
		"/tiny-frames.gif": gifFrames(1, 1, 5000),
		"/bomb.webp":       webpClaiming(16777216, 16777216),
		"/bomb.tiff":       tiffClaiming(60000, 60000, false),
		"/loop.tiff":       tiffClaiming(64, 64, true),
		"/bomb.bmp":        bmpClaiming(60000, 60000),
		"/neg.bmp":         bmpClaiming(60000, -60000),
		"/trunc.jpg":       full[:len(full)/2],
		"/trunc.png":       fullPNG.Bytes()[:fullPNG.Len()-20],
		"/random.bin":      random,
		"/random.png":      append([]byte("\x89PNG\r\n\x1a\n"), random[:4096]...),
		"/empty.png":       {},
		"/hostile.svg":     []byte(strings.Replace(hostileSVG, "PADDING", strings.Repeat("padding ", 4000), 1)),
		"/xxe.svg": []byte(`<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd"><!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">]>` +
			`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&x;&g;&g;&g;</text></svg>`),
		"/gzip.png": gzipZeros(1 << 30),
	}
	var mu sync.Mutex
	var stalled []chan struct{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/big-length.jpg":
			w.Header().Set("Content-Length", fmt.Sprint(big))
			for n := 0; n < big; n += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/big-chunked.jpg":
			for n := 0; n < big; n += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/big-lying.jpg": // claims 1 KB, sends 40 MB
			w.Header().Set("Content-Length", "1024")
			w.WriteHeader(200)
			hj, _ := w.(http.Hijacker)
			c, buf, err := hj.Hijack()
			if err != nil {
				return
			}
			defer c.Close()
			for n := 0; n < big; n += len(chunk) {
				if _, err := buf.Write(chunk); err != nil {
					return
				}
			}
			buf.Flush()
		case "/trickle.jpg":
			w.Header().Set("Content-Length", "1000000")
			w.Write(full[:2])
			for {
				w.(http.Flusher).Flush()
				select {
				case <-req.Context().Done():
					return
				case <-time.After(200 * time.Millisecond):
				}
				if _, err := w.Write([]byte{0}); err != nil {
					return
				}
			}
		case "/stall.jpg":
			stop := make(chan struct{})
			mu.Lock()
			stalled = append(stalled, stop)
			mu.Unlock()
			select {
			case <-req.Context().Done():
			case <-stop:
			}
		case "/loop.jpg":
			http.Redirect(w, req, "/loop.jpg?"+fmt.Sprint(time.Now().UnixNano()), http.StatusFound)
		case "/huge-header.jpg":
			w.Header().Set("X-Junk", strings.Repeat("j", 200<<10))
			w.Write(full)
		case "/gzip.png":
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "image/png")
			w.Write(files[req.URL.Path])
		default:
			b, ok := files[req.URL.Path]
			if !ok {
				http.NotFound(w, req)
				return
			}
			w.Write(b)
		}
	}))
	t.Cleanup(func() {
		mu.Lock()
		for _, c := range stalled {
			close(c)
		}
		mu.Unlock()
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

// webpClaiming is an extended WebP whose canvas claims w×h pixels.
func webpClaiming(w, h int) []byte {
	vp8x := make([]byte, 10)
	put24 := func(b []byte, v int) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }
	put24(vp8x[4:], w-1)
	put24(vp8x[7:], h-1)
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(4+8+10))
	b.WriteString("WEBPVP8X")
	binary.Write(&b, binary.LittleEndian, uint32(10))
	b.Write(vp8x)
	return b.Bytes()
}

// TestHostileImagesThroughHost sends decompression bombs, lies, broken
// and endless files, and a hostile SVG to the built host. Each must get
// the expected error code in bounded time and memory; the SVG must come
// back without scripts or external references; the host keeps serving.
func TestHostileImagesThroughHost(t *testing.T) {
	t.Parallel()
	srv := hostileServer(t)
	page := srv.URL + "/page.html"
	cases := []struct {
		path  string
		codes string // accepted error codes; "" means a non-error result
	}{
		{"/bomb.png", "too_many_pixels"},
		{"/header-bomb.png", "too_many_pixels"},
		{"/bomb.jpg", "too_many_pixels"},
		{"/wide.jpg", "too_many_pixels"},
		{"/frames.gif", "too_many_pixels"},
		{"/tiny-frames.gif", "too_many_pixels decode_failed"},
		{"/bomb.webp", "too_many_pixels"},
		{"/bomb.tiff", "too_many_pixels"},
		{"/loop.tiff", "decode_failed unsupported_format"},
		{"/bomb.bmp", "too_many_pixels unsupported_format"},
		{"/neg.bmp", "too_many_pixels unsupported_format"},
		{"/trunc.jpg", "decode_failed"},
		{"/trunc.png", "decode_failed"},
		{"/random.bin", "unsupported_format"},
		{"/random.png", "decode_failed unsupported_format"},
		{"/empty.png", "unsupported_format decode_failed"},
		{"/gzip.png", "unsupported_format"},
		{"/xxe.svg", "decode_failed unsupported_format"},
		{"/big-length.jpg", "too_large"},
		{"/big-chunked.jpg", "too_large"},
		{"/big-lying.jpg", "unsupported_format decode_failed fetch_failed"},
		{"/loop.jpg", "fetch_failed"},
		{"/huge-header.jpg", "fetch_failed"},
		{"/hostile.svg", ""},
		// Last: these two hold a worker until the fetch timeout.
		{"/trickle.jpg", "timeout"},
		{"/stall.jpg", "timeout"},
	}
	var images []map[string]any
	for _, c := range cases {
		images = append(images, map[string]any{"url": srv.URL + c.path})
	}
	// The same bombs as bytes the extension sends (data: and blob: images).
	dataBombs := []string{"/bomb.png", "/bomb.jpg", "/frames.gif"}
	for _, p := range dataBombs {
		// []byte marshals as base64, as the contract's "data" is.
		images = append(images, map[string]any{"url": "blob:" + srv.URL + p, "data": mustGet(t, srv.URL+p)})
	}

	h := startHost(t, "IMGDIET_LOG_LEVEL=debug")
	dataURL, token := h.hello("h")
	start := time.Now()
	res := h.scan("hostile", page, map[string]any{"formats": []string{"jpeg", "png", "webp", "gif"}, "minSavingsBytes": 0},
		images, 90*time.Second)
	took := time.Since(start)
	for i, c := range cases {
		m := res.finals[i]
		switch {
		case m == nil:
			t.Errorf("%s: no final result", c.path)
		case c.codes == "" && m.Status == "error":
			t.Errorf("%s: error %s (%s)", c.path, m.Error.Code, m.Error.Message)
		case c.codes != "" && (m.Status != "error" || m.Error == nil):
			t.Errorf("%s: status %s, want one of %s", c.path, m.Status, c.codes)
		case c.codes != "" && !strings.Contains(" "+c.codes+" ", " "+m.Error.Code+" "):
			t.Errorf("%s: error %s (%q), want one of %s", c.path, m.Error.Code, m.Error.Message, c.codes)
		case m.Error != nil && (m.Error.Message == "" || strings.ContainsAny(m.Error.Message, "\n/") || strings.Contains(m.Error.Message, "vips")):
			t.Errorf("%s: message %q is not one plain sentence", c.path, m.Error.Message)
		}
	}
	for j, p := range dataBombs {
		m := res.finals[len(cases)+j]
		if m == nil || m.Error == nil || m.Error.Code != "too_many_pixels" {
			t.Errorf("%s sent as data: %+v, want too_many_pixels", p, m)
		}
	}
	// Two slow images take the fetch timeout (15 s, no setting for it);
	// everything else is quick.
	if took > 40*time.Second {
		t.Errorf("scan took %v", took)
	}
	t.Logf("hostile scan: %v", took)

	// The SVG comes back without anything active or external.
	var svg *msg
	for i, c := range cases {
		if c.path == "/hostile.svg" {
			svg = res.finals[i]
		}
	}
	if svg != nil && svg.Best != nil {
		out := strings.ToLower(string(download(t, dataURL, token, svg.Best.Key)))
		for _, bad := range svgForbidden {
			if strings.Contains(out, bad) {
				t.Errorf("cleaned SVG still contains %q:\n%s", bad, out)
			}
		}
		if !strings.Contains(out, "<svg") || !strings.Contains(out, "rect") {
			t.Errorf("cleaned SVG lost its drawing:\n%s", out)
		}
		if strings.Contains(out, strings.ToLower(marker)) {
			t.Errorf("cleaned SVG kept its metadata")
		}
	} else {
		t.Errorf("hostile SVG has no optimized result: %+v", svg)
	}

	if hwm := h.vmHWM(); hwm > 400<<20 {
		t.Errorf("host peak RSS %d MB, want < 400 MB", hwm>>20)
	} else {
		t.Logf("host peak RSS %d MB", hwm>>20)
	}
	if s := h.stderr.String(); strings.Contains(s, "bomb") || strings.Contains(s, "/etc/passwd") || strings.Contains(s, "panic") {
		t.Errorf("host log names a path or panicked:\n%s", s)
	}
	assertServing(t, h)
}

func mustGet(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return b.Bytes()
}
