// Package fetch downloads the images a web page names, safely: only http and
// https, no cookies or credentials, the page's origin as the only Referer,
// bounded size and time, and a check of every destination address at the
// moment a connection is dialled, so that a public page can never make the
// host reach loopback, private or other local addresses (directly, through
// redirects or through DNS rebinding).
package fetch

import (
	"net/netip"
	"strconv"
	"strings"
)

// Class is the kind of network an IP address belongs to.
type Class uint8

// Address classes. Everything but Public is local or not routable.
const (
	Invalid     Class = iota // not a valid address
	Public                   // globally routable unicast
	Loopback                 // 127.0.0.0/8, ::1
	Private                  // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10, local-use NAT64
	LinkLocal                // 169.254/16, fe80::/10
	CGNAT                    // shared address space 100.64/10
	Unspecified              // 0.0.0.0/8, ::
	Multicast                // 224/4, ff00::/8
	Broadcast                // 255.255.255.255
	Reserved                 // documentation, benchmarking, future use and other special ranges
	numClasses
)

var classNames = [...]string{
	Invalid:     "invalid",
	Public:      "public",
	Loopback:    "loopback",
	Private:     "private",
	LinkLocal:   "link-local",
	CGNAT:       "cgnat",
	Unspecified: "unspecified",
	Multicast:   "multicast",
	Broadcast:   "broadcast",
	Reserved:    "reserved",
}

// String returns a short lower-case name of c.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// Classes is a set of address classes.
type Classes uint16

// ClassSet returns the set holding cs.
func ClassSet(cs ...Class) Classes {
	var s Classes
	for _, c := range cs {
		s |= 1 << c
	}
	return s
}

// Has reports whether c is in s.
func (s Classes) Has(c Class) bool { return c < numClasses && s&(1<<c) != 0 }

// String lists the classes in s, joined by "+".
func (s Classes) String() string {
	var names []string
	for c := Class(0); c < numClasses; c++ {
		if s.Has(c) {
			names = append(names, c.String())
		}
	}
	return strings.Join(names, "+")
}

type rangeClass struct {
	p netip.Prefix
	c Class
}

// v4Ranges are the special IPv4 ranges; anything else is Public.
var v4Ranges = []rangeClass{
	{netip.MustParsePrefix("0.0.0.0/8"), Unspecified},
	{netip.MustParsePrefix("10.0.0.0/8"), Private},
	{netip.MustParsePrefix("100.64.0.0/10"), CGNAT},
	{netip.MustParsePrefix("127.0.0.0/8"), Loopback},
	{netip.MustParsePrefix("169.254.0.0/16"), LinkLocal},
	{netip.MustParsePrefix("172.16.0.0/12"), Private},
	{netip.MustParsePrefix("192.0.0.0/24"), Reserved},   // IETF protocol assignments
	{netip.MustParsePrefix("192.0.2.0/24"), Reserved},   // TEST-NET-1
	{netip.MustParsePrefix("192.88.99.0/24"), Reserved}, // former 6to4 relay anycast
	{netip.MustParsePrefix("192.168.0.0/16"), Private},
	{netip.MustParsePrefix("198.18.0.0/15"), Reserved},   // benchmarking
	{netip.MustParsePrefix("198.51.100.0/24"), Reserved}, // TEST-NET-2
	{netip.MustParsePrefix("203.0.113.0/24"), Reserved},  // TEST-NET-3
	{netip.MustParsePrefix("224.0.0.0/4"), Multicast},
	{netip.MustParsePrefix("255.255.255.255/32"), Broadcast}, // before 240/4
	{netip.MustParsePrefix("240.0.0.0/4"), Reserved},
}

