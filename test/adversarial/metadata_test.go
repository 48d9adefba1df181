package adversarial

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/imagediet/imgdiet/internal/vipsrt"
	"github.com/rs/zerolog"
)

// Markers placed in each kind of metadata.
const (
	exifMarker = "EXIFMARKER-camera-owner-name"
	gpsMarker  = "GPSMARKER-home-address"
	xmpMarker  = "XMPMARKER-author-email"
)

// tiffEntry is one IFD entry: tag, type, count and the value's bytes.
type tiffEntry struct {
	tag, typ uint16
	count    uint32
	data     []byte
}

func asciiEntry(tag uint16, s string) tiffEntry {
	return tiffEntry{tag, 2, uint32(len(s) + 1), append([]byte(s), 0)}
}

func rationals(tag uint16, v ...uint32) tiffEntry {
	b := make([]byte, 0, 8*len(v))
	for _, x := range v {
		b = binary.BigEndian.AppendUint32(b, x)
		b = binary.BigEndian.AppendUint32(b, 1)
	}
	return tiffEntry{tag, 5, uint32(len(v)), b}
}

// exifTIFF is a big-endian TIFF structure with IFD0 (description, make,
// GPS pointer) and a GPS IFD with a position and a processing method.
func exifTIFF() []byte {
	gps := []tiffEntry{
		{0x0000, 1, 4, []byte{2, 3, 0, 0}},
		asciiEntry(0x0001, "N"),
		rationals(0x0002, 48, 51, 29),
		asciiEntry(0x0003, "E"),
		rationals(0x0004, 2, 17, 40),
		{0x001B, 7, uint32(8 + len(gpsMarker)), append([]byte("ASCII\x00\x00\x00"), gpsMarker...)},
	}
	ifd0 := []tiffEntry{
		asciiEntry(0x010E, exifMarker),
		asciiEntry(0x010F, "SpyCam"),
		{0x8825, 4, 1, make([]byte, 4)}, // patched below
	}
	ifdSize := func(n int) int { return 2 + 12*n + 4 }
	extra := func(es []tiffEntry) int {
		n := 0
		for _, e := range es {
			if len(e.data) > 4 {
				n += len(e.data) + len(e.data)%2
			}
		}
		return n
	}
	ifd0At := 8
	gpsAt := ifd0At + ifdSize(len(ifd0)) + extra(ifd0)
	binary.BigEndian.PutUint32(ifd0[2].data, uint32(gpsAt))
	out := []byte("MM\x00\x2a\x00\x00\x00\x08")
	write := func(es []tiffEntry, at int) {
		data := at + ifdSize(len(es))
		var tail []byte
		out = binary.BigEndian.AppendUint16(out, uint16(len(es)))
		for _, e := range es {
			out = binary.BigEndian.AppendUint16(out, e.tag)
			out = binary.BigEndian.AppendUint16(out, e.typ)
			out = binary.BigEndian.AppendUint32(out, e.count)
			if len(e.data) <= 4 {
				v := make([]byte, 4)
				copy(v, e.data)
				out = append(out, v...)
				continue
			}
			out = binary.BigEndian.AppendUint32(out, uint32(data+len(tail)))
			tail = append(tail, e.data...)
			if len(e.data)%2 == 1 {
				tail = append(tail, 0)
			}
		}
		out = binary.BigEndian.AppendUint32(out, 0)
		out = append(out, tail...)
	}
	write(ifd0, ifd0At)
	write(gps, gpsAt)
	return out
}

// xmpPacket is an XMP packet with the marker, padded to about 24 KB.
func xmpPacket() []byte {
	return []byte(`<?xpacket begin="` + "\ufeff" + `" id="W5M0MpCehiHzreSzNTczkc9d"?>` +
		`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">` +
		`<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/">` +
		`<dc:creator><rdf:Seq><rdf:li>` + xmpMarker + `</rdf:li></rdf:Seq></dc:creator><xmp:CreatorTool>SpyCam</xmp:CreatorTool>` +
		`</rdf:Description></rdf:RDF></x:xmpmeta>` + strings.Repeat(" ", 24000) + `<?xpacket end="w"?>`)
}

