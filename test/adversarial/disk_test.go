package adversarial

import (
	"bytes"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHostLeavesNothingOnDisk runs scans whose URLs, queries and image
// bytes carry a unique marker through the built host at debug log level,
// with HOME and TMPDIR pointing at empty folders. Afterwards those folders
// must still be empty, no file under /tmp or /var/tmp changed during the
// run may contain the marker, and no log line may carry it.
func TestHostLeavesNothingOnDisk(t *testing.T) {
	canary := "canary" + time.Now().Format("150405.000000000")
	home, tmp := t.TempDir(), t.TempDir()
	pixels := pngWithText(canary)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, canary) {
			w.Write(pixels)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	start := time.Now()
	h := startHost(t, "HOME="+home, "TMPDIR="+tmp, "XDG_CACHE_HOME="+home+"/.cache",
		"XDG_CONFIG_HOME="+home+"/.config", "IMGDIET_LOG_LEVEL=debug")
	dataURL, token := h.hello("h")
	page := srv.URL + "/" + canary + "/page.html?q=" + canary
	res := h.scan("s", page, map[string]any{"minSavingsBytes": 0}, []map[string]any{
		{"url": srv.URL + "/" + canary + "/a.png?q=" + canary},
		{"url": srv.URL + "/" + canary + "/missing.png?q=" + canary},
		{"url": "blob:" + srv.URL + "/" + canary, "data": pixels},
	}, 60*time.Second)
	if m := res.finals[0]; m == nil || m.Best == nil {
		t.Fatalf("no optimized result: %+v", m)
	} else if out := download(t, dataURL, token, m.Best.Key); bytes.Contains(out, []byte(canary)) {
		t.Error("the optimized image still carries the marker from its text chunk")
	}
	h.send(map[string]any{"type": "release", "id": "r", "all": true})
	if code := h.closeAndWait(); code != 0 {
		t.Errorf("exit %d", code)
	}
	if s := h.stderr.String(); strings.Contains(s, canary) {
		t.Errorf("the host log carries the marker:\n%s", s)
	}
	for _, dir := range []string{home, tmp} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			t.Errorf("the host wrote %s", filepath.Join(dir, e.Name()))
		}
	}
	for _, root := range []string{"/tmp", "/var/tmp", os.TempDir()} {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			info, err := d.Info()
			if err != nil || !info.Mode().IsRegular() || info.ModTime().Before(start) || info.Size() > 64<<20 {
				return nil
			}
			if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(canary)) {
				t.Errorf("%s contains the marker", p)
			}
			return nil
		})
	}
}

// pngWithText is a small PNG whose tEXt chunk carries s.
func pngWithText(s string) []byte {
	src := pngWithMetadata(nil)
	idat := bytes.Index(src, []byte("IDAT")) - 4
	return append(append(append([]byte(nil), src[:idat]...), pngChunk("tEXt", []byte("Comment\x00"+s))...), src[idat:]...)
}
