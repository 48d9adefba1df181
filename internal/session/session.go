// Package session serves the wire contract over a native-messaging stream:
// it reads frames, answers hello, release and request errors itself, runs
// scans concurrently through a Scanner, and serializes every write.
package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/imagediet/imgdiet/internal/buildinfo"
	"github.com/imagediet/imgdiet/internal/frame"
	"github.com/imagediet/imgdiet/internal/proto"
	"github.com/rs/zerolog"
)

// Scanner runs scans. Scan must call emit for each result and, last, once
// with the scan's done message, and must return soon after ctx is canceled
// (emitting done with Canceled set).
type Scanner interface {
	Scan(ctx context.Context, req *proto.ScanRequest, emit func(v any) error)
}

// Validator checks a scan request before it starts. A non-nil error is
// answered as a request error (bad_message or too_large).
type Validator interface {
	Validate(req *proto.ScanRequest) *proto.Error
}

// Holder drops held results.
type Holder interface {
	Release(keys []string) int
	ReleaseAll() int
}

// DataChannel is the loopback channel announced in hello.
type DataChannel interface {
	URL() string
	Token() string
	Close() error
}

// Config wires a session to the rest of the host.
type Config struct {
	// Limits are announced in hello.
	Limits proto.Limits
	// Encoders are announced in hello.
	Encoders []string
	// Libvips is the libvips version announced in hello.
	Libvips string
	// Scanner runs scans; nil answers scan with unknown_type.
	Scanner Scanner
	// Held drops held results; nil answers release with unknown_type.
	Held Holder
	// StartData starts the data channel on the first hello; nil announces
	// no channel.
	StartData func() (DataChannel, error)
	// Log receives diagnostics; it never gets URLs or image bytes.
	Log zerolog.Logger
	// DrainTimeout bounds how long Run waits for scans after stdin ends.
	DrainTimeout time.Duration
}

// MaxIDBytes caps a request's id. Every reply echoes the id, so a longer
// one could push a reply past the 1 MiB frame cap; it is refused with
// bad_message instead.
const MaxIDBytes = 1024

// ErrFatal wraps errors that end a session with a non-zero exit.
var ErrFatal = errors.New("session: fatal stream error")

type session struct {
	cfg Config
	w   *frame.Writer
	ctx context.Context

	mu    sync.Mutex
	scans map[string]context.CancelFunc
	data  DataChannel
	wg    sync.WaitGroup
}

// Run serves the stream until in ends. A clean end of input returns nil
// after canceling every scan; an oversized or truncated frame returns an
// error wrapping ErrFatal.
func Run(in io.Reader, out io.Writer, cfg Config) error {
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 600 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{cfg: cfg, w: frame.NewWriter(out), ctx: ctx, scans: map[string]context.CancelFunc{}}
	defer s.shutdown(cancel)

	r := frame.NewReader(in)
	for {
		payload, err := r.Read()
		if err == io.EOF {
			cfg.Log.Debug().Msg("input closed")
			return nil
		}
		if err != nil {
			msg := "The message stream is broken."
			if errors.Is(err, frame.ErrTooLarge) {
				msg = "The message is larger than 64 MiB."
			}
			s.replyError(nil, proto.CodeBadMessage, msg)
			cfg.Log.Error().Err(err).Msg("ending session on a broken frame")
			return fmt.Errorf("%w: %v", ErrFatal, err)
		}
		s.handle(payload)
	}
}

func (s *session) shutdown(cancel context.CancelFunc) {
	cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.cfg.DrainTimeout):
		s.cfg.Log.Warn().Msg("scans still running at exit; abandoning them")
	}
	s.mu.Lock()
	data := s.data
	s.data = nil
	s.mu.Unlock()
	if data != nil {
		_ = data.Close()
	}
	if s.cfg.Held != nil {
		s.cfg.Held.ReleaseAll()
	}
}