// iccProfile returns a real sRGB profile from govips' module, or nil.
func iccProfile(t *testing.T) []byte {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/davidbyttow/govips/v2").Output()
	if err != nil {
		t.Logf("no ICC profile: %v", err)
		return nil
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "resources", "sRGB.icc"))
	if err != nil {
		t.Logf("no ICC profile: %v", err)
		return nil
	}
	return b
}

func jpegSegment(marker byte, payload []byte) []byte {
	b := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(len(payload)+2))
	return append(b, payload...)
}

// jpegWithMetadata is a JPEG with APP1 Exif (with GPS), APP1 XMP and APP2
// ICC segments.
func jpegWithMetadata(icc []byte) []byte {
	var pix bytes.Buffer
	jpeg.Encode(&pix, blocks(256, 192), &jpeg.Options{Quality: 95})
	src := pix.Bytes()
	var b bytes.Buffer
	b.Write(src[:2])
	b.Write(jpegSegment(0xE1, append([]byte("Exif\x00\x00"), exifTIFF()...)))
	b.Write(jpegSegment(0xE1, append([]byte("http://ns.adobe.com/xap/1.0/\x00"), xmpPacket()...)))
	if icc != nil {
		b.Write(jpegSegment(0xE2, append([]byte("ICC_PROFILE\x00\x01\x01"), icc...)))
	}
	b.Write(src[2:])
	return b.Bytes()
}

