// Package datachan serves held optimized results to the extension over a
// WebSocket bound to 127.0.0.1 (docs/protocol.md, section 2).
//
// A connection is accepted only from the extension's exact Origin, with a
// Host header naming the loopback listener (against DNS rebinding), and
// must prove the session token: in the handshake, as the subprotocol
// AuthProtocolPrefix+token (the extension's way), or as a first message
// {"auth":"<token>"}. Then {"get":"<key>"} answers one
// binary message with the file's bytes and {"zip":[{"key":…,"name":…},…]}
// answers one binary message with a ZIP of the files, streamed into the
// socket as it is built. Failures are text messages
// {"error":{"code":…,"message":…}}.
//
// Connections still waiting to authenticate live in a small pool of their
// own: when it is full the oldest waiting connection is dropped to make
// room, so a local process that opens sockets and never authenticates
// cannot keep the extension out. Authenticated connections have their own
// cap.
package datachan

import (
	"archive/zip"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
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

// Protocol is the subprotocol the server selects when a client offers it.
// A client that also offers AuthProtocolPrefix+token is authenticated in
// the handshake: it never waits in the pending pool, and a wrong token
// there gets HTTP 401. Browsers cannot set headers on a WebSocket, but
// they can offer subprotocols.
const Protocol = "imgdiet.v1"

// AuthProtocolPrefix starts the subprotocol that carries the token.
const AuthProtocolPrefix = "imgdiet.auth."

// CodeBusy is the error code sent before closing a connection that
// authenticated while the extension's own connections were at their cap.
const CodeBusy = "busy"

// Defaults for zero Config fields.
const (
	DefaultAuthTimeout = 5 * time.Second
	DefaultMaxConns    = 8
	DefaultMaxPending  = 4
	// DefaultMaxMessage fits a zip request for 2,000 files (the most one
	// scan holds) with names of 255 characters of up to 4 bytes each and
	// JSON escapes: 2,000 × about 1.1 KB is 2.2 MB.
	DefaultMaxMessage      = 4 << 20
	DefaultMaxZipEntries   = 10_000
	DefaultMaxAuthFailures = 10
	DefaultAuthCooldown    = time.Minute
	DefaultMaxZipBytes     = 512 << 20
	DefaultPingInterval    = 30 * time.Second
	DefaultWriteTimeout    = 30 * time.Second
)

// maxAuthMessage caps the first message, {"auth":"<43 characters>"}.
const maxAuthMessage = 1 << 10

// writeChunk is the most written to the socket under one write deadline,
// so a download of any size is dropped only when its reader stalls.
const writeChunk = 1 << 20

// Config sets the server's rules. Zero fields take the defaults above;
// Origin is required.
type Config struct {
	// Origin is the one Origin header value accepted, such as
	// "chrome-extension://<id>" or "moz-extension://<uuid>" (no trailing
	// slash).
	Origin string
	// AuthTimeout bounds the wait for the first message.
	AuthTimeout time.Duration
	// MaxConns caps authenticated connections; while it is reached, the
	// next upgrade gets HTTP 503.
	MaxConns int
	// MaxPending caps connections still waiting to authenticate. A new
	// upgrade when it is reached drops the oldest waiting connection;
	// waiting connections never count against MaxConns.
	MaxPending int
	// MaxMessage caps one request in bytes; a larger one is read to its
	// end, discarded and answered with too_large (the connection stays).
	// Before authentication the cap is 1 KiB and a larger message closes
	// the connection.
	MaxMessage int64
	// MaxZipEntries caps the files in one ZIP request.
	MaxZipEntries int
	// MaxAuthFailures failed authentications within AuthCooldown log a
	// warning: someone is guessing the token. The right token is still
	// accepted at once, so guessing cannot lock the extension out.
	MaxAuthFailures int
	// AuthCooldown is the window failures are counted in, and how long
	// after a warning the next one waits.
	AuthCooldown time.Duration
	// MaxZipBytes caps the summed size of the files in one ZIP.
	MaxZipBytes int64
	// PingInterval is how often an authenticated connection is pinged; one
	// that sends nothing, not even a pong, for two intervals is closed.
	PingInterval time.Duration
	// WriteTimeout bounds each 1 MiB part of an answer: a reader that takes
	// nothing for that long is dropped.
	WriteTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.AuthTimeout <= 0 {
		c.AuthTimeout = DefaultAuthTimeout
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxPending <= 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.MaxMessage <= 0 {
		c.MaxMessage = DefaultMaxMessage
	}
	if c.MaxZipEntries <= 0 {
		c.MaxZipEntries = DefaultMaxZipEntries
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

	mu      sync.Mutex
	closed  bool
	authed  int                          // authenticated connections
	pending map[*websocket.Conn]uint64   // upgraded, not yet authenticated: arrival order
	seq     uint64                       // orders pending connections by arrival
	conns   map[*websocket.Conn]struct{} // every upgraded connection
	wg      sync.WaitGroup
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
		pending: make(map[*websocket.Conn]uint64),
		conns:   make(map[*websocket.Conn]struct{}),
	}
	s.tokenHash = sha256.Sum256([]byte(s.token))
	s.up = websocket.Upgrader{
		HandshakeTimeout: cfg.AuthTimeout,
		ReadBufferSize:   4 << 10,
		WriteBufferSize:  32 << 10,
		CheckOrigin:      s.originOK,
		Subprotocols:     []string{Protocol},
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
	tok, early := handshakeToken(r)
	if early && !s.tokenOK(tok) {
		s.wrongToken()
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	if s.closed || s.authed >= s.cfg.MaxConns {
		s.mu.Unlock()
		s.log.Debug().Msg("data channel: refused a connection over the cap")
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	if early {
		s.authed++ // reserved now: the handshake proved the token
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	if early {
		defer func() {
			s.mu.Lock()
			s.authed--
			s.mu.Unlock()
		}()
	}

	c, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug().Msg("data channel: upgrade failed")
		return
	}
	if !s.admit(c, early) {
		c.Close()
		return
	}
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		delete(s.pending, c)
		s.mu.Unlock()
		c.Close()
	}()
	if !early {
		c.SetReadLimit(maxAuthMessage)
		if !s.authenticate(c) {
			return
		}
		defer func() {
			s.mu.Lock()
			s.authed--
			s.mu.Unlock()
		}()
	}
	s.serve(c)
}

// handshakeToken returns the token offered in the upgrade request as the
// subprotocol AuthProtocolPrefix+token, and whether there was one.
func handshakeToken(r *http.Request) (string, bool) {
	for _, p := range websocket.Subprotocols(r) {
		if tok, ok := strings.CutPrefix(p, AuthProtocolPrefix); ok {
			return tok, true
		}
	}
	return "", false
}

// admit registers an upgraded connection. One that has not authenticated
// yet joins the pending pool, dropping the oldest waiting connections to
// make room. It reports false once the server is closed.
func (s *Server) admit(c *websocket.Conn, authed bool) bool {
	var drop []*websocket.Conn
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.conns[c] = struct{}{}
	for !authed && len(s.pending) >= s.cfg.MaxPending {
		var oldest *websocket.Conn
		var seq uint64
		for pc, n := range s.pending {
			if oldest == nil || n < seq {
				oldest, seq = pc, n
			}
		}
		delete(s.pending, oldest)
		drop = append(drop, oldest)
	}
	if !authed {
		s.seq++
		s.pending[c] = s.seq
	}
	s.mu.Unlock()
	for _, pc := range drop {
		s.log.Debug().Msg("data channel: dropped the oldest connection waiting to authenticate")
		pc.Close()
	}
	return true
}

// promote moves an authenticated connection out of the pending pool. It
// reports false with the error code to refuse it with, or with "" when it
// was already dropped from the pool.
func (s *Server) promote(c *websocket.Conn) (ok bool, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, in := s.pending[c]; !in {
		return false, ""
	}
	delete(s.pending, c)
	if s.authed >= s.cfg.MaxConns {
		return false, CodeBusy
	}
	s.authed++
	return true, ""
}

// serve runs one authenticated connection.
func (s *Server) serve(c *websocket.Conn) {
	start := time.Now()
	log := s.log.With().Str("remote", c.RemoteAddr().String()).Logger()
	log.Debug().Msg("data channel: connection authenticated")
	// A request over MaxMessage is read to its end and discarded; one 16
	// times larger closes the connection (1009) rather than keep it busy.
	c.SetReadLimit(16 * s.cfg.MaxMessage)

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
		typ, msg, err := s.read(c)
		if err != nil {
			log.Debug().Str("reason", closeReason(err)).Int("requests", n).
				Dur("open", time.Since(start)).Msg("data channel: connection ended")
			return
		}
		n++
		if msg == nil {
			err = s.writeError(c, proto.Errorf(proto.CodeTooLarge, "The request is larger than %d MiB; ask for fewer files at a time.", s.cfg.MaxMessage>>20))
		} else {
			err = s.answer(c, typ, msg)
		}
		if err != nil {
			log.Debug().Int("requests", n).Msg("data channel: write failed")
			return
		}
	}
}

// read returns the next message, or a nil message when it was longer than
// MaxMessage (its bytes are read and dropped).
func (s *Server) read(c *websocket.Conn) (int, []byte, error) {
	typ, r, err := c.NextReader()
	if err != nil {
		return 0, nil, err
	}
	msg, err := io.ReadAll(io.LimitReader(r, s.cfg.MaxMessage+1))
	if err != nil {
		return 0, nil, err
	}
	if int64(len(msg)) > s.cfg.MaxMessage {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return 0, nil, err
		}
		return typ, nil, nil
	}
	return typ, msg, nil
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
// tells the client why and closes with policy violation. The right token
// is always accepted: guessing is logged, never answered with a lock-out,
// so it cannot keep the extension out (a 256-bit token is out of reach of
// any guessing rate).
func (s *Server) authenticate(c *websocket.Conn) bool {
	c.SetReadDeadline(time.Now().Add(s.cfg.AuthTimeout))
	typ, msg, err := c.ReadMessage()
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			s.log.Debug().Msg("data channel: no token in time")
			s.refuse(c, CodeUnauthorized, "No token arrived in time.")
		} else {
			s.log.Debug().Str("reason", closeReason(err)).Msg("data channel: connection ended before auth")
		}
		return false
	}
	var req struct {
		Auth *string `json:"auth"`
	}
	if typ != websocket.TextMessage || json.Unmarshal(msg, &req) != nil || req.Auth == nil || !s.tokenOK(*req.Auth) {
		s.wrongToken()
		s.refuse(c, CodeUnauthorized, "The data channel needs the session token.")
		return false
	}
	ok, code := s.promote(c)
	if code != "" {
		s.log.Debug().Msg("data channel: authenticated over the connection cap")
		s.refuse(c, code, "Too many download connections are open; try again in a moment.")
	}
	return ok
}

// wrongToken counts a failed authentication and logs it.
func (s *Server) wrongToken() {
	if s.limiter.fail() {
		s.log.Warn().Msg("data channel: many wrong tokens; someone may be guessing it")
	} else {
		s.log.Debug().Msg("data channel: wrong token")
	}
}

// tokenOK compares in constant time; hashing first hides the length too.
func (s *Server) tokenOK(tok string) bool {
	h := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(h[:], s.tokenHash[:]) == 1
}

// refuse sends an error with code and a close (policy violation, or try
// again later when busy), then
// drains briefly so the client sees the close frame rather than a reset.
func (s *Server) refuse(c *websocket.Conn, code, msg string) {
	if s.writeError(c, proto.Errorf(code, "%s", msg)) != nil {
		return
	}
	deadline := time.Now().Add(time.Second)
	close := websocket.ClosePolicyViolation
	if code == CodeBusy {
		close = websocket.CloseTryAgainLater
	}
	if c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(close, code), deadline) != nil {
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

// parseRequest decodes one request message. It returns the error to answer
// when msg is not exactly one JSON object with either "get" or "zip".
func parseRequest(typ int, msg []byte) (request, *proto.Error) {
	var req request
	if typ != websocket.TextMessage || json.Unmarshal(msg, &req) != nil || (req.Get == nil) == (req.Zip == nil) {
		return request{}, proto.Errorf(proto.CodeBadMessage, "Send one JSON object with either \"get\" or \"zip\".")
	}
	if req.Get != nil && *req.Get == "" {
		return request{}, proto.Errorf(proto.CodeBadMessage, "The key is empty.")
	}
	if req.Zip != nil {
		if len(*req.Zip) == 0 {
			return request{}, proto.Errorf(proto.CodeBadMessage, "The list of files is empty.")
		}
		for i, e := range *req.Zip {
			if e.Key == "" {
				return request{}, proto.Errorf(proto.CodeBadMessage, "File %d has no key.", i+1)
			}
		}
	}
	return req, nil
}

// answer serves one request. Only write errors are returned; request
// errors are answered on the connection.
func (s *Server) answer(c *websocket.Conn, typ int, msg []byte) error {
	req, perr := parseRequest(typ, msg)
	if perr != nil {
		return s.writeError(c, perr)
	}
	if req.Get != nil {
		it, ok := s.src.Get(*req.Get)
		if !ok {
			return s.writeError(c, proto.Errorf(proto.CodeNotFound, "That file is no longer held; scan the page again."))
		}
		return s.stream(c, func(w io.Writer) error {
			_, err := w.Write(it.Data)
			return err
		})
	}
	entries := *req.Zip
	if perr := s.check(entries); perr != nil {
		return s.writeError(c, perr)
	}
	err := s.stream(c, func(w io.Writer) error { return writeZip(w, entries, s.src) })
	if errors.Is(err, errReleased) {
		// The message is cut short; say why in the close frame.
		c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInternalServerErr, "a file was released during the download"), time.Now().Add(time.Second))
	}
	return err
}