// handle answers one message. Hello, cancel and release are answered
// inline (they are quick); scans run in their own goroutine.
func (s *session) handle(payload []byte) {
	if err := frame.Check(payload); err != nil {
		s.replyError(nil, proto.CodeBadMessage, capitalize(err.Error())+".")
		return
	}
	var env struct {
		Type json.RawMessage `json:"type"`
		ID   json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(payload, &env); err != nil {
		s.replyError(nil, proto.CodeBadMessage, "The message could not be read.")
		return
	}
	id, idOK := stringField(env.ID)
	rawID := json.RawMessage(nil)
	if idOK {
		rawID = env.ID
	}
	typ, typOK := stringField(env.Type)
	switch {
	case env.Type == nil:
		s.replyError(rawID, proto.CodeBadMessage, "The message has no \"type\".")
		return
	case !typOK:
		s.replyError(rawID, proto.CodeBadMessage, "The message's \"type\" must be a string.")
		return
	case env.ID == nil || isNull(env.ID):
		s.replyError(nil, proto.CodeBadMessage, "The message has no \"id\".")
		return
	case !idOK:
		s.replyError(nil, proto.CodeBadMessage, "The message's \"id\" must be a string.")
		return
	case len(id) > MaxIDBytes:
		s.replyError(nil, proto.CodeBadMessage, fmt.Sprintf("The message's \"id\" is longer than %d bytes.", MaxIDBytes))
		return
	}
	switch typ {
	case proto.TypeHello:
		s.hello(id, payload)
	case proto.TypeScan:
		s.scan(id, payload)
	case proto.TypeCancel:
		s.cancel(id, payload)
	case proto.TypeRelease:
		s.release(id, payload)
	default:
		s.replyError(rawID, proto.CodeUnknownType, fmt.Sprintf("The message type %q is not known.", truncate(typ, 40)))
	}
}

func (s *session) hello(id string, payload []byte) {
	var req struct {
		Protocol json.RawMessage `json:"protocol"`
	}
	_ = json.Unmarshal(payload, &req)
	var version float64
	if req.Protocol == nil || json.Unmarshal(req.Protocol, &version) != nil {
		s.replyErrorID(id, proto.CodeBadMessage, "The hello needs a numeric \"protocol\".")
		return
	}
	if version != buildinfo.Protocol {
		s.replyErrorID(id, proto.CodeUnsupportedProtocol, fmt.Sprintf("This helper speaks protocol %d only.", buildinfo.Protocol))
		return
	}
	reply := proto.HelloReply{
		Type:     proto.TypeHello,
		ID:       id,
		Protocol: buildinfo.Protocol,
		Host:     proto.HostInfo{Name: buildinfo.Name, Version: buildinfo.Version},
		Engine:   proto.Engine{Libvips: s.cfg.Libvips},
		Encoders: s.cfg.Encoders,
		Limits:   s.cfg.Limits,
	}
	if dc := s.dataChannel(); dc != nil {
		reply.Data = &proto.DataInfo{URL: dc.URL(), Token: dc.Token()}
	}
	s.write(reply)
}

// dataChannel starts the data channel once, lazily.
func (s *session) dataChannel() DataChannel {
	if s.cfg.StartData == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data == nil && s.ctx.Err() == nil {
		dc, err := s.cfg.StartData()
		if err != nil {
			s.cfg.Log.Error().Err(err).Msg("data channel did not start")
			return nil
		}
		s.data = dc
	}
	return s.data
}

func (s *session) scan(id string, payload []byte) {
	if s.cfg.Scanner == nil {
		s.replyErrorID(id, proto.CodeUnknownType, "This helper cannot scan yet.")
		return
	}
	req := new(proto.ScanRequest)
	if err := json.Unmarshal(payload, req); err != nil {
		s.replyErrorID(id, proto.CodeBadMessage, "The scan request is malformed: "+fieldOf(err)+".")
		return
	}
	if v, ok := s.cfg.Scanner.(Validator); ok {
		if perr := v.Validate(req); perr != nil {
			s.replyErrorID(id, perr.Code, perr.Message)
			return
		}
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.mu.Lock()
	if _, dup := s.scans[id]; dup {
		s.mu.Unlock()
		cancel()
		s.replyErrorID(id, proto.CodeBadMessage, "A scan with this id is already running.")
		return
	}
	s.scans[id] = cancel
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.scans, id)
			s.mu.Unlock()
			cancel()
		}()
		s.cfg.Scanner.Scan(ctx, req, s.emit)
	}()
}

