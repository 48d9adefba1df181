package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/imagediet/imgdiet/internal/proto"
)

var png = []byte("\x89PNG\r\n\x1a\n fake image bytes")

func imageHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/png")
	w.Write(png)
}

const publicPage = "https://example.com/articles/page.html?session=abc"

// publicWorld is a public page whose images live on public addresses that
// the router sends to loopback test servers, and a secret server standing
// for every local address.
type publicWorld struct {
	pub, pub2, secret *server
	res               *fakeResolver
	rt                *router
	f                 *Fetcher
	log               *strings.Builder
}

func newPublicWorld(t *testing.T, extra map[string][][]string) *publicWorld {
	t.Helper()
	w := &publicWorld{}
	w.secret = newServer(t, imageHandler)
	w.pub = newServer(t, imageHandler)
	w.pub2 = newServer(t, imageHandler)
	m := map[string][][]string{
		"example.com": {{"93.184.216.34"}},
		"img.example": {{"93.184.216.35"}},
		"cdn.example": {{"2606:2800:220:1::36"}},
	}
	for k, v := range extra {
		m[k] = v
	}
	w.res = newResolver(m)
	w.rt = &router{
		routes: map[netip.Addr]*server{
			netip.MustParseAddr("93.184.216.34"):       w.pub,
			netip.MustParseAddr("93.184.216.35"):       w.pub,
			netip.MustParseAddr("2606:2800:220:1::36"): w.pub2,
		},
		fallback: w.secret,
	}
	w.f = New(Config{Resolver: w.res, dial: w.rt.dial, Timeout: 5 * time.Second}, zerolog.Nop())
	t.Cleanup(w.f.Close)
	return w
}

func TestPublicPageAllowedPublic(t *testing.T) {
	w := newPublicWorld(t, nil)
	for _, img := range []string{"http://img.example/a.png", "http://cdn.example:8080/a.png", "http://93.184.216.35/a.png"} {
		resp, err := w.f.Fetch(context.Background(), publicPage, img)
		if err != nil {
			t.Fatalf("%s: %v", img, err)
		}
		if string(resp.Body) != string(png) || resp.ContentType != "image/png" || resp.FinalURL != img {
			t.Errorf("%s: got %q %q %q", img, resp.Body, resp.ContentType, resp.FinalURL)
		}
	}
	if got := w.pub.hits.Load() + w.pub2.hits.Load(); got != 3 {
		t.Errorf("public servers got %d requests, want 3", got)
	}
	w.secret.untouched(t, "public images")
	if bad := w.rt.nonPublicDials(); len(bad) != 0 {
		t.Errorf("dialled non-public addresses %v", bad)
	}
}

// blockedHosts are addresses of every refused class, as URL hosts.
var blockedHosts = []string{
	"127.0.0.1", "127.8.9.10", "[::1]", "localhost", "img.localhost", "LOCALHOST.",
	"2130706433", "0x7f.1", "017700000001", "0x7f000001", "127.1", "0177.0.0.1", "127.0.0.1.",
	"[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]", "[64:ff9b::7f00:1]", "[64:ff9b:1::7f00:1]",
	"[2002:7f00:1::]", "[2001:0:4136:e378:8000:63bf:80ff:fffe]", "[2001:4860:1::5efe:7f00:1]",
	"0.0.0.0", "0", "[::]", "169.254.169.254", "2852039166", "[fe80::1]", "[::ffff:169.254.169.254]",
	"100.64.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "[fc00::1]", "[fd00::1]",
	"224.0.0.1", "[ff02::1]", "255.255.255.255", "192.0.2.1", "240.0.0.1", "[2001:db8::1]",
}

// blockedIPs are addresses of every refused class, as DNS answers.
var blockedIPs = []string{
	"127.0.0.1", "::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::", "2001:0:4136:e378:8000:63bf:80ff:fffe",
	"0.0.0.0", "::", "169.254.169.254", "fe80::1", "100.64.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1",
	"fc00::1", "224.0.0.1", "ff02::1", "255.255.255.255", "192.0.2.1",
}

