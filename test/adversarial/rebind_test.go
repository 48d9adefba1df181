package adversarial

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/imagediet/imgdiet/internal/fetch"
)

// trapOn listens on addr:port for every addr and counts connections.
func trapOn(t *testing.T, port int, addrs ...string) *trap {
	t.Helper()
	tr := &trap{port: port}
	for _, a := range addrs {
		ln, err := net.Listen("tcp", net.JoinHostPort(a, fmt.Sprint(port)))
		if err != nil {
			t.Fatalf("listen %s: %v", a, err)
		}
		tr.lns = append(tr.lns, ln)
		go tr.serve(ln)
	}
	t.Cleanup(func() {
		for _, ln := range tr.lns {
			ln.Close()
		}
	})
	return tr
}

// TestDNSRebindingAndRedirectsInProcess drives the session layer with the
// real fetcher whose resolver an attacker controls: names that resolve to
// a public address first and a local one next, names with mixed answers,
// and redirects from a public server to such names. Every local
// destination must be refused when dialled, and nothing may reach it.
func TestDNSRebindingAndRedirectsInProcess(t *testing.T) {
	needNetns(t)
	pubBase, pubHits := publicServer(t)
	port := pubBase[strings.LastIndex(pubBase, ":")+1:]
	var p int
	fmt.Sscan(port, &p)
	tr := trapOn(t, p, "127.0.0.1", "::1", "10.0.0.1", "169.254.169.254")

	res := &flipResolver{asked: map[string]int{}, answers: map[string][]string{
		"news.example":    {pubB},
		"rebind.example":  {pubA, "127.0.0.1"},
		"rebind6.example": {pubA, "::ffff:127.0.0.1"},
		"rebindm.example": {pubA, "169.254.169.254"},
		"mixed.example":   {pubA + ",127.0.0.1"},
		"mixed2.example":  {"10.0.0.1," + pubA},
		"private.example": {"10.0.0.1"},
		"zero.example":    {"0.0.0.0"},
		"v6local.example": {"::1"},
		"stable.example":  {pubA},
	}}
	s := startSession(t, fetch.Config{Resolver: res, Timeout: 5 * time.Second}, 30*time.Second)
	s.hello("h")

	base := func(name string) string { return "http://" + name + ":" + port }
	to := func(from, target string) string { return base(from) + "/to?u=" + url.QueryEscape(target) }
	secret := "/secret-" + marker + ".png?q=" + marker
	blockedURLs := []string{
		// Rebinding: the first connection goes to the public server,
		// which redirects back to the same name; the next lookup is local.
		to("rebind.example", base("rebind.example")+secret),
		to("rebind6.example", base("rebind6.example")+secret),
		to("rebindm.example", base("rebindm.example")+secret),
		// A name with a public and a local address is refused as a whole.
		base("mixed.example") + secret,
		base("mixed2.example") + secret,
		// Names that are local outright.
		base("private.example") + secret,
		base("zero.example") + secret,
		base("v6local.example") + secret,
		// Redirect chains from a public server to local names and literals.
		to("stable.example", base("private.example")+secret),
		to("stable.example", base("v6local.example")+secret),
		to("stable.example", "http://127.0.0.1:"+port+secret),
		base("stable.example") + "/hop/4?u=" + url.QueryEscape("http://[::ffff:7f00:1]:"+port+secret),
		to("stable.example", "file:///etc/passwd"),
	}
	var images []map[string]any
	for _, u := range blockedURLs {
		images = append(images, map[string]any{"url": u})
	}
	images = append(images, map[string]any{"url": base("stable.example") + "/ok.png"})
	r := s.scan("rebind", "https://news.example/article", map[string]any{"formats": []string{"png"}}, images, 30*time.Second)
	for i, u := range blockedURLs {
		m := r.finals[i]
		if m == nil || m.Error == nil || (m.Error.Code != "blocked_address" && m.Error.Code != "bad_url") {
			t.Errorf("%s: %+v, want blocked_address", u, m)
		} else if strings.HasPrefix(u, base("rebind")) && m.Error.Code != "blocked_address" {
			t.Errorf("%s: %s, want blocked_address", u, m.Error.Code)
		}
	}
	if m := r.finals[len(blockedURLs)]; m == nil || m.Status == "error" {
		t.Errorf("control image from a stable public name failed: %+v", m)
	}
	for _, name := range []string{"rebind.example", "rebind6.example", "rebindm.example"} {
		if n := res.count(name); n < 2 {
			t.Errorf("%s was looked up %d times; the rebinding never happened", name, n)
		}
	}
	if pubHits.Load() < 7 {
		t.Errorf("the public server saw %d requests; the chains did not start there", pubHits.Load())
	}
	if n := tr.count(); n != 0 {
		t.Errorf("%d connections reached a local listener", n)
	}
	if log := s.stderr.String(); strings.Contains(log, marker) || strings.Contains(log, "/etc/passwd") {
		t.Errorf("the log names a path or query:\n%s", log)
	}
	s.hello("after")
}
