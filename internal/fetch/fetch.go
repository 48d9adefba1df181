package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/imagediet/imgdiet/internal/proto"
)

// Defaults of Config.
const (
	DefaultMaxBytes        = 32 << 20
	DefaultTimeout         = 15 * time.Second
	DefaultMaxRedirects    = 5
	DefaultUserAgent       = "ImageDiet/0.1 (+local optimizer)"
	DefaultMaxConnsPerHost = 6

	// Accept is the Accept header sent with every image request.
	Accept = "image/avif,image/webp,image/*,*/*;q=0.8"

	pageLookupTimeout = 2 * time.Second
	policyTTL         = 30 * time.Second
	policyCacheSize   = 256
	maxHeaderBytes    = 64 << 10
)

// Config configures a Fetcher. Zero fields take the defaults.
type Config struct {
	MaxBytes        int64         // most bytes of one image body (default 32 MiB)
	Timeout         time.Duration // whole fetch of one image, redirects included (default 15 s)
	MaxRedirects    int           // most redirects followed (default 5); negative means none
	UserAgent       string        // User-Agent header (default DefaultUserAgent)
	Resolver        Resolver      // host name lookups (default net.DefaultResolver)
	MaxConnsPerHost int           // connections per host and policy (default 6)

	// Test hooks. dial replaces the real connect, after the policy check;
	// tlsConfig replaces the default TLS configuration.
	dial      dialFunc
	tlsConfig *tls.Config
}

// DefaultConfig returns the default configuration.
func DefaultConfig() Config {
	return Config{
		MaxBytes:        DefaultMaxBytes,
		Timeout:         DefaultTimeout,
		MaxRedirects:    DefaultMaxRedirects,
		UserAgent:       DefaultUserAgent,
		Resolver:        net.DefaultResolver,
		MaxConnsPerHost: DefaultMaxConnsPerHost,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxBytes <= 0 {
		c.MaxBytes = d.MaxBytes
	}
	if c.Timeout <= 0 {
		c.Timeout = d.Timeout
	}
	if c.MaxRedirects == 0 {
		c.MaxRedirects = d.MaxRedirects
	} else if c.MaxRedirects < 0 {
		c.MaxRedirects = 0
	}
	if c.UserAgent == "" {
		c.UserAgent = d.UserAgent
	}
	if c.Resolver == nil {
		c.Resolver = d.Resolver
	}
	if c.MaxConnsPerHost <= 0 {
		c.MaxConnsPerHost = d.MaxConnsPerHost
	}
	return c
}

// Response is a downloaded image.
type Response struct {
	Body        []byte
	ContentType string // Content-Type header as the server sent it
	FinalURL    string // URL after redirects
}

// Fetcher downloads images under the fetching rules of the wire contract.
// It is safe for concurrent use.
type Fetcher struct {
	cfg Config
	log zerolog.Logger

	mu         sync.Mutex
	transports map[Classes]*http.Transport
	policies   map[string]policyEntry
}

type policyEntry struct {
	allow   Classes
	expires time.Time
}

// New returns a Fetcher; zero fields of cfg take their defaults.
func New(cfg Config, log zerolog.Logger) *Fetcher {
	return &Fetcher{
		cfg:        cfg.withDefaults(),
		log:        log,
		transports: make(map[Classes]*http.Transport),
		policies:   make(map[string]policyEntry),
	}
}

// Close closes idle connections. The Fetcher stays usable.
func (f *Fetcher) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.transports {
		t.CloseIdleConnections()
	}
}

// PublicOnly is the policy of a public page.
var PublicOnly = ClassSet(Public)

// grantable are the classes a page on such an address may also reach.
var grantable = ClassSet(Loopback, Private, LinkLocal, CGNAT)

// Policy returns the address classes a page at pageURL may reach: Public
// always, plus the page's own class when the page is on a loopback,
// private, link-local or CGNAT address. The page's class comes from an IP
// literal, from "localhost" and its subdomains (loopback), or else from
// looking up its host name (at most 2 s; a failed lookup, a name with
// addresses of several classes, or a page that is not http or https
// counts as public).
func (f *Fetcher) Policy(ctx context.Context, pageURL string) Classes {
	u, err := url.Parse(pageURL)
	if err != nil || checkParsed(u) != nil {
		return PublicOnly
	}
	h, err := parseHost(u.Hostname(), strings.HasPrefix(u.Host, "["))
	if err != nil {
		return PublicOnly
	}
	switch {
	case h.ip.IsValid():
		return grant(ClassOf(h.ip))
	case isLocalhost(h.name):
		return grant(Loopback)
	}
	now := time.Now()
	f.mu.Lock()
	e, ok := f.policies[h.name]
	f.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.allow
	}
	allow := f.lookupPolicy(ctx, h.name)
	f.mu.Lock()
	if len(f.policies) >= policyCacheSize {
		clear(f.policies)
	}
	f.policies[h.name] = policyEntry{allow: allow, expires: now.Add(policyTTL)}
	f.mu.Unlock()
	return allow
}

func (f *Fetcher) lookupPolicy(ctx context.Context, name string) Classes {
	ctx, cancel := context.WithTimeout(ctx, pageLookupTimeout)
	defer cancel()
	as, err := f.cfg.Resolver.LookupIPAddr(ctx, name)
	if err != nil || len(as) == 0 {
		return PublicOnly
	}
	class := Invalid
	for i, a := range as {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			return PublicOnly
		}
		c := ClassOf(ip)
		if i > 0 && c != class {
			return PublicOnly
		}
		class = c
	}
	return grant(class)
}

