package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/imagediet/imgdiet/internal/proto"
)

// server is a real HTTP server on loopback that counts what reaches it.
type server struct {
	*httptest.Server
	conns atomic.Int64 // TCP connections accepted
	hits  atomic.Int64 // requests handled

	mu sync.Mutex
	h  http.HandlerFunc
}

// handle replaces the server's handler.
func (s *server) handle(h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.h = h
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{h: h}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		h := s.h
		s.mu.Unlock()
		h(w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// addr returns the server's listening address.
func (s *server) addr() string { return s.Listener.Addr().String() }

// port returns the server's port.
func (s *server) port() string {
	_, p, _ := net.SplitHostPort(s.addr())
	return p
}

// untouched fails the test if anything connected to s.
func (s *server) untouched(t *testing.T, what string) {
	t.Helper()
	if n, h := s.conns.Load(), s.hits.Load(); n != 0 || h != 0 {
		t.Errorf("%s: target reached: %d connections, %d requests", what, n, h)
	}
}

// fakeResolver answers from a table. A name with several answers gives
// them in turn, the last one repeating (DNS rebinding).
type fakeResolver struct {
	mu    sync.Mutex
	m     map[string][][]string
	calls map[string]int
}

func newResolver(m map[string][][]string) *fakeResolver {
	return &fakeResolver{m: m, calls: map[string]int{}}
}

func (r *fakeResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	answers, ok := r.m[host]
	n := r.calls[host]
	r.calls[host] = n + 1
	if !ok || len(answers) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	if n >= len(answers) {
		n = len(answers) - 1
	}
	var out []net.IPAddr
	for _, s := range answers[n] {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

func (r *fakeResolver) count(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[host]
}

// router is a dial hook. It runs only after the policy check passed on the
// real (often public) address, and then connects to a loopback test
// server instead: routes for the addresses a test calls public, and
// fallback for every other address, so that any address wrongly let
// through reaches fallback and is counted there.
type router struct {
	mu       sync.Mutex
	routes   map[netip.Addr]*server
	fallback *server
	dialed   []netip.AddrPort
}

func (rt *router) dial(ctx context.Context, network string, ap netip.AddrPort) (net.Conn, error) {
	rt.mu.Lock()
	rt.dialed = append(rt.dialed, ap)
	s, ok := rt.routes[ap.Addr().WithZone("")]
	if !ok {
		s = rt.fallback
	}
	rt.mu.Unlock()
	if s == nil {
		return nil, errors.New("no route")
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", s.addr())
}

// nonPublicDials returns the dialed addresses that are not public.
func (rt *router) nonPublicDials() []netip.AddrPort {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var bad []netip.AddrPort
	for _, ap := range rt.dialed {
		if ClassOf(ap.Addr()) != Public {
			bad = append(bad, ap)
		}
	}
	return bad
}

// logBuf returns a debug logger writing to a buffer.
func logBuf() (zerolog.Logger, *bytes.Buffer) {
	var b bytes.Buffer
	return zerolog.New(&syncWriter{w: &b}).Level(zerolog.DebugLevel), &b
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// wantCode checks that err is a *proto.Error with code and a plain public
// message (one sentence, no URL).
func wantCode(t *testing.T, what string, err error, code string) *proto.Error {
	t.Helper()
	var pe *proto.Error
	if !errors.As(err, &pe) {
		t.Errorf("%s: error %v (%T), want code %s", what, err, err, code)
		return nil
	}
	if pe.Code != code {
		t.Errorf("%s: code %s (%q, cause %v), want %s", what, pe.Code, pe.Message, pe.Err, code)
	}
	if pe.Message == "" || !strings.HasSuffix(pe.Message, ".") || strings.Contains(pe.Message, "://") ||
		strings.Contains(pe.Message, "127.0.0.1") || strings.Count(pe.Message, ". ") > 0 {
		t.Errorf("%s: message %q is not one plain sentence without an address", what, pe.Message)
	}
	return pe
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprint("unexpected error: ", err))
	}
	return v
}

// httptestTLS starts a real HTTPS server with HTTP/2 on loopback.
func httptestTLS(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.EnableHTTP2 = true
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}
