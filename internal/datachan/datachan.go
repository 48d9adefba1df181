// Package datachan serves held optimized results to the extension over a
// WebSocket bound to 127.0.0.1 (docs/protocol.md, section 2).
//
// A connection is accepted only from the extension's exact Origin, with a
// Host header naming the loopback listener (against DNS rebinding), and
// must send {"auth":"<token>"} first. Then {"get":"<key>"} answers one
// binary message with the file's bytes and {"zip":[{"key":…,"name":…},…]}
// answers one binary message with a ZIP of the files. Failures are text
// messages {"error":{"code":…,"message":…}}.
package datachan

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	stdlog "log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/imagediet/imgdiet/internal/proto"
	"github.com/imagediet/imgdiet/internal/store"
)

// Path is the only path the server answers.
const Path = "/v1/data"

// CodeUnauthorized is the error code sent before closing a connection that
// did not authenticate.
const CodeUnauthorized = "unauthorized"

// Defaults for zero Config fields.
const (
	DefaultAuthTimeout     = 5 * time.Second
	DefaultMaxConns        = 8
	DefaultMaxMessage      = 64 << 10
	DefaultMaxAuthFailures = 10
	DefaultAuthCooldown    = time.Minute
	DefaultMaxZipBytes     = 512 << 20
	DefaultPingInterval    = 30 * time.Second
	DefaultWriteTimeout    = 30 * time.Second
)

// Config sets the server's rules. Zero fields take the defaults above;
// Origin is required.
type Config struct {
	// Origin is the one Origin header value accepted, such as
	// "chrome-extension://<id>" or "moz-extension://<uuid>" (no trailing
	// slash).
	Origin string
	// AuthTimeout bounds the wait for the first message.
	AuthTimeout time.Duration
	// MaxConns caps concurrent connections; the next upgrade gets HTTP 503.
	MaxConns int
	// MaxMessage caps one client message in bytes; a larger one closes the
	// connection.
	MaxMessage int64
	// MaxAuthFailures failed authentications within AuthCooldown make the
	// server refuse every authentication, right or wrong, until
	// AuthCooldown has passed.
	MaxAuthFailures int
	// AuthCooldown is both the window failures are counted in and how long
	// authentication stays refused once MaxAuthFailures is reached.
	AuthCooldown time.Duration
	// MaxZipBytes caps the summed size of the files in one ZIP.
	MaxZipBytes int64
	// PingInterval is how often an authenticated connection is pinged; one
	// that sends nothing, not even a pong, for two intervals is closed.
	PingInterval time.Duration
	// WriteTimeout bounds one write; large messages get an extra second per
	// 4 MiB.
	WriteTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.AuthTimeout <= 0 {
		c.AuthTimeout = DefaultAuthTimeout
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxMessage <= 0 {
		c.MaxMessage = DefaultMaxMessage
	}
	if c.MaxAuthFailures <= 0 {
		c.MaxAuthFailures = DefaultMaxAuthFailures
	}
	if c.AuthCooldown <= 0 {
		c.AuthCooldown = DefaultAuthCooldown
	}
	if c.MaxZipBytes <= 0 {
		c.MaxZipBytes = DefaultMaxZipBytes
	}
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
}

// Source gives the server the held results. *store.Store satisfies it.
type Source interface {
	Get(key string) (store.Item, bool)
}

// AnyFirefoxOrigin as Config.Origin accepts any moz-extension:// origin.
// Firefox gives each extension a random origin per profile that the host
// cannot know, so for Firefox the token is the guard that counts.
const AnyFirefoxOrigin = "moz-extension://*"

// Server is a running data channel.
type Server struct {
	cfg       Config
	src       Source
	log       zerolog.Logger
	ln        net.Listener
	http      *http.Server
	up        websocket.Upgrader
	url       string
	hosts     [2]string // accepted Host headers
	token     string
	tokenHash [32]byte
	limiter   *limiter
	zipSem    chan struct{} // one ZIP is built at a time
	done      chan struct{} // closed by Close

	mu     sync.Mutex
	closed bool
	active int // handlers past the cap check
	conns  map[*websocket.Conn]struct{}
	wg     sync.WaitGroup
}

// Start listens on 127.0.0.1 on an ephemeral port and serves until Close.
func Start(cfg Config, src Source, log zerolog.Logger) (*Server, error) {
	if cfg.Origin == "" || strings.HasSuffix(cfg.Origin, "/") {
		return nil, errors.New("datachan: Origin must be set, without a trailing slash")
	}
	if src == nil {
		return nil, errors.New("datachan: nil Source")
	}
	cfg.setDefaults()
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	s := &Server{
		cfg:     cfg,
		src:     src,
		log:     log,
		ln:      ln,
		url:     "ws://127.0.0.1:" + port + Path,
		hosts:   [2]string{"127.0.0.1:" + port, "localhost:" + port},
		token:   base64.RawURLEncoding.EncodeToString(raw[:]),
		limiter: &limiter{max: cfg.MaxAuthFailures, window: cfg.AuthCooldown, now: time.Now},
		zipSem:  make(chan struct{}, 1),
		done:    make(chan struct{}),
		conns:   make(map[*websocket.Conn]struct{}),
	}
	s.tokenHash = sha256.Sum256([]byte(s.token))
	s.up = websocket.Upgrader{
		HandshakeTimeout: cfg.AuthTimeout,
		ReadBufferSize:   4 << 10,
		WriteBufferSize:  32 << 10,
		CheckOrigin:      s.originOK,
	}
	s.http = &http.Server{
		Handler:           http.HandlerFunc(s.handle),
		ReadHeaderTimeout: cfg.AuthTimeout,
		MaxHeaderBytes:    8 << 10,
		ErrorLog:          stdlog.New(debugWriter{log}, "", 0),
	}
	go s.http.Serve(ln)
	log.Debug().Str("port", port).Msg("data channel listening")
	return s, nil
}

// URL returns the WebSocket address, "ws://127.0.0.1:PORT/v1/data".
func (s *Server) URL() string { return s.url }

// Token returns the session token: 32 random bytes, base64url without
// padding.
func (s *Server) Token() string { return s.token }

// Close stops listening, closes every connection with "going away" and
// waits for their handlers to end.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	conns := make([]*websocket.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	err := s.http.Close()
	msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "host exiting")
	for _, c := range conns {
		c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(100*time.Millisecond))
		c.Close()
	}
	s.wg.Wait()
	s.log.Debug().Msg("data channel closed")
	return err
}

