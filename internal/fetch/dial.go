package fetch

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"syscall"

	"github.com/imagediet/imgdiet/internal/proto"
)

// Resolver looks up the addresses of a host name. *net.Resolver satisfies it.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// dialFunc connects to an address that has already passed the policy check.
type dialFunc func(ctx context.Context, network string, ap netip.AddrPort) (net.Conn, error)

const (
	msgBlocked  = "The image is on a local or private network address that this page may not reach."
	msgNoHost   = "The image's server name could not be found."
	msgFetchErr = "The image could not be downloaded."
)

// blockedError is the cause carried by a blocked_address error, for logs.
type blockedError struct {
	class Class
}

func (e *blockedError) Error() string { return "address class " + e.class.String() + " not allowed" }

func blocked(c Class) *proto.Error {
	return proto.Wrap(proto.CodeBlockedAddress, msgBlocked, &blockedError{class: c})
}

// resolve returns the addresses to dial for hostport (as the HTTP
// transport passes it), after checking every one of them against allow. If
// any address is not allowed, none is returned: a name that resolves to a
// mix of public and local addresses is refused as a whole.
func resolve(ctx context.Context, r Resolver, allow Classes, hostport string) ([]netip.AddrPort, error) {
	hs, ps, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, proto.Wrap(proto.CodeBadURL, msgBadURL, err)
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || port == 0 {
		return nil, badURL(msgBadURL)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(hs); err == nil {
		if ip.Zone() != "" {
			return nil, badURL(msgBadURL)
		}
		ips = []netip.Addr{ip}
	} else {
		h, err := parseHost(hs, false)
		if err != nil {
			return nil, err
		}
		switch {
		case h.ip.IsValid():
			ips = []netip.Addr{h.ip}
		case isLocalhost(h.name):
			ips = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()}
		default:
			as, err := r.LookupIPAddr(ctx, h.name)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, proto.Wrap(proto.CodeFetchFailed, msgNoHost, err)
			}
			for _, a := range as {
				ip, ok := netip.AddrFromSlice(a.IP)
				if !ok {
					continue
				}
				ips = append(ips, ip.Unmap().WithZone(a.Zone))
			}
			if len(ips) == 0 {
				return nil, proto.Errorf(proto.CodeFetchFailed, "%s", msgNoHost)
			}
		}
	}
	out := make([]netip.AddrPort, 0, len(ips))
	for _, ip := range ips {
		if c := ClassOf(ip); !allow.Has(c) {
			return nil, blocked(c)
		}
		out = append(out, netip.AddrPortFrom(ip, uint16(port)))
	}
	return out, nil
}

// dialer dials through the policy check. One exists per set of allowed
// classes, with its own connection pool, so a connection opened for a
// local page is never reused for a public one.
type dialer struct {
	allow Classes
	res   Resolver
	dial  dialFunc
}

// DialContext resolves addr, refuses it unless every address is allowed,
// and connects to the checked addresses only, one after the other.
func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	aps, err := resolve(ctx, d.res, d.allow, addr)
	if err != nil {
		return nil, err
	}
	var first error
	for _, ap := range aps {
		c, err := d.dial(ctx, network, ap)
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		var pe *proto.Error
		if errors.As(err, &pe) || ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// netDial returns the real dial function. Its Control hook checks the
// address of the socket once more just before connect, so no connection
// to a refused class can be made through it whatever the caller did.
func netDial(allow Classes) dialFunc {
	nd := &net.Dialer{Control: control(allow)}
	return func(ctx context.Context, network string, ap netip.AddrPort) (net.Conn, error) {
		return nd.DialContext(ctx, network, ap.String())
	}
}

// control returns a net.Dialer Control function that refuses addresses
// outside allow.
func control(allow Classes) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return blocked(Invalid)
		}
		if c := ClassOf(ap.Addr()); !allow.Has(c) {
			return blocked(c)
		}
		return nil
	}
}