func TestPublicPageBlockedDirect(t *testing.T) {
	w := newPublicWorld(t, nil)
	for _, h := range blockedHosts {
		img := "http://" + h + ":" + w.secret.port() + "/secret.png?token=abc"
		resp, err := w.f.Fetch(context.Background(), publicPage, img)
		if err == nil {
			t.Errorf("%s: fetched %d bytes", img, len(resp.Body))
			continue
		}
		wantCode(t, img, err, proto.CodeBlockedAddress)
	}
	w.secret.untouched(t, "blocked hosts")
	if bad := w.rt.nonPublicDials(); len(bad) != 0 {
		t.Errorf("dialled non-public addresses %v", bad)
	}
}

func TestPublicPageBlockedByName(t *testing.T) {
	m := map[string][][]string{"mixed.example": {{"93.184.216.35", "10.0.0.1"}}}
	for i, ip := range blockedIPs {
		m["n"+strconv.Itoa(i)+".example"] = [][]string{{ip}}
	}
	w := newPublicWorld(t, m)
	for name := range m {
		img := "http://" + name + "/secret.png"
		if _, err := w.f.Fetch(context.Background(), publicPage, img); err == nil {
			t.Errorf("%s (%v) fetched", name, m[name])
		} else {
			wantCode(t, name, err, proto.CodeBlockedAddress)
		}
	}
	w.secret.untouched(t, "names of local addresses")
	w.pub.untouched(t, "mixed answer") // refused as a whole, not even the public address
	if bad := w.rt.nonPublicDials(); len(bad) != 0 {
		t.Errorf("dialled non-public addresses %v", bad)
	}
}

func TestPublicPageBlockedRedirect(t *testing.T) {
	var mu sync.Mutex
	var next string
	w := newPublicWorld(t, map[string][][]string{"internal.example": {{"10.0.0.5"}}})
	// img.example redirects to cdn.example, which redirects to the target.
	w.pub.handle(func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, "http://cdn.example/hop2", http.StatusFound)
	})
	w.pub2.handle(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		http.Redirect(rw, r, next, http.StatusMovedPermanently)
	})
	p := w.secret.port()
	targets := []string{
		"http://127.0.0.1:" + p + "/secret",
		"http://localhost:" + p + "/secret",
		"http://2130706433:" + p + "/secret",
		"http://0x7f.1:" + p + "/secret",
		"http://[::ffff:7f00:1]:" + p + "/secret",
		"http://[64:ff9b::7f00:1]:" + p + "/secret",
		"http://169.254.169.254/latest/meta-data/",
		"http://internal.example/secret",
	}
	for i, target := range targets {
		mu.Lock()
		next = target
		mu.Unlock()
		_, err := w.f.Fetch(context.Background(), publicPage, "http://img.example/hop1")
		wantCode(t, target, err, proto.CodeBlockedAddress)
		if got := w.pub2.hits.Load(); got != int64(i+1) {
			t.Errorf("%s: redirect chain not followed (%d hits on the second hop)", target, got)
		}
	}
	w.secret.untouched(t, "redirects to local addresses")
	if bad := w.rt.nonPublicDials(); len(bad) != 0 {
		t.Errorf("dialled non-public addresses %v", bad)
	}
}

func TestPublicPageRebinding(t *testing.T) {
	// rebind.example answers a public address first and loopback after.
	w := newPublicWorld(t, map[string][][]string{
		"rebind.example":  {{"93.184.216.35"}, {"127.0.0.1"}},
		"rebind2.example": {{"93.184.216.35"}, {"10.1.1.1"}},
	})
	w.pub.handle(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Connection", "close") // force a new dial, hence a new lookup
		if r.URL.Path == "/first" {
			http.Redirect(rw, r, "/second", http.StatusFound)
			return
		}
		imageHandler(rw, r)
	})
	// In one fetch: the redirect back to the same name dials again.
	_, err := w.f.Fetch(context.Background(), publicPage, "http://rebind.example/first")
	wantCode(t, "rebinding within one fetch", err, proto.CodeBlockedAddress)
	if n := w.res.count("rebind.example"); n != 2 {
		t.Errorf("rebind.example looked up %d times, want 2", n)
	}
	// Across fetches: the first succeeds on the public address, the second is refused.
	if _, err := w.f.Fetch(context.Background(), publicPage, "http://rebind2.example/img"); err != nil {
		t.Fatalf("first fetch: %v", err)
	}
	_, err = w.f.Fetch(context.Background(), publicPage, "http://rebind2.example/img")
	wantCode(t, "rebinding across fetches", err, proto.CodeBlockedAddress)
	if got := w.pub.hits.Load(); got != 2 {
		t.Errorf("public server got %d requests, want 2", got)
	}
	w.secret.untouched(t, "rebinding")
	if bad := w.rt.nonPublicDials(); len(bad) != 0 {
		t.Errorf("dialled non-public addresses %v", bad)
	}
}