func (s *session) cancel(id string, payload []byte) {
	var req proto.CancelRequest
	if err := json.Unmarshal(payload, &req); err != nil || req.Scan == "" {
		s.replyErrorID(id, proto.CodeBadMessage, "The cancel request needs a \"scan\" id.")
		return
	}
	s.mu.Lock()
	stop, ok := s.scans[req.Scan]
	s.mu.Unlock()
	if !ok {
		s.replyErrorID(id, proto.CodeNotFound, "No scan with that id is running.")
		return
	}
	stop()
}

func (s *session) release(id string, payload []byte) {
	if s.cfg.Held == nil {
		s.replyErrorID(id, proto.CodeUnknownType, "This helper holds no results yet.")
		return
	}
	var req proto.ReleaseRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		s.replyErrorID(id, proto.CodeBadMessage, "The release request is malformed: "+fieldOf(err)+".")
		return
	}
	if !req.All && req.Keys == nil {
		s.replyErrorID(id, proto.CodeBadMessage, "The release request needs \"keys\" or \"all\".")
		return
	}
	n := 0
	if req.All {
		n = s.cfg.Held.ReleaseAll()
	} else {
		n = s.cfg.Held.Release(req.Keys)
	}
	s.write(proto.Released{Type: proto.TypeReleased, ID: id, Count: n})
}

func (s *session) write(v any) {
	if err := s.emit(v); err != nil {
		s.cfg.Log.Error().Err(err).Msg("could not write a reply")
	}
}

// emit writes one message. One that would exceed the 1 MiB frame cap is
// replaced, so the extension is never left waiting: a result by an error
// result for the same image, anything else by an internal error with the
// same id. (Ids are capped at MaxIDBytes, so the replacement fits.)
func (s *session) emit(v any) error {
	err := s.w.WriteJSON(v)
	if !errors.Is(err, frame.ErrOutTooLarge) {
		return err
	}
	s.cfg.Log.Error().Err(err).Msg("a reply was too large to send; sending an error instead")
	const msg = "The helper's answer was too large to send."
	var r *proto.Result
	switch m := v.(type) {
	case proto.Result:
		r = &m
	case *proto.Result:
		r = m
	}
	if r != nil {
		url := r.URL
		if len(url) > 2048 {
			url = url[:2048] + "…"
		}
		return s.w.WriteJSON(proto.Result{Type: proto.TypeResult, ID: r.ID, Index: r.Index, Final: r.Final, URL: strings.ToValidUTF8(url, ""),
			Status: proto.StatusError, Error: &proto.Error{Code: proto.CodeInternal, Message: msg}})
	}
	id := json.RawMessage("null")
	if b, err := json.Marshal(v); err == nil {
		var env struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(b, &env) == nil && env.ID != nil && len(env.ID) <= MaxIDBytes+2 {
			id = env.ID
		}
	}
	return s.w.WriteJSON(proto.ErrorReply{Type: proto.TypeError, ID: id, Error: &proto.Error{Code: proto.CodeInternal, Message: msg}})
}

func (s *session) replyErrorID(id, code, msg string) {
	raw, _ := json.Marshal(id)
	s.replyError(raw, code, msg)
}

func (s *session) replyError(id json.RawMessage, code, msg string) {
	if id == nil {
		id = json.RawMessage("null")
	}
	s.write(proto.ErrorReply{Type: proto.TypeError, ID: id, Error: &proto.Error{Code: code, Message: msg}})
}

func stringField(raw json.RawMessage) (string, bool) {
	if raw == nil {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// fieldOf names the field a JSON decoding error is about, without echoing
// any of the message's values.
func fieldOf(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("field %q must be %s", te.Field, kindName(te.Type.Kind().String()))
	}
	return "it is not the expected shape"
}

func kindName(k string) string {
	switch k {
	case "slice":
		return "a list"
	case "struct", "ptr":
		return "an object"
	case "float64", "int", "int64":
		return "a number"
	case "bool":
		return "true or false"
	}
	return "a " + k
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
