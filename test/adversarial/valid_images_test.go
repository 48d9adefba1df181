package adversarial

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"strings"
	"testing"
	"time"
)

// corruptIDAT returns a valid PNG whose pixel data is garbage behind a
// correct header and CRC: the header reader passes it, the decoder fails.
func corruptIDAT() []byte {
	p := tinyPNG()
	i := bytes.Index(p, []byte("IDAT"))
	n := int(binary.BigEndian.Uint32(p[i-4:]))
	for k := 0; k < n; k++ {
		p[i+4+k] = 0xA5
	}
	binary.BigEndian.PutUint32(p[i+4+n:], crc32.ChecksumIEEE(p[i:i+4+n]))
	return p
}

// TestValidImagesAreNotCalledDamaged: animated PNGs (blend and dispose
// operations, 16-bit) are valid files browsers show: they are kept with a
// reason, never decode_failed. An SVG declaring 10000×10000 (Lighthouse's
// tester page has one) is minified, its comments gone, never
// too_many_pixels. And each error code comes with one sentence, whichever
// layer found the problem.
func TestValidImagesAreNotCalledDamaged(t *testing.T) {
	t.Parallel()
	apng8, err := os.ReadFile("../../internal/probe/testdata/apng-blend-dispose.png")
	if err != nil {
		t.Fatal(err)
	}
	apng16, err := os.ReadFile("../../internal/probe/testdata/apng-16bit.png")
	if err != nil {
		t.Fatal(err)
	}
	svg := []byte("<?xml version=\"1.0\"?>\n<!-- exported by a tool: bytes that only waste space -->\n" +
		`<svg xmlns="http://www.w3.org/2000/svg" width="10000" height="10000" viewBox="0 0 10000 10000">` +
		"\n  <!-- another comment -->\n" + `  <rect width="10000" height="10000" fill="#ff0000"/><circle cx="5000" cy="5000" r="2500" fill="#0000ff"/>` + "\n</svg>\n")
	truncated := tinyPNG()[:30]
	images := []map[string]any{
		{"url": "blob:https://news.example/apng", "data": apng8},
		{"url": "blob:https://news.example/apng16", "data": apng16},
		{"url": "blob:https://news.example/huge.svg", "data": svg},
		{"url": "blob:https://news.example/truncated", "data": truncated},
		{"url": "blob:https://news.example/corrupt", "data": corruptIDAT()},
		{"url": "blob:https://news.example/random", "data": bytes.Repeat([]byte("not an image "), 20)},
		{"url": "blob:https://news.example/bmp", "data": bmpClaiming(4, 4)},
	}
	h := startHost(t)
	dataURL, token := h.hello("h")
	res := h.scan("s", "https://news.example/", map[string]any{"minSavingsBytes": 0}, images, 60*time.Second)
	for i := range images[:2] {
		r := res.finals[i]
		if r == nil || r.Status != "optimal" || r.Error != nil || r.Original == nil || r.Original.Format != "png" {
			t.Errorf("animated PNG %d: %.400s; want optimal, kept", i, r.raw)
			continue
		}
		if !strings.Contains(string(r.raw), `"animated":true`) || !strings.Contains(string(r.raw), "kept as they are") {
			t.Errorf("animated PNG %d: %.400s; want animated and a reason", i, r.raw)
		}
	}
	if r := res.finals[2]; r == nil || r.Status != "optimized" || r.Best == nil || r.Best.Format != "svg" {
		t.Errorf("SVG declaring 10000×10000: %.400s; want optimized SVG", r.raw)
	} else if out := download(t, dataURL, token, r.Best.Key); bytes.Contains(out, []byte("<!--")) || !bytes.Contains(out, []byte("<circle")) {
		t.Errorf("cleaned SVG: %s", out)
	}
	sentence := map[string]map[string]bool{}
	for i := 3; i < len(images); i++ {
		r := res.finals[i]
		if r == nil || r.Error == nil {
			t.Fatalf("image %d: %+v, want an error", i, r)
		}
		if sentence[r.Error.Code] == nil {
			sentence[r.Error.Code] = map[string]bool{}
		}
		sentence[r.Error.Code][r.Error.Message] = true
	}
	for _, code := range []string{"decode_failed", "unsupported_format"} {
		if len(sentence[code]) != 1 {
			t.Errorf("%s came with %d sentences: %v; want one", code, len(sentence[code]), sentence[code])
		}
	}
	assertServing(t, h)
}
