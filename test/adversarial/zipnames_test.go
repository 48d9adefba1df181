package adversarial

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// TestZipEntryNames: a zip request names its files after what a hostile
// page chose. Windows device names (with the superscript ports and the
// console names) get a prefix; names of only dots, spaces or invalid
// UTF-8, or an extension alone, fall back to the image URL's own name,
// never to "webp.webp"-like names; trailing dots and spaces go.
func TestZipEntryNames(t *testing.T) {
	t.Parallel()
	src := noisePNG(40, 40)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(src) }))
	defer srv.Close()
	h := startHost(t)
	dataURL, token := h.hello("h")
	res := h.scan("s", srv.URL+"/", map[string]any{"formats": []string{"jpeg"}, "quality": 90, "minSavingsBytes": 0, "resize": false},
		[]map[string]any{{"url": srv.URL + "/gallery/sunset.png"}}, 30*time.Second)
	if res.finals[0] == nil || res.finals[0].Best == nil {
		t.Fatalf("no held result: %+v", res.finals[0])
	}
	key := res.finals[0].Best.Key
	names := []string{"COM¹.png", "lpt³", "CONIN$.jpg", "conout$", " .webp", ".jpg", "...", "   ", "\xff\xfe", "\xff\xfe.jpg", "photo.jpg. . ", "shot ."}
	want := []string{"_COM¹.jpg", "_lpt³.jpg", "_CONIN$.jpg", "_conout$.jpg", "sunset.jpg", "sunset (2).jpg", "sunset (3).jpg", "sunset (4).jpg", "sunset (5).jpg", "sunset (6).jpg", "photo.jpg", "shot.jpg"}
	var entries []string
	for _, n := range names {
		// Marshalled by hand so the invalid UTF-8 reaches the helper as
		// raw bytes, as a careless client would send it.
		entries = append(entries, `{"key":"`+key+`","name":"`+n+`"}`)
	}
	c := authed(t, dataURL, token)
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	c.WriteMessage(websocket.TextMessage, []byte(`{"zip":[`+strings.Join(entries, ",")+`]}`))
	typ, b, err := c.ReadMessage()
	if err != nil || typ != websocket.BinaryMessage {
		t.Fatalf("zip: %v %.200s", err, b)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil || len(zr.File) != len(want) {
		t.Fatalf("zip: %v, %d entries", err, len(zr.File))
	}
	for i, f := range zr.File {
		if f.Name != want[i] {
			q, _ := json.Marshal(names[i])
			t.Errorf("name %s became %q, want %q", q, f.Name, want[i])
		}
		if !utf8.ValidString(f.Name) {
			t.Errorf("entry %d name is not UTF-8", i)
		}
	}
	assertServing(t, h)
}