// errReleased ends a ZIP whose file was released while it was being sent.
var errReleased = errors.New("datachan: a file was released during the download")

// check verifies that every entry of a zip request is held and that the
// files fit the limits, or returns the error to answer.
func (s *Server) check(entries []zipEntry) *proto.Error {
	if len(entries) > s.cfg.MaxZipEntries {
		return proto.Errorf(proto.CodeTooLarge, "A ZIP can hold at most %d files; download the rest separately.", s.cfg.MaxZipEntries)
	}
	missing := 0
	var total int64
	for _, e := range entries {
		it, ok := s.src.Get(e.Key)
		if !ok {
			missing++
			continue
		}
		total += int64(len(it.Data))
	}
	if missing > 0 {
		return proto.Errorf(proto.CodeNotFound, "%d of the %d files are no longer held; scan the page again.", missing, len(entries))
	}
	if total > s.cfg.MaxZipBytes {
		return proto.Errorf(proto.CodeTooLarge, "The files are too large to download together; download them one by one.")
	}
	return nil
}

// writeZip writes an archive of entries to w as it goes, looking each file
// up only when its turn comes: besides the socket's buffer, a stream holds
// one file, so files released meanwhile are not kept alive by downloads.
// A file released before its turn ends the archive with errReleased.
func writeZip(w io.Writer, entries []zipEntry, src Source) error {
	zw := zip.NewWriter(w)
	var nm namer
	now := time.Now()
	for i, e := range entries {
		it, ok := src.Get(e.Key)
		if !ok {
			return errReleased
		}
		fw, err := zw.CreateHeader(&zip.FileHeader{
			Name:     nm.next(i+1, it.Format, e.Name, it.Name),
			Method:   method(it.Format),
			Modified: now,
		})
		if err != nil {
			return err
		}
		if _, err := fw.Write(it.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// stream sends one binary message written by fill, straight into the
// socket: the bytes in flight per connection are the WebSocket write
// buffer (32 KiB), whatever the answer's size, and a reader that stops
// reading blocks only its own connection until WriteTimeout drops it.
func (s *Server) stream(c *websocket.Conn, fill func(io.Writer) error) error {
	w, err := c.NextWriter(websocket.BinaryMessage)
	if err != nil {
		return err
	}
	if err := fill(&deadlineWriter{c: c, w: w, d: s.cfg.WriteTimeout}); err != nil {
		// The message stays unfinished (closing the writer would end it
		// as if whole): the connection is closed instead.
		return err
	}
	c.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	return w.Close()
}

// deadlineWriter writes at most writeChunk bytes under each fresh write
// deadline.
type deadlineWriter struct {
	c *websocket.Conn
	w io.Writer
	d time.Duration
}

func (dw *deadlineWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), writeChunk)
		dw.c.SetWriteDeadline(time.Now().Add(dw.d))
		m, err := dw.w.Write(p[:k])
		n += m
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}

// writeError sends {"error":{...}} as text.
func (s *Server) writeError(c *websocket.Conn, e *proto.Error) error {
	b, err := json.Marshal(struct {
		Error *proto.Error `json:"error"`
	}{e})
	if err != nil {
		return err
	}
	c.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	return c.WriteMessage(websocket.TextMessage, b)
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
// window is reported once, then not again for window.
type limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	fails []time.Time
	quiet time.Time // no report before
}

// fail records a failure and reports whether it is the max-th within
// window (and no report was made in the last window).
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
	if len(l.fails) < l.max || now.Before(l.quiet) {
		return false
	}
	l.fails = l.fails[:0]
	l.quiet = now.Add(l.window)
	return true
}

// debugWriter sends net/http's own error lines to the logger at debug.
type debugWriter struct{ log zerolog.Logger }

func (w debugWriter) Write(p []byte) (int, error) {
	w.log.Debug().Str("source", "net/http").Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