func grant(c Class) Classes {
	if grantable.Has(c) {
		return PublicOnly | ClassSet(c)
	}
	return PublicOnly
}

// transport returns the shared transport for one policy.
func (f *Fetcher) transport(allow Classes) *http.Transport {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.transports[allow]; ok {
		return t
	}
	dial := f.cfg.dial
	if dial == nil {
		dial = netDial(allow)
	}
	d := &dialer{allow: allow, res: f.cfg.Resolver, dial: dial}
	t := &http.Transport{
		Proxy:                  nil, // a proxy would dial on our behalf, past the address check
		DialContext:            d.DialContext,
		TLSClientConfig:        f.cfg.tlsConfig.Clone(),
		ForceAttemptHTTP2:      true,
		DisableCompression:     true, // images are compressed already; no gzip bombs
		MaxConnsPerHost:        f.cfg.MaxConnsPerHost,
		MaxIdleConnsPerHost:    f.cfg.MaxConnsPerHost,
		MaxIdleConns:           64,
		IdleConnTimeout:        30 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		MaxResponseHeaderBytes: maxHeaderBytes,
	}
	f.transports[allow] = t
	return t
}

var errTooManyRedirects = errors.New("too many redirects")

// Fetch downloads imageURL for a page at pageURL. Errors are *proto.Error
// with code bad_url, blocked_address, fetch_failed, http_status (with
// HTTPStatus), timeout, too_large or canceled.
func (f *Fetcher) Fetch(ctx context.Context, pageURL, imageURL string) (*Response, error) {
	if ctx.Err() != nil {
		return nil, f.fail(ctx, ctx, "", ctx.Err())
	}
	u, err := CheckURL(imageURL)
	if err != nil {
		return nil, f.fail(ctx, ctx, "", err)
	}
	tctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()

	allow := f.Policy(tctx, pageURL)
	origin, pageHTTPS := originOf(pageURL)
	setReferer := func(h http.Header, target *url.URL) {
		h.Del("Referer")
		if origin != "" && !(pageHTTPS && target.Scheme == "http") {
			h.Set("Referer", origin)
		}
	}
	client := &http.Client{
		Transport: f.transport(allow),
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > f.cfg.MaxRedirects {
				return errTooManyRedirects
			}
			if err := checkParsed(req.URL); err != nil {
				return err
			}
			req.Host = ""
			setReferer(req.Header, req.URL)
			req.Header.Del("Cookie")
			req.Header.Del("Authorization")
			return nil
		},
	}
	req, err := http.NewRequestWithContext(tctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, f.fail(ctx, tctx, u.Hostname(), proto.Wrap(proto.CodeBadURL, msgBadURL, err))
	}
	req.Header.Set("User-Agent", f.cfg.UserAgent)
	req.Header.Set("Accept", Accept)
	setReferer(req.Header, u)

	resp, err := client.Do(req)
	if err != nil {
		return nil, f.fail(ctx, tctx, u.Hostname(), err)
	}
	defer resp.Body.Close()
	host := resp.Request.URL.Hostname()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := proto.Errorf(proto.CodeHTTPStatus, "The server answered %d.", resp.StatusCode)
		e.HTTPStatus = resp.StatusCode
		return nil, f.fail(ctx, tctx, host, e)
	}
	if resp.ContentLength > f.cfg.MaxBytes {
		return nil, f.fail(ctx, tctx, host, f.tooLarge())
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxBytes+1))
	if err != nil {
		return nil, f.fail(ctx, tctx, host, err)
	}
	if int64(len(body)) > f.cfg.MaxBytes {
		return nil, f.fail(ctx, tctx, host, f.tooLarge())
	}
	f.log.Debug().Str("host", host).Int("bytes", len(body)).Msg("image fetched")
	return &Response{
		Body:        body,
		ContentType: resp.Header.Get("Content-Type"),
		FinalURL:    resp.Request.URL.String(),
	}, nil
}

func (f *Fetcher) tooLarge() *proto.Error {
	return proto.Errorf(proto.CodeTooLarge, "The image is larger than the %s download limit.", sizeText(f.cfg.MaxBytes))
}

// fail turns err into the contract error and logs it at debug level with
// the host name only. parent is the caller's context, tctx the fetch's.
func (f *Fetcher) fail(parent, tctx context.Context, host string, err error) *proto.Error {
	var pe *proto.Error
	switch {
	case errors.As(err, &pe):
	case errors.Is(parent.Err(), context.Canceled):
		pe = proto.Wrap(proto.CodeCanceled, "The download was canceled.", err)
	case tctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		pe = proto.Wrap(proto.CodeTimeout, "The image took too long to download.", err)
	case errors.Is(err, errTooManyRedirects):
		pe = proto.Wrap(proto.CodeFetchFailed, "The image address redirected too many times.", err)
	default:
		pe = proto.Wrap(proto.CodeFetchFailed, msgFetchErr, err)
	}
	ev := f.log.Debug().Str("host", host).Str("code", pe.Code)
	var be *blockedError
	if errors.As(pe, &be) {
		ev = ev.Str("class", be.class.String())
	}
	ev.Msg("image fetch failed")
	return pe
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// originOf returns the Referer to send for a page, "scheme://host[:port]/",
// and whether the page is https. It is "" for a page that is not a valid
// http or https URL.
func originOf(pageURL string) (string, bool) {
	u, err := url.Parse(pageURL)
	if err != nil || checkParsed(u) != nil {
		return "", false
	}
	host := u.Host
	if p := u.Port(); (u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443") {
		host = strings.TrimSuffix(host, ":"+p)
	}
	return u.Scheme + "://" + host + "/", u.Scheme == "https"
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}
