package datachan

import (
	"archive/zip"
	"strings"
	"testing"
)

func TestSafeName(t *testing.T) {
	long := strings.Repeat("é", 80) // 160 bytes
	tests := []struct {
		name, format, want string
	}{
		{"photo.webp", "webp", "photo.webp"},
		{"photo.WEBP", "webp", "photo.webp"},
		{"photo.jpeg", "jpeg", "photo.jpeg"},
		{"photo.jpg", "webp", "photo.webp"},
		{"photo", "avif", "photo.avif"},
		{"my.holiday", "png", "my.holiday.png"},
		{"../../etc/passwd", "svg", "passwd.svg"},
		{`C:\Users\me\cat.png`, "png", "cat.png"},
		{"..", "png", ""},
		{"...", "png", ""},
		{"", "png", ""},
		{"dir/", "png", ""},
		{".hidden.png", "png", "hidden.png"},
		{"a..b.png", "png", "a.b.png"},
		{"tab\there\x00\x1f\x7f.png", "png", "tabhere.png"},
		{"evil\u202egnp.exe", "png", "evilgnp.exe.png"},
		{`what<>:"|?*.gif`, "gif", "what.gif"},
		{"  spaced .png", "png", "spaced.png"},
		{"CON.png", "png", "_CON.png"},
		{"lpt1", "jpeg", "_lpt1.jpg"},
		{"console.png", "png", "console.png"},
		{"bad\xffutf8.png", "png", "badutf8.png"},
		{long + ".webp", "webp", strings.Repeat("é", 50) + ".webp"},
		{"x.png", "tiff", "x.bin"},
		// Windows device names beyond the common ones.
		{"COM¹.png", "png", "_COM¹.png"},
		{"lpt³", "webp", "_lpt³.webp"},
		{"CONIN$.jpg", "jpeg", "_CONIN$.jpg"},
		{"conout$", "gif", "_conout$.gif"},
		{"CON .png", "png", "_CON.png"},
		{"COM10.png", "png", "COM10.png"},
		{"lpt0.png", "png", "_lpt0.png"},
		// Nothing usable left: the caller falls back to the URL's name.
		{" .webp", "webp", ""},
		{".webp", "webp", ""},
		{". . .", "png", ""},
		{"   ", "png", ""},
		{"\xff\xfe", "png", ""},
		{"\ufffd\ufffd.png", "png", ""},
		// Trailing dots and spaces go; the stem stays.
		{"photo.webp. . ", "webp", "photo.webp"},
		{"photo .", "png", "photo.png"},
		{"caf\xe9.png", "png", "caf.png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SafeName(tt.name, tt.format)
			if got != tt.want {
				t.Fatalf("SafeName(%q, %q) = %q, want %q", tt.name, tt.format, got, tt.want)
			}
			if strings.ContainsAny(got, `/\`) || strings.Contains(got, "..") || len(got) > maxStem+6 {
				t.Fatalf("unsafe result %q", got)
			}
		})
	}
}

func TestNamer(t *testing.T) {
	var nm namer
	steps := []struct {
		n      int
		format string
		names  []string
		want   string
	}{
		{1, "webp", []string{"photo.webp"}, "photo.webp"},
		{2, "webp", []string{"PHOTO.webp"}, "PHOTO (2).webp"},
		{3, "webp", []string{"photo.jpg"}, "photo (3).webp"},
		{4, "webp", []string{"photo (2).webp"}, "photo (2) (2).webp"},
		{5, "png", []string{"", "stored.png"}, "stored.png"},
		{6, "png", []string{"..", ""}, "image-6.png"},
		{7, "jpeg", nil, "image-7.jpg"},
		{8, "png", []string{"image-6.png"}, "image-6 (2).png"},
		// Names with nothing usable fall back to the name from the URL,
		// not to their extension ("webp.webp").
		{9, "webp", []string{" .webp", "sunset.jpg"}, "sunset.webp"},
		{10, "webp", []string{"\xff\xfe.webp", "sunset.png"}, "sunset (2).webp"},
		{11, "avif", []string{"...", "dusk.avif"}, "dusk.avif"},
	}
	for _, s := range steps {
		if got := nm.next(s.n, s.format, s.names...); got != s.want {
			t.Errorf("next(%d, %q, %q) = %q, want %q", s.n, s.format, s.names, got, s.want)
		}
	}
}

func TestMethod(t *testing.T) {
	for f, want := range map[string]uint16{
		"jpeg": zip.Store, "png": zip.Store, "webp": zip.Store, "avif": zip.Store, "gif": zip.Store,
		"svg": zip.Deflate, "tiff": zip.Deflate,
	} {
		if got := method(f); got != want {
			t.Errorf("method(%q) = %d, want %d", f, got, want)
		}
	}
}

// TestNamerFolders checks entry names with a folder: each part is made
// safe on its own, at most one folder is kept, and nothing leaves the
// archive's root (no "..", no absolute path, no backslash, no empty
// part).
func TestNamerFolders(t *testing.T) {
	var nm namer
	steps := []struct {
		format string
		names  []string
		want   string
	}{
		{"avif", []string{"photo/photo-640w.avif"}, "photo/photo-640w.avif"},
		{"avif", []string{"Photo/PHOTO-640w.avif"}, "photo/PHOTO-640w (2).avif"}, // one folder, spelt as first asked
		{"webp", []string{"photo/photo-640w.avif"}, "photo/photo-640w.webp"},
		// Traversal: "..", absolute paths, drive letters, backslashes.
		{"png", []string{"../x.png"}, "x.png"},
		{"png", []string{"../../etc/passwd"}, "etc/passwd.png"},
		{"png", []string{"/abs/y.png"}, "abs/y.png"},
		{"png", []string{"/z.png"}, "z.png"},
		{"png", []string{`C:\Windows\system32\w.png`}, "system32/w.png"},
		{"png", []string{`..\..\v.png`}, "v.png"},
		{"png", []string{"a/../u.png"}, "u.png"},
		{"png", []string{"a/./t.png"}, "t.png"},
		// Empty parts are skipped; more than one folder keeps the last.
		{"png", []string{"a//s.png"}, "a/s.png"},
		{"png", []string{"x/y/z/r.png"}, "z/r.png"},
		{"png", []string{"//q.png"}, "q.png"},
		// Unsafe folder names are cleaned like file names.
		{"png", []string{"CON/p.png"}, "_CON/p.png"},
		{"png", []string{" .hidden. /o.png"}, "hidden/o.png"},
		{"png", []string{"bi\u202edi<>:\"|?*/n.png"}, "bidi/n.png"},
		{"png", []string{strings.Repeat("d", 300) + "/m.png"}, strings.Repeat("d", maxStem) + "/m.png"},
		// A folder with no usable file name takes the fallback names.
		{"png", []string{"photo/", "stored.png"}, "photo/stored.png"},
		{"png", []string{"photo/...", ""}, "photo/image-20.png"},
		// A folder never takes a top-level file's name, nor a file a
		// folder's.
		{"webp", []string{"sun.webp"}, "sun.webp"},
		{"webp", []string{"sun.webp/sun-640w.webp"}, "sun.webp (2)/sun-640w.webp"},
		{"webp", []string{"photo"}, "photo.webp"},
		{"png", []string{"photo/q.png"}, "photo/q.png"},
	}
	for i, s := range steps {
		got := nm.next(i+1, s.format, s.names...)
		if got != s.want {
			t.Errorf("next(%d, %q, %q) = %q, want %q", i+1, s.format, s.names, got, s.want)
		}
		if strings.Count(got, "/") > 1 || strings.ContainsAny(got, `\:`) || strings.HasPrefix(got, "/") || strings.Contains(got, "..") || strings.Contains(got, "//") {
			t.Errorf("unsafe path %q", got)
		}
	}
}
