package scan

import (
	"context"
	"testing"

	"github.com/imagediet/imgdiet/internal/store"
)

// TestCandidateKeys checks what a verified result names beside its best:
// every candidate smaller than the original under a held key (the best's
// own key for the best's bytes) with the distance measured for it, within
// the target; an estimate names no candidate key and no distance.
func TestCandidateKeys(t *testing.T) {
	src := jpegBytes(t, photo(480, 320, 7), 95)
	srv := newSite(t, map[string][]byte{"/a.jpg": src})
	held := store.New(store.Config{})
	s := scanner(newRecorder(), held, 1)
	msgs := collect(t, s, context.Background(), pageRequest(t, srv,
		`{"formats":["jpeg","webp","png"],"quality":"auto","target":"balanced","minSavingsBytes":0}`, []row{{"/a.jpg", 240, 160, 1}}))
	rows := byRow(msgs)
	final := finalOf(t, rows, 0)
	if final["verified"] != true {
		t.Fatalf("final not verified: %v", final)
	}
	best := bestOf(t, final)
	if d, _ := best["distance"].(float64); d <= 0 || d > 1.4 {
		t.Errorf("best.distance = %v, want in (0, 1.4]", best["distance"])
	}
	cands := final["candidates"].([]any)
	keyed := 0
	for _, x := range cands {
		c := x.(map[string]any)
		smaller := c["bytes"].(float64) < float64(len(src))
		key, _ := c["key"].(string)
		if smaller != (key != "") {
			t.Errorf("candidate %v: key %q, smaller than the original %v", c["format"], key, smaller)
		}
		if key != "" {
			keyed++
			it, ok := held.Get(key)
			if !ok || float64(len(it.Data)) != c["bytes"].(float64) || it.Format != c["format"] {
				t.Errorf("candidate %v: key %s holds %d bytes of %s (%v), want %v bytes", c["format"], key, len(it.Data), it.Format, ok, c["bytes"])
			}
		}
		d, hasD := c["distance"].(float64)
		lossless := c["format"] == "png" && c["quality"] == float64(100)
		if lossless == hasD || (hasD && (d <= 0 || d > 1.4)) {
			t.Errorf("candidate %v q%v: distance %v (lossless %v)", c["format"], c["quality"], c["distance"], lossless)
		}
		if c["format"] == best["format"] && c["bytes"] == best["bytes"] && (c["key"] != best["key"] || c["distance"] != best["distance"]) {
			t.Errorf("the best's candidate %v differs from best %v", c, best)
		}
	}
	if keyed < 2 {
		t.Errorf("%d keyed candidates, want at least 2: %v", keyed, cands)
	}
	for _, m := range rows[0] {
		if m["verified"] == true {
			continue
		}
		for _, x := range m["candidates"].([]any) {
			if c := x.(map[string]any); c["key"] != nil || c["distance"] != nil {
				t.Errorf("estimate candidate %v carries a key or distance", c)
			}
		}
	}
}