func TestLoopbackPage(t *testing.T) {
	srv := newServer(t, imageHandler)
	p := srv.port()
	f := New(Config{}, zerolog.Nop())
	defer f.Close()
	pages := []string{
		srv.URL + "/page.html?q=1",
		"http://localhost:" + p + "/",
		"http://[::1]:9/",
		"http://app.localhost/",
	}
	imgs := []string{
		srv.URL + "/a.png",
		"http://localhost:" + p + "/a.png",
		"http://2130706433:" + p + "/a.png",
		"http://0x7f.1:" + p + "/a.png",
		"http://017700000001:" + p + "/a.png",
		"http://127.1:" + p + "/a.png",
	}
	for _, page := range pages {
		if got := f.Policy(context.Background(), page); got != ClassSet(Public, Loopback) {
			t.Errorf("Policy(%s) = %v", page, got)
		}
		for _, img := range imgs {
			resp, err := f.Fetch(context.Background(), page, img)
			if err != nil {
				t.Errorf("page %s, image %s: %v", page, img, err)
				continue
			}
			if string(resp.Body) != string(png) {
				t.Errorf("page %s, image %s: body %q", page, img, resp.Body)
			}
		}
	}
	if got := srv.hits.Load(); got != int64(len(pages)*len(imgs)) {
		t.Errorf("server got %d requests, want %d", got, len(pages)*len(imgs))
	}
}

func TestLocalPageMayNotReachOtherLocalKinds(t *testing.T) {
	secret := newServer(t, imageHandler)
	lan := newServer(t, imageHandler)
	res := newResolver(map[string][][]string{
		"nas.lan":     {{"192.168.1.10"}},
		"printer.lan": {{"192.168.1.20"}},
		"both.lan":    {{"192.168.1.10", "8.8.8.8"}},
	})
	rt := &router{routes: map[netip.Addr]*server{netip.MustParseAddr("192.168.1.20"): lan}, fallback: secret}
	f := New(Config{Resolver: res, dial: rt.dial}, zerolog.Nop())
	defer f.Close()

	// A page on a private address may use private and public images, not loopback.
	if got := f.Policy(context.Background(), "http://nas.lan/"); got != ClassSet(Public, Private) {
		t.Errorf("Policy(nas.lan) = %v", got)
	}
	if _, err := f.Fetch(context.Background(), "http://nas.lan/", "http://printer.lan/a.png"); err != nil {
		t.Errorf("private page, private image: %v", err)
	}
	for _, img := range []string{"http://127.0.0.1:" + secret.port() + "/", "http://169.254.169.254/", "http://100.64.0.1/"} {
		_, err := f.Fetch(context.Background(), "http://nas.lan/", img)
		wantCode(t, "private page, "+img, err, proto.CodeBlockedAddress)
	}
	// A loopback page may not reach private addresses.
	_, err := f.Fetch(context.Background(), "http://127.0.0.1:8080/", "http://printer.lan/a.png")
	wantCode(t, "loopback page, private image", err, proto.CodeBlockedAddress)
	secret.untouched(t, "other local kinds")

	// Pages counted as public: mixed answers, failed lookups, other schemes.
	for _, page := range []string{"http://both.lan/", "http://unknown.lan/", "file:///home/me/p.html", "", "http://0.0.0.0:8000/", "http://224.0.0.1/"} {
		if got := f.Policy(context.Background(), page); got != PublicOnly {
			t.Errorf("Policy(%q) = %v, want public", page, got)
		}
	}
	if got := lan.hits.Load(); got != 1 {
		t.Errorf("lan server got %d requests, want 1", got)
	}
}

func TestPoolNotSharedAcrossPolicies(t *testing.T) {
	// A connection a loopback page opened must not serve a public page.
	srv := newServer(t, imageHandler)
	res := newResolver(map[string][][]string{"dev.example": {{"127.0.0.1"}}})
	f := New(Config{Resolver: res}, zerolog.Nop())
	defer f.Close()
	img := "http://dev.example:" + srv.port() + "/a.png"
	if _, err := f.Fetch(context.Background(), srv.URL+"/", img); err != nil {
		t.Fatalf("loopback page: %v", err)
	}
	_, err := f.Fetch(context.Background(), publicPage, img)
	wantCode(t, "public page after loopback page", err, proto.CodeBlockedAddress)
	if got := srv.hits.Load(); got != 1 {
		t.Errorf("server got %d requests, want 1", got)
	}
}

