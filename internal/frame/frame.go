// Package frame reads and writes Chrome native-messaging frames: a 32-bit
// little-endian length followed by that many bytes of UTF-8 JSON.
package frame

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"unicode/utf8"
)

// Size limits from the wire contract.
const (
	// MaxIn is the largest frame a browser may send the host (64 MiB).
	MaxIn = 64 << 20
	// MaxOut is the largest frame the host may send a browser (1 MiB);
	// Chrome drops the port on anything larger.
	MaxOut = 1 << 20
)

// Errors returned by Reader.Read. ErrTooLarge and ErrTruncated end a
// session: the stream can no longer be resynchronised.
var (
	ErrTooLarge  = errors.New("frame: declared length exceeds the limit")
	ErrTruncated = errors.New("frame: stream ended inside a frame")
)

// ErrOutTooLarge is returned by Writer when a message would exceed MaxOut.
var ErrOutTooLarge = errors.New("frame: message exceeds 1 MiB")

// Reader reads frames from a stream.
type Reader struct {
	r   io.Reader
	max uint32
}

// NewReader returns a Reader that refuses frames larger than MaxIn.
func NewReader(r io.Reader) *Reader { return &Reader{r: r, max: MaxIn} }

// Read returns the next frame's payload. At a clean end of stream it
// returns io.EOF. A declared length above the limit returns ErrTooLarge
// before anything is allocated; a stream that ends inside a frame returns
// ErrTruncated. The payload is not validated; see Check.
func (r *Reader) Read() ([]byte, error) {
	var hdr [4]byte
	n, err := io.ReadFull(r.r, hdr[:])
	if err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrTruncated
		}
		return nil, err
	}
	size := binary.LittleEndian.Uint32(hdr[:])
	if size > r.max {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, size)
	}
	// Grow with what really arrives, so a stream that only claims a large
	// frame cannot make the host allocate it.
	var buf bytes.Buffer
	if size <= 64<<10 {
		buf.Grow(int(size))
	}
	got, err := io.CopyN(&buf, r.r, int64(size))
	if got < int64(size) {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, ErrTruncated
		}
		return nil, err
	}
	return buf.Bytes(), nil
}

// Check reports whether payload is a message the host can parse: valid
// UTF-8 holding one JSON object. Its errors are safe to show.
func Check(payload []byte) error {
	if !utf8.Valid(payload) {
		return errors.New("the message is not valid UTF-8")
	}
	p := bytes.TrimLeft(payload, " \t\r\n")
	if len(p) == 0 {
		return errors.New("the message is empty")
	}
	if !json.Valid(p) {
		return errors.New("the message is not valid JSON")
	}
	if p[0] != '{' {
		return errors.New("the message is not a JSON object")
	}
	return nil
}

// Writer writes frames to a stream. It is safe for concurrent use: each
// frame is written whole, never interleaved with another.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	max int
}

// NewWriter returns a Writer that refuses messages larger than MaxOut.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w, max: MaxOut} }

// WriteJSON marshals v and writes it as one frame.
func (w *Writer) WriteJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return w.Write(b)
}

// Write writes payload as one frame. A payload larger than MaxOut is not
// written and ErrOutTooLarge is returned.
func (w *Writer) Write(payload []byte) error {
	if len(payload) > w.max {
		return fmt.Errorf("%w: %d bytes", ErrOutTooLarge, len(payload))
	}
	buf := make([]byte, 4+len(payload))
	binary.LittleEndian.PutUint32(buf, uint32(len(payload)))
	copy(buf[4:], payload)
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := w.w.Write(buf)
	return err
}
