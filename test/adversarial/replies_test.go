package adversarial

import (
	"strings"
	"testing"
	"time"
)

// TestEveryRequestGetsAnAnswer: requests whose reply would exceed the
// 1 MiB native-messaging cap (an id of 1.1 MB on hello, release, cancel,
// scan and an unknown type) each get a bad_message error naming "id"
// within 2 s, instead of a reply the helper drops while the extension
// waits; a scan with a normal id still runs to its done afterwards.
func TestEveryRequestGetsAnAnswer(t *testing.T) {
	t.Parallel()
	h := startHost(t)
	h.hello("h")
	long := strings.Repeat("x", 1100<<10)
	for _, req := range []map[string]any{
		{"type": "hello", "id": long, "protocol": 1},
		{"type": "release", "id": long, "all": true},
		{"type": "cancel", "id": long, "scan": "s"},
		{"type": "scan", "id": long, "page": map[string]any{"url": "https://news.example/"}, "images": []map[string]any{{"url": "blob:https://news.example/a", "data": tinyPNG()}}},
		{"type": long[:2000], "id": long},
	} {
		t0 := time.Now()
		h.send(req)
		m := h.recv(2 * time.Second)
		if m.Type != "error" || m.Error == nil || m.Error.Code != "bad_message" || !strings.Contains(m.Error.Message, `"id"`) {
			t.Errorf("%s with a 1.1 MB id: %.300s; want bad_message naming \"id\"", req["type"].(string)[:min(10, len(req["type"].(string)))], m.raw)
		}
		if d := time.Since(t0); d > 2*time.Second {
			t.Errorf("answered after %v", d)
		}
	}
	res := h.scan("s-after", "https://news.example/", nil, []map[string]any{{"url": "blob:https://news.example/a", "data": tinyPNG()}}, 30*time.Second)
	if res.done == nil || res.finals[0] == nil {
		t.Fatalf("scan after the oversized ids: %+v", res)
	}
	assertServing(t, h)
}