func (s *Server) originOK(r *http.Request) bool {
	o := r.Header.Values("Origin")
	if len(o) != 1 {
		return false
	}
	if s.cfg.Origin == AnyFirefoxOrigin {
		rest, ok := strings.CutPrefix(o[0], "moz-extension://")
		return ok && rest != "" && !strings.ContainsAny(rest, "/?#@")
	}
	return o[0] == s.cfg.Origin
}

func (s *Server) hostOK(host string) bool {
	return host == s.hosts[0] || strings.EqualFold(host, s.hosts[1])
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != Path {
		http.NotFound(w, r)
		return
	}
	if !s.hostOK(r.Host) || !s.originOK(r) {
		s.log.Debug().Msg("data channel: refused a connection with a foreign Host or Origin")
		http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
		return
	}
	s.mu.Lock()
	if s.closed || s.active >= s.cfg.MaxConns {
		s.mu.Unlock()
		s.log.Debug().Msg("data channel: refused a connection over the cap")
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	s.active++
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
		s.wg.Done()
	}()

	c, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug().Msg("data channel: upgrade failed")
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	s.serve(c)
}

// serve runs one upgraded connection.
func (s *Server) serve(c *websocket.Conn) {
	start := time.Now()
	c.SetReadLimit(s.cfg.MaxMessage)
	if !s.authenticate(c) {
		return
	}
	log := s.log.With().Str("remote", c.RemoteAddr().String()).Logger()
	log.Debug().Msg("data channel: connection authenticated")

	idle := 2 * s.cfg.PingInterval
	c.SetPongHandler(func(string) error {
		return c.SetReadDeadline(time.Now().Add(idle))
	})
	stop := make(chan struct{})
	defer close(stop)
	go s.ping(c, stop)

	n := 0
	for {
		c.SetReadDeadline(time.Now().Add(idle))
		typ, msg, err := c.ReadMessage()
		if err != nil {
			log.Debug().Str("reason", closeReason(err)).Int("requests", n).
				Dur("open", time.Since(start)).Msg("data channel: connection ended")
			return
		}
		n++
		if err := s.answer(c, typ, msg); err != nil {
			log.Debug().Int("requests", n).Msg("data channel: write failed")
			return
		}
	}
}