func TestRedirectLimit(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
		if n > 0 {
			http.Redirect(w, r, "/r/"+strconv.Itoa(n-1), http.StatusFound)
			return
		}
		imageHandler(w, r)
	})
	tests := []struct {
		max, hops int
		ok        bool
	}{
		{0, 5, true}, // default 5
		{0, 6, false},
		{2, 2, true},
		{2, 3, false},
		{-1, 0, true},
		{-1, 1, false},
	}
	for _, tt := range tests {
		f := New(Config{MaxRedirects: tt.max}, zerolog.Nop())
		resp, err := f.Fetch(context.Background(), srv.URL, srv.URL+"/r/"+strconv.Itoa(tt.hops))
		what := fmt.Sprintf("max %d, %d hops", tt.max, tt.hops)
		if tt.ok {
			if err != nil {
				t.Errorf("%s: %v", what, err)
			} else if resp.FinalURL != srv.URL+"/r/0" {
				t.Errorf("%s: final URL %s", what, resp.FinalURL)
			}
		} else {
			pe := wantCode(t, what, err, proto.CodeFetchFailed)
			if pe != nil && !strings.Contains(pe.Message, "redirect") {
				t.Errorf("%s: message %q", what, pe.Message)
			}
		}
		f.Close()
	}
}

func TestRedirectBadScheme(t *testing.T) {
	var mu sync.Mutex
	var next string
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Location", next)
		w.WriteHeader(http.StatusFound)
	})
	f := New(Config{}, zerolog.Nop())
	defer f.Close()
	for _, loc := range []string{"file:///etc/passwd", "ftp://127.0.0.1/x", "javascript:alert(1)", "data:image/png;base64,AAAA",
		"http://user:pw@127.0.0.1:" + srv.port() + "/", "gopher://127.0.0.1:" + srv.port() + "/"} {
		mu.Lock()
		next = loc
		mu.Unlock()
		_, err := f.Fetch(context.Background(), srv.URL, srv.URL+"/start")
		wantCode(t, loc, err, proto.CodeBadURL)
	}
}

func TestRequestHeaders(t *testing.T) {
	type seen struct{ path, referer, cookie, auth, ua, accept, enc string }
	var mu sync.Mutex
	var got []seen
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, seen{r.URL.Path, r.Header.Get("Referer"), r.Header.Get("Cookie"), r.Header.Get("Authorization"),
			r.Header.Get("User-Agent"), r.Header.Get("Accept"), r.Header.Get("Accept-Encoding")})
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "tracking", Path: "/"})
		if r.URL.Path == "/hop" {
			http.Redirect(w, r, "/img.png", http.StatusFound)
			return
		}
		imageHandler(w, r)
	})
	f := New(Config{}, zerolog.Nop())
	defer f.Close()
	page := srv.URL + "/dir/page.html?token=secret#frag"
	for i := 0; i < 2; i++ {
		if _, err := f.Fetch(context.Background(), page, srv.URL+"/hop?q=1"); err != nil {
			t.Fatal(err)
		}
	}
	// An https page with an http image sends no Referer, as browsers do.
	if _, err := f.Fetch(context.Background(), "https://127.0.0.1:"+srv.port()+"/p", srv.URL+"/hop"); err != nil {
		t.Fatal(err)
	}
	origin := srv.URL + "/"
	if len(got) != 6 {
		t.Fatalf("server saw %d requests, want 6", len(got))
	}
	for i, s := range got {
		wantRef := origin
		if i >= 4 {
			wantRef = ""
		}
		if s.referer != wantRef {
			t.Errorf("request %d (%s): Referer %q, want %q", i, s.path, s.referer, wantRef)
		}
		if s.cookie != "" || s.auth != "" {
			t.Errorf("request %d (%s): Cookie %q, Authorization %q", i, s.path, s.cookie, s.auth)
		}
		if s.ua != DefaultUserAgent || s.accept != Accept || s.enc != "" {
			t.Errorf("request %d (%s): User-Agent %q, Accept %q, Accept-Encoding %q", i, s.path, s.ua, s.accept, s.enc)
		}
	}
}

