package adversarial

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const marker = "k7Qx9secretMarker"

// publicServer serves on pubA inside the namespace: /ok.png is an image,
// /to?u=X redirects to X, /hop/N?u=X redirects N times before that.
func publicServer(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", pubA+":0")
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Connection", "close")
		switch {
		case r.URL.Path == "/ok.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(tinyPNG())
		case r.URL.Path == "/to":
			http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/hop/"):
			var n int
			fmt.Sscanf(r.URL.Path, "/hop/%d", &n)
			next := "/to?u=" + url.QueryEscape(r.URL.Query().Get("u"))
			if n > 1 {
				next = fmt.Sprintf("/hop/%d?u=%s", n-1, url.QueryEscape(r.URL.Query().Get("u")))
			}
			http.Redirect(w, r, next, http.StatusMovedPermanently)
		default:
			http.NotFound(w, r)
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String(), &hits
}

type ssrfCase struct {
	url   string
	netns bool // reaches beyond loopback if the defence fails
}

// ssrfCases lists image URLs a public page names to reach local services.
// Every path and query carries the marker, to check the logs.
func ssrfCases(port int) []ssrfCase {
	p := fmt.Sprint(port)
	s := "/secret-" + marker + ".png?q=" + marker
	c := []ssrfCase{
		// Loopback in its many spellings.
		{"http://127.0.0.1:" + p + s, false},
		{"http://127.9.9.9:" + p + s, false},
		{"http://[::1]:" + p + s, false},
		{"http://localhost:" + p + s, false},
		{"http://LOCALHOST.:" + p + s, false},
		{"http://img.localhost:" + p + s, false},
		{"http://0.0.0.0:" + p + s, false},
		{"http://0:" + p + s, false},
		{"http://[::]:" + p + s, false},
		{"http://[::ffff:127.0.0.1]:" + p + s, false},
		{"http://[::ffff:7f00:1]:" + p + s, false},
		{"http://[0:0:0:0:0:ffff:127.0.0.1]:" + p + s, false},
		{"http://2130706433:" + p + s, false},
		{"http://0x7f000001:" + p + s, false},
		{"http://017700000001:" + p + s, false},
		{"http://0x7f.1:" + p + s, false},
		{"http://127.1:" + p + s, false},
		{"http://0177.0.0.1:" + p + s, false},
		{"http://0x7F.0.0.0x1:" + p + s, false},
		{"http://127.0.0.1.:" + p + s, false},
		{"https://127.0.0.1:" + p + s, false},
		// Spellings without a port (port 80 inside the namespace).
		{"http://2130706433" + s, true},
		{"http://0x7f000001" + s, true},
		{"http://017700000001" + s, true},
		{"http://0x7f.1" + s, true},
		{"http://127.1" + s, true},
		{"http://127.0.0.1" + s, true},
		{"http://[::1]" + s, true},
		// Private, link-local, CGNAT, multicast and broadcast.
		{"http://10.0.0.1:" + p + s, true},
		{"http://10.255.255.254:" + p + s, true},
		{"http://172.16.0.1:" + p + s, true},
		{"http://172.31.255.1:" + p + s, true},
		{"http://192.168.0.1:" + p + s, true},
		{"http://169.254.169.254/latest/meta-data/?q=" + marker, true},
		{"http://169.254.169.254:" + p + s, true},
		{"http://100.64.0.1:" + p + s, true},
		{"http://100.127.255.254:" + p + s, true},
		{"http://224.0.0.1:" + p + s, true},
		{"http://255.255.255.255:" + p + s, true},
		{"http://0xa000001:" + p + s, true},
		{"http://[::ffff:10.0.0.1]:" + p + s, true},
		{"http://[::ffff:a9fe:a9fe]:" + p + s, true},
		// IPv4 hidden in IPv6 forms, and IPv6 local ranges.
		{"http://[2002:7f00:1::]:" + p + s, true},
		{"http://[2002:a00:1::1]:" + p + s, true},
		{"http://[64:ff9b::7f00:1]:" + p + s, true},
		{"http://[64:ff9b::a9fe:a9fe]:" + p + s, true},
		{"http://[64:ff9b:1::a00:1]:" + p + s, true},
		{"http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:" + p + s, true},
		{"http://[::127.0.0.1]:" + p + s, true},
		{"http://[fc00::1]:" + p + s, true},
		{"http://[fd12:3456::1]:" + p + s, true},
		{"http://[fe80::1]:" + p + s, true},
		{"http://[fe80::1%25lo]:" + p + s, true},
		{"http://[fec0::1]:" + p + s, true},
		{"http://[ff02::1]:" + p + s, true},
		// Other schemes and tricks.
		{"file:///etc/passwd", false},
		{"file://localhost/etc/passwd", false},
		{"ftp://127.0.0.1:" + p + s, false},
		{"chrome://settings/", false},
		{"chrome-extension://" + extID + "/icons/icon.png", false},
		{"javascript:alert(1)", false},
		{"data:image/png;base64,iVBORw0KGgo=", false},
		{"blob:https://news.example/4f1b9a62-0d5e-4a5c-9d8a-8e0f9a0b1c2d", false},
		{"gopher://127.0.0.1:" + p + "/_" + marker, false},
		{"ws://127.0.0.1:" + p + s, false},
		{"view-source:http://127.0.0.1:" + p + s, false},
		{"about:blank", false},
		{"//127.0.0.1:" + p + s, false},
		{"/relative" + s, false},
		{"http://user:pw@127.0.0.1:" + p + s, false},
		{"http://news.example@127.0.0.1:" + p + s, false},
		{"http:127.0.0.1:" + p + s, false},
		{"http://127.0.0.1:" + p + "\\@news.example" + s, false},
		{"http://127.0.0.1%2f@news.example:" + p + s, false},
		{"http://%31%32%37.0.0.1:" + p + s, false},
		{"http://127.0.0.1:" + p + "#@news.example/" + marker, false},
		{"HTTP://127.0.0.1:" + p + s, false},
		{"http://[::1%25lo]:" + p + s, false},
	}
	return c
}

// TestSSRFMatrixThroughHost sends a public page's scan naming every local
// address form and scheme to the built host: each must be refused with
// blocked_address or bad_url, nothing may reach the listener behind those
// addresses, no log line may carry a path or query, and the host must keep
// serving.
func TestSSRFMatrixThroughHost(t *testing.T) {
	tr := newTrap(t)
	page := "https://" + pubA + "/article"
	var pubURL string
	var pubHits *atomic.Int64
	if inNetns {
		page = "https://news.example/article?from=" + marker
		pubURL, pubHits = publicServer(t)
	}
	var urls []string
	for _, c := range ssrfCases(tr.port) {
		if c.netns && !inNetns {
			continue
		}
		urls = append(urls, c.url)
	}
	// Redirect chains that start on a public server and end at a local one.
	var chains []string
	if inNetns {
		p := fmt.Sprint(tr.port)
		for _, target := range []string{
			"http://127.0.0.1:" + p + "/secret-" + marker,
			"http://[::1]:" + p + "/",
			"http://localhost:" + p + "/",
			"http://2130706433:" + p + "/",
			"http://[::ffff:127.0.0.1]:" + p + "/",
			"http://10.0.0.1:" + p + "/",
			"http://169.254.169.254/latest/meta-data/",
			"http://[64:ff9b::7f00:1]:" + p + "/",
			"file:///etc/passwd",
			"ftp://127.0.0.1:" + p + "/",
		} {
			chains = append(chains, pubURL+"/to?u="+url.QueryEscape(target))
			chains = append(chains, pubURL+"/hop/3?u="+url.QueryEscape(target))
		}
	}
	all := append(append([]string(nil), urls...), chains...)
	var images []map[string]any
	for _, u := range all {
		images = append(images, map[string]any{"url": u})
	}
	ok := -1
	if inNetns {
		ok = len(images)
		images = append(images, map[string]any{"url": pubURL + "/ok.png"})
	}

	h := startHost(t, "IMGDIET_LOG_LEVEL=debug")
	h.hello("h")
	start := time.Now()
	res := h.scan("ssrf", page, map[string]any{"formats": []string{"png"}, "minSavingsBytes": 0}, images, 60*time.Second)
	t.Logf("%d hostile URLs (%d redirect chains) answered in %v", len(all), len(chains), time.Since(start))
	for i, u := range all {
		r := res.finals[i]
		switch {
		case r == nil:
			t.Errorf("%s: no final result", u)
		case r.Status != "error" || r.Error == nil:
			t.Errorf("%s: status %s, want an error", u, r.Status)
		case r.Error.Code != "blocked_address" && r.Error.Code != "bad_url":
			t.Errorf("%s: error %s (%s), want blocked_address or bad_url", u, r.Error.Code, r.Error.Message)
		case strings.Contains(r.Error.Message, marker) || strings.Contains(r.Error.Message, "127.0.0.1"):
			t.Errorf("%s: message %q names the address", u, r.Error.Message)
		}
	}
	if ok >= 0 {
		// The control: the same scan reaches a public server, so the
		// refusals above are the policy, not a broken setup.
		if r := res.finals[ok]; r == nil || r.Status == "error" {
			t.Errorf("control image on the public server failed: %+v", r)
		}
		if n := pubHits.Load(); n < int64(len(chains)+1) {
			t.Errorf("public server saw %d requests, want at least %d (every chain starts there)", n, len(chains)+1)
		}
	}
	if n := tr.count(); n != 0 {
		t.Errorf("%d connections reached the local listener", n)
	}
	if s := h.stderr.String(); strings.Contains(s, marker) || strings.Contains(s, "/etc/passwd") {
		t.Errorf("host log names a path or query:\n%s", s)
	}

	// Control: a page on loopback may use loopback images, so the same
	// listener is reachable and counts.
	lp := fmt.Sprintf("http://127.0.0.1:%d/", tr.port)
	res = h.scan("control", lp, nil, []map[string]any{{"url": lp + "x.png"}}, 20*time.Second)
	if r := res.finals[0]; r == nil || r.Status == "error" {
		t.Errorf("control scan on a loopback page: %+v", r.Error)
	}
	if tr.count() == 0 {
		t.Error("the control fetch did not reach the listener: the trap cannot detect anything")
	}
	assertServing(t, h)
}