// ping keeps an authenticated connection alive until stop is closed.
func (s *Server) ping(c *websocket.Conn, stop <-chan struct{}) {
	t := time.NewTicker(s.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if err := c.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.cfg.WriteTimeout)); errors.Is(err, websocket.ErrCloseSent) || errors.Is(err, net.ErrClosed) {
				return
			}
		}
	}
}

// authenticate reads the first message and checks the token. On failure it
// tells the client why and closes with policy violation.
func (s *Server) authenticate(c *websocket.Conn) bool {
	c.SetReadDeadline(time.Now().Add(s.cfg.AuthTimeout))
	typ, msg, err := c.ReadMessage()
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			s.log.Debug().Msg("data channel: no token in time")
			s.refuse(c, "No token arrived in time.")
		} else {
			s.log.Debug().Str("reason", closeReason(err)).Msg("data channel: connection ended before auth")
		}
		return false
	}
	if !s.limiter.allow() {
		s.log.Debug().Msg("data channel: auth refused during cool-down")
		s.refuse(c, "Too many wrong tokens; try again in a minute.")
		return false
	}
	var req struct {
		Auth *string `json:"auth"`
	}
	if typ != websocket.TextMessage || json.Unmarshal(msg, &req) != nil || req.Auth == nil || !s.tokenOK(*req.Auth) {
		if s.limiter.fail() {
			s.log.Warn().Msg("data channel: too many wrong tokens; refusing auth for a while")
		} else {
			s.log.Debug().Msg("data channel: wrong token")
		}
		s.refuse(c, "The data channel needs the session token.")
		return false
	}
	return true
}

// tokenOK compares in constant time; hashing first hides the length too.
func (s *Server) tokenOK(tok string) bool {
	h := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(h[:], s.tokenHash[:]) == 1
}

// refuse sends an unauthorized error and a policy-violation close, then
// drains briefly so the client sees the close frame rather than a reset.
func (s *Server) refuse(c *websocket.Conn, msg string) {
	if s.writeError(c, proto.Errorf(CodeUnauthorized, "%s", msg)) != nil {
		return
	}
	deadline := time.Now().Add(time.Second)
	if c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "unauthorized"), deadline) != nil {
		return
	}
	c.SetReadDeadline(deadline)
	for {
		if _, _, err := c.NextReader(); err != nil {
			return
		}
	}
}

type zipEntry struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

type request struct {
	Get *string     `json:"get"`
	Zip *[]zipEntry `json:"zip"`
}

// answer serves one request. Only write errors are returned; request
// errors are answered on the connection.
func (s *Server) answer(c *websocket.Conn, typ int, msg []byte) error {
	var req request
	if typ != websocket.TextMessage || json.Unmarshal(msg, &req) != nil || (req.Get == nil) == (req.Zip == nil) {
		return s.writeError(c, proto.Errorf(proto.CodeBadMessage, "Send one JSON object with either \"get\" or \"zip\"."))
	}
	if req.Get != nil {
		if *req.Get == "" {
			return s.writeError(c, proto.Errorf(proto.CodeBadMessage, "The key is empty."))
		}
		it, ok := s.src.Get(*req.Get)
		if !ok {
			return s.writeError(c, proto.Errorf(proto.CodeNotFound, "That file is no longer held; scan the page again."))
		}
		return s.write(c, websocket.BinaryMessage, it.Data)
	}
	data, perr := s.zip(*req.Zip)
	if perr != nil {
		return s.writeError(c, perr)
	}
	return s.write(c, websocket.BinaryMessage, data)
}

