package fetch

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/imagediet/imgdiet/internal/proto"
)

// Public messages for bad image addresses.
const (
	msgBadURL    = "The image address is not valid."
	msgBadScheme = "Only web addresses (http or https) can be fetched."
	msgUserinfo  = "The image address contains a user name or password, which is not allowed."
)

func badURL(msg string) *proto.Error { return proto.Errorf(proto.CodeBadURL, "%s", msg) }

// CheckURL parses raw as an absolute http or https URL the fetcher may
// request. It rejects other schemes, user names and passwords, empty,
// non-ASCII and malformed host names, and bad ports. A host that a browser
// reads as an IPv4 address (decimal, octal or hexadecimal parts such as
// "2130706433" or "0x7f.1") is rewritten to its dotted-quad form, so the
// address checked is the address a browser would use. Errors are
// *proto.Error with code bad_url.
func CheckURL(raw string) (*url.URL, error) {
	if raw == "" || len(raw) > 64<<10 {
		return nil, badURL(msgBadURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, proto.Wrap(proto.CodeBadURL, msgBadURL, err)
	}
	if err := checkParsed(u); err != nil {
		return nil, err
	}
	return u, nil
}

// checkParsed checks u as CheckURL does and normalizes its host in place.
func checkParsed(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return badURL(msgBadScheme)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.User != nil || strings.Contains(u.Host, "@") {
		return badURL(msgUserinfo)
	}
	if u.Opaque != "" || u.Host == "" {
		return badURL(msgBadURL)
	}
	h, err := parseHost(u.Hostname(), strings.HasPrefix(u.Host, "["))
	if err != nil {
		return err
	}
	hostport := h.name
	if h.ip.Is6() {
		hostport = "[" + h.ip.String() + "]"
	} else if h.ip.IsValid() {
		hostport = h.ip.String()
	}
	if port := u.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return badURL(msgBadURL)
		}
		hostport += ":" + strconv.Itoa(n)
	}
	u.Host = hostport
	return nil
}

// host is a parsed URL host: an IP address or a lower-case DNS name.
type host struct {
	ip   netip.Addr
	name string
}

// parseHost parses the host part of a URL the way a browser does. bracketed
// tells whether the URL wrote it inside [ ], which only IPv6 may use.
func parseHost(s string, bracketed bool) (host, error) {
	if bracketed {
		ip, err := netip.ParseAddr(s)
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return host{}, badURL(msgBadURL)
		}
		return host{ip: ip}, nil
	}
	if s == "" || len(s) > 253 {
		return host{}, badURL(msgBadURL)
	}
	s = strings.ToLower(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			// Covers non-ASCII names (browsers send them as punycode),
			// IPv6 without brackets, zones and anything odd.
			return host{}, badURL(msgBadURL)
		}
	}
	labels := strings.Split(strings.TrimSuffix(s, "."), ".")
	if endsInNumber(labels[len(labels)-1]) {
		ip, ok := parseIPv4(labels)
		if !ok {
			return host{}, badURL(msgBadURL)
		}
		return host{ip: ip}, nil
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return host{}, badURL(msgBadURL)
		}
	}
	return host{name: s}, nil
}

// isLocalhost reports whether name is localhost or a subdomain of it, which
// browsers always treat as loopback.
func isLocalhost(name string) bool {
	name = strings.TrimSuffix(name, ".")
	return name == "localhost" || strings.HasSuffix(name, ".localhost")
}

// endsInNumber reports whether a host's last label makes a browser parse
// the whole host as IPv4: all digits, or 0x followed by hex digits.
func endsInNumber(l string) bool {
	if l == "" {
		return false
	}
	if allIn(l, "0123456789") {
		return true
	}
	return len(l) >= 2 && l[0] == '0' && l[1] == 'x' && allIn(l[2:], "0123456789abcdef")
}

func allIn(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

// parseIPv4 parses one to four dot-separated numbers as the WHATWG URL
// standard does: each part decimal, octal (leading 0) or hexadecimal (0x);
// the last part fills the remaining bytes.
func parseIPv4(parts []string) (netip.Addr, bool) {
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		n, ok := parseIPv4Part(p)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			v = v<<8 | n
			continue
		}
		rest := uint(5-len(parts)) * 8
		if n >= 1<<rest {
			return netip.Addr{}, false
		}
		v = v<<rest | n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func parseIPv4Part(p string) (uint64, bool) {
	if p == "" {
		return 0, false
	}
	base := 10
	switch {
	case len(p) >= 2 && p[0] == '0' && p[1] == 'x':
		p, base = p[2:], 16
		if p == "" {
			return 0, true
		}
	case len(p) >= 2 && p[0] == '0':
		p, base = p[1:], 8
	}
	if len(p) > 32 {
		return 0, false
	}
	n, err := strconv.ParseUint(p, base, 64)
	if err != nil || n > 1<<32 {
		return 0, false
	}
	return n, true
}
