package fetch

import (
	"context"
	"errors"
	"hash/fnv"
	"net"
	"net/netip"
	"testing"

	"github.com/imagediet/imgdiet/internal/proto"
)

// hashResolver answers every name with addresses picked by a hash of the
// name from a table that mixes public and every kind of local address.
type hashResolver struct{}

var fuzzAnswers = []string{
	"93.184.216.34", "8.8.8.8", "2606:4700::1111", "127.0.0.1", "10.0.0.1", "169.254.169.254",
	"100.64.0.1", "0.0.0.0", "::1", "::ffff:127.0.0.1", "fe80::1", "fc00::1", "64:ff9b::a00:1",
	"2002:c0a8:101::1", "2001:0:4136:e378:8000:63bf:80ff:fffe", "224.0.0.1", "255.255.255.255",
}

func (hashResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	h := fnv.New32a()
	h.Write([]byte(host))
	n := h.Sum32()
	out := []net.IPAddr{{IP: net.ParseIP(fuzzAnswers[n%uint32(len(fuzzAnswers))])}}
	if n&0x100 != 0 {
		out = append(out, net.IPAddr{IP: net.ParseIP(fuzzAnswers[(n>>10)%uint32(len(fuzzAnswers))])})
	}
	return out, nil
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// localByStdlib is an oracle independent of ClassOf: the standard
// library's view of local addresses, applied to the address itself and to
// the IPv4 address in the embedding forms.
func localByStdlib(a netip.Addr) bool {
	check := func(a netip.Addr) bool {
		return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
			a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || !a.IsGlobalUnicast() ||
			cgnat.Contains(a)
	}
	a = a.WithZone("").Unmap()
	if check(a) {
		return true
	}
	if !a.Is6() {
		return false
	}
	b := a.As16()
	var embedded []netip.Addr
	switch {
	case sixToFour.Contains(a):
		embedded = append(embedded, v4At(b, 2))
	case nat64.Contains(a):
		embedded = append(embedded, v4At(b, 12))
	case teredo.Contains(a):
		embedded = append(embedded, v4At(b, 4), netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}))
	}
	for _, v4 := range embedded {
		if check(v4) {
			return true
		}
	}
	return false
}

// FuzzCheckURL feeds arbitrary strings to the URL and host checks. They
// must not panic; whatever they accept must survive a second check
// unchanged; and every address a public page would be allowed to dial for
// it must be public by ClassOf and by the standard library's predicates.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"http://example.com/a.png", "https://img.example:8443/x?y#z", "http://2130706433/", "http://0x7f.1/",
		"http://017700000001/", "http://127.1/", "http://[::ffff:127.0.0.1]/", "http://[64:ff9b::7f00:1]/",
		"http://[2002:7f00:1::]/", "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "http://0.0.0.0/",
		"http://169.254.169.254/", "http://100.64.0.1/", "http://localhost/", "http://a.localhost./",
		"http://user:pw@example.com/", "file:///etc/passwd", "javascript:alert(1)", "http://[fe80::1%25eth0]/",
		"http://0x/", "http://%31%32%37.0.0.1/", "HTTP://EXAMPLE.COM:80/", "http://1.2.3.4.5/", "http://[::]:0/",
		"http://8.8.8.8/", "http://[2606:4700::1111]/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := CheckURL(raw)
		if err != nil {
			var pe *proto.Error
			if !errors.As(err, &pe) || pe.Code != proto.CodeBadURL {
				t.Fatalf("CheckURL(%q): %v, want bad_url", raw, err)
			}
			return
		}
		again, err := CheckURL(u.String())
		if err != nil || again.String() != u.String() {
			t.Fatalf("CheckURL(%q) = %q, which checks again as %v, %v", raw, u, again, err)
		}
		port := u.Port()
		if port == "" {
			port = "80"
		}
		aps, err := resolve(context.Background(), hashResolver{}, PublicOnly, net.JoinHostPort(u.Hostname(), port))
		if err != nil {
			var pe *proto.Error
			if !errors.As(err, &pe) {
				t.Fatalf("resolve(%q): %v is not a contract error", u.Host, err)
			}
			return
		}
		for _, ap := range aps {
			if c := ClassOf(ap.Addr()); c != Public || localByStdlib(ap.Addr()) {
				t.Fatalf("public page may dial %v (class %v) for %q", ap, c, raw)
			}
		}
	})
}

// FuzzClassOf checks ClassOf against the standard library on arbitrary
// 4- and 16-byte addresses: nothing it calls public may be local.
func FuzzClassOf(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "8.8.8.8", "::ffff:10.0.0.1", "2002:a00:1::", "64:ff9b::7f00:1", "2606:4700::1111"} {
		f.Add(netip.MustParseAddr(s).AsSlice())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ip, ok := netip.AddrFromSlice(b)
		if !ok {
			if ClassOf(ip) != Invalid {
				t.Fatal("invalid address classified")
			}
			return
		}
		if c := ClassOf(ip); c == Public && localByStdlib(ip) {
			t.Fatalf("ClassOf(%v) = public, but it is local", ip)
		}
	})
}