// zip builds an archive of entries, or returns the error to send.
func (s *Server) zip(entries []zipEntry) ([]byte, *proto.Error) {
	if len(entries) == 0 {
		return nil, proto.Errorf(proto.CodeBadMessage, "The list of files is empty.")
	}
	items := make([]store.Item, len(entries))
	missing := 0
	var total int64
	for i, e := range entries {
		if e.Key == "" {
			return nil, proto.Errorf(proto.CodeBadMessage, "File %d has no key.", i+1)
		}
		it, ok := s.src.Get(e.Key)
		if !ok {
			missing++
			continue
		}
		items[i] = it
		total += int64(len(it.Data))
	}
	if missing > 0 {
		return nil, proto.Errorf(proto.CodeNotFound, "%d of the %d files are no longer held; scan the page again.", missing, len(entries))
	}
	if total > s.cfg.MaxZipBytes {
		return nil, proto.Errorf(proto.CodeTooLarge, "The files are too large to download together; download them one by one.")
	}

	select {
	case s.zipSem <- struct{}{}:
		defer func() { <-s.zipSem }()
	case <-s.done:
		return nil, proto.Errorf(proto.CodeCanceled, "The helper is closing.")
	}
	var buf bytes.Buffer
	buf.Grow(int(total) + 128*len(items) + 64)
	zw := zip.NewWriter(&buf)
	var nm namer
	now := time.Now()
	for i, it := range items {
		w, err := zw.CreateHeader(&zip.FileHeader{
			Name:     nm.next(i+1, it.Format, entries[i].Name, it.Name),
			Method:   method(it.Format),
			Modified: now,
		})
		if err == nil {
			_, err = w.Write(it.Data)
		}
		if err != nil {
			return nil, proto.Wrap(proto.CodeInternal, "The archive could not be built.", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, proto.Wrap(proto.CodeInternal, "The archive could not be built.", err)
	}
	return buf.Bytes(), nil
}

// write sends one message with a deadline that grows with its size.
func (s *Server) write(c *websocket.Conn, typ int, data []byte) error {
	d := s.cfg.WriteTimeout + time.Duration(len(data)>>22)*time.Second
	c.SetWriteDeadline(time.Now().Add(d))
	return c.WriteMessage(typ, data)
}

// writeError sends {"error":{...}} as text.
func (s *Server) writeError(c *websocket.Conn, e *proto.Error) error {
	b, err := json.Marshal(struct {
		Error *proto.Error `json:"error"`
	}{e})
	if err != nil {
		return err
	}
	return s.write(c, websocket.TextMessage, b)
}

// closeReason names why a read ended, without any client text.
func closeReason(err error) string {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		return "close " + strconv.Itoa(ce.Code)
	case errors.Is(err, websocket.ErrReadLimit):
		return "message too large"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, net.ErrClosed):
		return "closed"
	}
	return "read error"
}

// limiter counts failed authentications server-wide. Reaching max within
// window refuses every attempt for window.
type limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	fails []time.Time
	until time.Time
}

// allow reports whether authentication may be tried now.
func (l *limiter) allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.now().Before(l.until)
}

// fail records a failure and reports whether it started a cool-down.
func (l *limiter) fail() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	keep := l.fails[:0]
	for _, t := range l.fails {
		if now.Sub(t) < l.window {
			keep = append(keep, t)
		}
	}
	l.fails = append(keep, now)
	if len(l.fails) < l.max {
		return false
	}
	l.fails = l.fails[:0]
	l.until = now.Add(l.window)
	return true
}

// debugWriter sends net/http's own error lines to the logger at debug.
type debugWriter struct{ log zerolog.Logger }

func (w debugWriter) Write(p []byte) (int, error) {
	w.log.Debug().Str("source", "net/http").Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