// v6Ranges are the special IPv6 ranges that carry no IPv4 address. They are
// checked after the ranges that embed one.
var v6Ranges = []rangeClass{
	{netip.MustParsePrefix("::1/128"), Loopback},
	{netip.MustParsePrefix("ff00::/8"), Multicast},
	{netip.MustParsePrefix("fe80::/10"), LinkLocal},
	{netip.MustParsePrefix("fec0::/10"), Private},  // deprecated site-local
	{netip.MustParsePrefix("fc00::/7"), Private},   // unique local
	{netip.MustParsePrefix("100::/64"), Reserved},  // discard-only
	{netip.MustParsePrefix("2001::/23"), Reserved}, // IETF protocol assignments (Teredo handled before)
	{netip.MustParsePrefix("2001:db8::/32"), Reserved},
	{netip.MustParsePrefix("3fff::/20"), Reserved}, // documentation
	{netip.MustParsePrefix("5f00::/16"), Reserved}, // SRv6 SIDs
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	nat64Loc  = netip.MustParsePrefix("64:ff9b:1::/48")
	teredo    = netip.MustParsePrefix("2001::/32")
	sixToFour = netip.MustParsePrefix("2002::/16")
	global6   = netip.MustParsePrefix("2000::/3")
)

// ClassOf classifies ip. An IPv4 address hidden in an IPv6 form
// (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo, ISATAP) is unwrapped
// and classified by its IPv4 part whenever that part is not public. A zone
// is ignored.
func ClassOf(ip netip.Addr) Class {
	if !ip.IsValid() {
		return Invalid
	}
	ip = ip.WithZone("")
	if ip.Is4In6() {
		return classOf4(ip.Unmap())
	}
	if ip.Is4() {
		return classOf4(ip)
	}
	return classOf6(ip)
}

func classOf4(ip netip.Addr) Class {
	for _, r := range v4Ranges {
		if r.p.Contains(ip) {
			return r.c
		}
	}
	return Public
}

// v4At returns the IPv4 address in b[i:i+4].
func v4At(b [16]byte, i int) netip.Addr {
	return netip.AddrFrom4([4]byte{b[i], b[i+1], b[i+2], b[i+3]})
}

// worst returns the first non-public class of the embedded addresses, or
// Public when all are public.
func worst(as ...netip.Addr) Class {
	for _, a := range as {
		if c := classOf4(a); c != Public {
			return c
		}
	}
	return Public
}

func classOf6(ip netip.Addr) Class {
	b := ip.As16()
	if ip == netip.IPv6Unspecified() {
		return Unspecified
	}
	if ip == netip.IPv6Loopback() {
		return Loopback
	}
	// IPv4-compatible ::a.b.c.d (deprecated, never routed).
	if [12]byte(b[:12]) == [12]byte{} {
		if c := classOf4(v4At(b, 12)); c != Public {
			return c
		}
		return Reserved
	}
	switch {
	case nat64.Contains(ip):
		return classOf4(v4At(b, 12))
	case nat64Loc.Contains(ip):
		// RFC 6052 /48 layout puts the IPv4 address in bytes 6-7 and
		// 9-10; a /96 layout in the last four. Local use either way.
		// Zero parts are padding, not an embedded address.
		var as []netip.Addr
		if in48 := [4]byte{b[6], b[7], b[9], b[10]}; in48 != [4]byte{} {
			as = append(as, netip.AddrFrom4(in48))
		}
		if in96 := [4]byte(b[12:]); in96 != [4]byte{} {
			as = append(as, netip.AddrFrom4(in96))
		}
		if c := worst(as...); c != Public {
			return c
		}
		return Private
	case teredo.Contains(ip):
		// Server in bytes 4-7, client in bytes 12-15 with all bits flipped.
		client := netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
		return worst(client, v4At(b, 4))
	case sixToFour.Contains(ip):
		return classOf4(v4At(b, 2))
	}
	for _, r := range v6Ranges {
		if r.p.Contains(ip) {
			return r.c
		}
	}
	if !global6.Contains(ip) {
		return Reserved
	}
	// ISATAP interface identifier: 0000:5efe or 0200:5efe (u/g bits may vary)
	// followed by the IPv4 address.
	if b[8]&^0x03 == 0 && b[9] == 0 && b[10] == 0x5e && b[11] == 0xfe {
		if c := classOf4(v4At(b, 12)); c != Public {
			return c
		}
	}
	return Public
}