func TestSizeLimit(t *testing.T) {
	const max = 1000
	release := make(chan struct{})
	defer close(release)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		fl := w.(http.Flusher)
		switch r.URL.Path {
		case "/declared":
			// Declares too much, sends the headers, then stalls: only an
			// early refusal on Content-Length ends this before the timeout.
			w.Header().Set("Content-Length", "10000000")
			w.WriteHeader(http.StatusOK)
			fl.Flush()
			select {
			case <-r.Context().Done():
			case <-release:
			}
		case "/exact-length":
			w.Header().Set("Content-Length", strconv.Itoa(max))
			w.Write(make([]byte, max))
		default: // chunked: /chunked/<n>
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/chunked/"))
			for sent := 0; sent < n; sent += 100 {
				if _, err := w.Write(make([]byte, min(100, n-sent))); err != nil {
					return
				}
				fl.Flush()
			}
		}
	})
	f := New(Config{MaxBytes: max, Timeout: 5 * time.Second}, zerolog.Nop())
	defer f.Close()
	tests := []struct {
		path string
		want int // body length, -1 for too_large
	}{
		{"/declared", -1},
		{"/exact-length", max},
		{"/chunked/1000", max},
		{"/chunked/1001", -1},
		{"/chunked/50000", -1},
	}
	for _, tt := range tests {
		start := time.Now()
		resp, err := f.Fetch(context.Background(), srv.URL, srv.URL+tt.path)
		if tt.want < 0 {
			pe := wantCode(t, tt.path, err, proto.CodeTooLarge)
			if pe != nil && !strings.Contains(pe.Message, "1000-byte") {
				t.Errorf("%s: message %q", tt.path, pe.Message)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s: took %v", tt.path, d)
			}
			continue
		}
		if err != nil || len(resp.Body) != tt.want {
			t.Errorf("%s: %v, want %d bytes", tt.path, err, tt.want)
		}
	}
	if got := DefaultConfig().MaxBytes; got != 33554432 {
		t.Errorf("default MaxBytes %d", got)
	}
	e := New(Config{}, zerolog.Nop()).tooLarge()
	if e.Message != "The image is larger than the 32 MiB download limit." {
		t.Errorf("default too_large message %q", e.Message)
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/trickle": // one byte every 20 ms, forever
			w.Header().Set("Content-Type", "image/png")
			for {
				if _, err := w.Write([]byte{0}); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		case "/stall": // never answers
			<-r.Context().Done()
		}
	})
	f := New(Config{Timeout: 300 * time.Millisecond}, zerolog.Nop())
	defer f.Close()
	for _, path := range []string{"/trickle", "/stall"} {
		start := time.Now()
		_, err := f.Fetch(context.Background(), srv.URL, srv.URL+path)
		wantCode(t, path, err, proto.CodeTimeout)
		if d := time.Since(start); d < 250*time.Millisecond || d > 3*time.Second {
			t.Errorf("%s: ended after %v, want about 300ms", path, d)
		}
	}

	// The caller's own deadline also reads as a timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err := New(Config{}, zerolog.Nop()).Fetch(ctx, srv.URL, srv.URL+"/stall")
	cancel()
	wantCode(t, "caller deadline", err, proto.CodeTimeout)

	// Canceled by the caller, before and during the fetch.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, err = f.Fetch(ctx, srv.URL, srv.URL+"/stall")
	wantCode(t, "canceled before", err, proto.CodeCanceled)
	for _, path := range []string{"/stall", "/trickle"} {
		ctx, cancel = context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err = f.Fetch(ctx, srv.URL, srv.URL+path)
		wantCode(t, "canceled during "+path, err, proto.CodeCanceled)
	}
}

func TestHTTPStatus(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		w.WriteHeader(code)
		fmt.Fprint(w, "error page body")
	})
	f := New(Config{}, zerolog.Nop())
	defer f.Close()
	for _, code := range []int{404, 500, 403, 410, 503, 301, 302, 304, 418} {
		_, err := f.Fetch(context.Background(), srv.URL, srv.URL+"/"+strconv.Itoa(code))
		pe := wantCode(t, strconv.Itoa(code), err, proto.CodeHTTPStatus)
		if pe == nil {
			continue
		}
		if pe.HTTPStatus != code || pe.Message != fmt.Sprintf("The server answered %d.", code) {
			t.Errorf("%d: status %d, message %q", code, pe.HTTPStatus, pe.Message)
		}
	}
	// 2xx other than 200 are fine.
	if _, err := f.Fetch(context.Background(), srv.URL, srv.URL+"/203"); err != nil {
		t.Errorf("203: %v", err)
	}
}