// pngWithMetadata is a PNG with eXIf, iTXt XMP and iCCP chunks.
func pngWithMetadata(icc []byte) []byte {
	var pix bytes.Buffer
	png.Encode(&pix, blocks(256, 192))
	src := pix.Bytes()
	idat := bytes.Index(src, []byte("IDAT")) - 4
	var b bytes.Buffer
	b.Write(src[:idat])
	if icc != nil {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(icc)
		zw.Close()
		b.Write(pngChunk("iCCP", append([]byte("sRGB\x00\x00"), z.Bytes()...)))
	}
	b.Write(pngChunk("eXIf", exifTIFF()))
	b.Write(pngChunk("iTXt", append([]byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"), xmpPacket()...)))
	b.Write(src[idat:])
	return b.Bytes()
}

// gifWithMetadata is a GIF (frames frames) with an XMP application
// extension and a comment extension.
func gifWithMetadata(frames int) []byte {
	src := gifFrames(64, 48, frames)
	if frames == 1 {
		var b bytes.Buffer
		gif.Encode(&b, blocks(64, 48), nil)
		src = b.Bytes()
	}
	// After the header (6), the screen descriptor (7) and the global colour
	// table (its size is in the packed byte).
	at := 13
	if src[10]&0x80 != 0 {
		at += 3 << (src[10]&7 + 1)
	}
	var ext bytes.Buffer
	ext.Write([]byte{0x21, 0xFF, 0x0B})
	ext.WriteString("XMP DataXMP")
	ext.Write(xmpPacket())
	ext.WriteByte(0x01)
	for i := 0xFF; i >= 0; i-- {
		ext.WriteByte(byte(i))
	}
	ext.WriteByte(0x00)
	ext.Write([]byte{0x21, 0xFE, byte(len(exifMarker))})
	ext.WriteString(exifMarker)
	ext.WriteByte(0x00)
	return append(append(append([]byte(nil), src[:at]...), ext.Bytes()...), src[at:]...)
}

// viaLibvips re-encodes src with libvips keeping its metadata.
func viaLibvips(t *testing.T, src []byte, format string) []byte {
	vipsrt.Start(vipsrt.DefaultConfig(), zerolog.Nop())
	img, err := vips.NewImageFromBuffer(src)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	var b []byte
	switch format {
	case "webp":
		b, _, err = img.ExportWebp(&vips.WebpExportParams{Quality: 90, ReductionEffort: 4})
	case "avif":
		b, _, err = img.ExportAvif(&vips.AvifExportParams{Quality: 60, Effort: 2, Bitdepth: 8})
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// leaks lists the metadata traces found in b.
func leaks(b []byte) []string {
	var found []string
	for _, s := range []string{
		"Exif\x00\x00", exifMarker, gpsMarker, xmpMarker, "SpyCam",
		"http://ns.adobe.com/xap", "<x:xmpmeta", "xpacket", "eXIf",
		"\x88\x25\x00\x04", "\x25\x88\x04\x00", // GPS IFD pointer tag, both byte orders
		"acsp", "ICC_PROFILE", "iCCP", // colour profile
	} {
		if bytes.Contains(b, []byte(s)) {
			found = append(found, strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", `\0`), "?"))
		}
	}
	return found
}

// TestMetadataIsStrippedFromEveryOutput scans sources carrying EXIF with
// GPS, XMP and an ICC profile (JPEG, PNG, WebP, AVIF; GIF with XMP and a comment) through the built
// host once per output format, downloads each best result and checks its
// bytes: no EXIF, GPS, XMP or profile unless keepMetadata is on.
func TestMetadataIsStrippedFromEveryOutput(t *testing.T) {
	icc := iccProfile(t)
	j := jpegWithMetadata(icc)
	sources := map[string][]byte{
		"/meta.jpg":  j,
		"/meta.png":  pngWithMetadata(icc),
		"/meta.webp": viaLibvips(t, j, "webp"),
		"/meta.avif": viaLibvips(t, j, "avif"),
		"/meta.gif":  gifWithMetadata(1),
		"/anim.gif":  gifWithMetadata(3),
	}
	for name, b := range sources {
		got := strings.Join(leaks(b), " ")
		wants := []string{exifMarker, gpsMarker, xmpMarker}
		if strings.HasSuffix(name, ".gif") {
			wants = []string{exifMarker, xmpMarker}
		}
		for _, want := range wants {
			if !strings.Contains(got, want) {
				t.Fatalf("source %s lacks %s (has %s): the test would prove nothing", name, want, got)
			}
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, ok := sources[r.URL.Path]; ok {
			w.Write(b)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()

	h := startHost(t)
	dataURL, token := h.hello("h")
	n := 0
	for _, format := range []string{"jpeg", "png", "webp", "avif", "gif"} {
		for name := range sources {
			if format == "gif" && !strings.HasSuffix(name, ".gif") {
				continue // GIF is offered for GIF sources only
			}
			n++
			id := format + name
			res := h.scan(id, srv.URL+"/", map[string]any{"formats": []string{format}, "quality": 75,
				"resize": false, "minSavingsBytes": 0}, []map[string]any{{"url": srv.URL + name}}, 60*time.Second)
			m := res.finals[0]
			if m == nil || m.Best == nil {
				t.Errorf("%s → %s: no optimized result: %+v %+v", name, format, m, m.Error)
				continue
			}
			if m.Best.Format != format && !(name == "/anim.gif" && m.Best.Format == "gif") { // animations stay animated
				t.Errorf("%s → %s: best is %s", name, format, m.Best.Format)
			}
			out := download(t, dataURL, token, m.Best.Key)
			if l := leaks(out); len(l) > 0 {
				t.Errorf("%s → %s (%d bytes) still carries %v", name, format, len(out), l)
			}
		}
	}
	// keepMetadata: the user asked to keep it, so EXIF survives in JPEG.
	for _, format := range []string{"jpeg", "webp"} {
		res := h.scan("keep-"+format, srv.URL+"/", map[string]any{"formats": []string{format}, "quality": 75,
			"resize": false, "keepMetadata": true, "minSavingsBytes": 0}, []map[string]any{{"url": srv.URL + "/meta.jpg"}}, 60*time.Second)
		m := res.finals[0]
		if m == nil || m.Best == nil {
			t.Errorf("keepMetadata %s: no optimized result: %+v", format, m)
			continue
		}
		out := download(t, dataURL, token, m.Best.Key)
		if got := strings.Join(leaks(out), " "); !strings.Contains(got, exifMarker) {
			t.Errorf("keepMetadata %s: EXIF was dropped (found %s)", format, got)
		}
	}
	t.Logf("%d source/format pairs checked", n)
	assertServing(t, h)
}
