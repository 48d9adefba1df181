package proto

import (
	"errors"
	"fmt"
)

// Error codes of the wire contract (docs/protocol.md). They are stable:
// extensions and scripts match on them.
const (
	// Request errors.
	CodeBadMessage          = "bad_message"
	CodeUnknownType         = "unknown_type"
	CodeUnsupportedProtocol = "unsupported_protocol"
	CodeTooLarge            = "too_large"
	CodeNotFound            = "not_found"

	// Per-image errors.
	CodeBadURL            = "bad_url"
	CodeBlockedAddress    = "blocked_address"
	CodeFetchFailed       = "fetch_failed"
	CodeHTTPStatus        = "http_status"
	CodeTimeout           = "timeout"
	CodeTooManyPixels     = "too_many_pixels"
	CodeUnsupportedFormat = "unsupported_format"
	CodeDecodeFailed      = "decode_failed"
	CodeEncodeFailed      = "encode_failed"
	CodeCanceled          = "canceled"
	CodeInternal          = "internal"
)

// The one sentence each of these per-image codes is sent with, whichever
// layer finds the problem (the header reader or the decoder).
const (
	MsgDecodeFailed      = "The image is damaged or incomplete and cannot be read."
	MsgUnsupportedFormat = "The file is not an image format Image Diet can read."
)

// Error is an error with a stable contract code and a message that is safe
// to show a person: one plain sentence, no paths, URLs or library text.
// The wrapped cause is for logs and errors.Is only and is never sent.
type Error struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	HTTPStatus int    `json:"httpStatus,omitempty"`
	Err        error  `json:"-"`
}

// Error implements error with the public message and the code.
func (e *Error) Error() string {
	return e.Code + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code and a message formatted from format.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with code and msg that wraps cause.
func Wrap(code, msg string, cause error) *Error {
	return &Error{Code: code, Message: msg, Err: cause}
}

// Public returns the contract error carried by err. An error that carries
// none becomes CodeInternal with a generic message, so library text never
// reaches a user.
func Public(err error) *Error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return &Error{Code: CodeInternal, Message: "Something went wrong inside Image Diet's helper.", Err: err}
}