func TestBadURLs(t *testing.T) {
	srv := newServer(t, imageHandler)
	f := New(Config{}, zerolog.Nop())
	defer f.Close()
	for _, img := range []string{
		"file:///etc/passwd", "ftp://127.0.0.1/a.png", "chrome://settings", "javascript:alert(1)",
		"data:image/png;base64,", "about:blank", "", "a.png", "//127.0.0.1/a.png",
		"http://user:pass@127.0.0.1:" + srv.port() + "/a.png", "http://user@localhost:" + srv.port() + "/a.png",
		"http://1.2.3.4.5/", "http://[127.0.0.1]/", "http://bücher.example/",
	} {
		_, err := f.Fetch(context.Background(), srv.URL, img)
		wantCode(t, img, err, proto.CodeBadURL)
	}
	srv.untouched(t, "bad URLs")
}

func TestUnknownHost(t *testing.T) {
	f := New(Config{Resolver: newResolver(nil)}, zerolog.Nop())
	_, err := f.Fetch(context.Background(), publicPage, "http://nowhere.example/a.png")
	wantCode(t, "unknown host", err, proto.CodeFetchFailed)
}

func TestHTTPS2(t *testing.T) {
	var proto2 bool
	var mu sync.Mutex
	srv := httptestTLS(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proto2 = r.ProtoMajor == 2
		mu.Unlock()
		imageHandler(w, r)
	})
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	f := New(Config{tlsConfig: &tls.Config{RootCAs: pool}}, zerolog.Nop())
	defer f.Close()
	resp, err := f.Fetch(context.Background(), srv.URL+"/page", srv.URL+"/a.png")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if string(resp.Body) != string(png) || !proto2 {
		t.Errorf("body %q, HTTP/2 %v", resp.Body, proto2)
	}
}

func TestNoProxy(t *testing.T) {
	proxy := newServer(t, imageHandler)
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("NO_PROXY", "")
	w := newPublicWorld(t, nil)
	if _, err := w.f.Fetch(context.Background(), publicPage, "http://img.example/a.png"); err != nil {
		t.Fatal(err)
	}
	proxy.untouched(t, "proxy from environment")
	if w.f.transport(PublicOnly).Proxy != nil {
		t.Error("transport uses a proxy")
	}
}

func TestLogsNameHostOnly(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) })
	log, buf := logBuf()
	f := New(Config{}, log)
	defer f.Close()
	f.Fetch(context.Background(), publicPage, "http://127.0.0.1:"+srv.port()+"/private/path.png?token=s3cret")
	f.Fetch(context.Background(), srv.URL, srv.URL+"/private/path.png?token=s3cret")
	out := buf.String()
	if !strings.Contains(out, `"host":"127.0.0.1"`) || !strings.Contains(out, "blocked_address") || !strings.Contains(out, "http_status") {
		t.Errorf("log lacks host or codes: %s", out)
	}
	for _, bad := range []string{"private/path", "s3cret", "articles", "session"} {
		if strings.Contains(out, bad) {
			t.Errorf("log contains %q: %s", bad, out)
		}
	}
}

func TestControlRefusesBeforeConnect(t *testing.T) {
	// Even called directly, past the resolver check, the real dialer
	// refuses a local address before the socket connects.
	srv := newServer(t, imageHandler)
	ap := netip.MustParseAddrPort(srv.addr())
	_, err := netDial(PublicOnly)(context.Background(), "tcp", ap)
	wantCode(t, "netDial loopback", err, proto.CodeBlockedAddress)
	srv.untouched(t, "netDial")
	c, err := netDial(ClassSet(Public, Loopback))(context.Background(), "tcp", ap)
	if err != nil {
		t.Fatalf("allowed dial: %v", err)
	}
	c.Close()

	ctl := control(PublicOnly)
	for addr, ok := range map[string]bool{
		"8.8.8.8:80": true, "[2606:4700::1111]:443": true,
		"127.0.0.1:80": false, "[::ffff:127.0.0.1]:80": false, "[fe80::1%eth0]:80": false, "garbage": false,
	} {
		if err := ctl("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("control(%s) = %v", addr, err)
		}
	}
}
