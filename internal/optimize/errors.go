package optimize

// Failures, and the sentence a person reads for each. The steps return
// internal errors: libvips' own text travels inside them (*codec.Error)
// and reaches the debug log, never the caller. public maps them at the
// edge, as imgproxy's vips/errors.go does.

import (
	"context"
	"errors"

	"github.com/imagediet/imgdiet/internal/codec"
	"github.com/imagediet/imgdiet/internal/proto"
)

var (
	errCanceled    = proto.Errorf(proto.CodeCanceled, "The optimization was canceled.")
	errUnsupported = proto.Errorf(proto.CodeUnsupportedFormat, proto.MsgUnsupportedFormat)
	errDecode      = proto.Errorf(proto.CodeDecodeFailed, proto.MsgDecodeFailed)
	errEncode      = proto.Errorf(proto.CodeEncodeFailed, "The image could not be re-encoded.")
	errShape       = proto.Errorf(proto.CodeEncodeFailed, "An encoded image did not match its source.")
)

// errBudget ends a call whose Options.Budget ran out: the work stops and
// what was checked so far is the answer.
var errBudget = errors.New("the image's time budget ran out")

// errTooLarge stops a search whose encodes outgrew the source or the
// smallest candidate of another format.
var errTooLarge = errors.New("encode larger than what it must beat")

// canceled returns errBudget when ctx ended with the time budget,
// errCanceled when it was canceled, else nil.
func canceled(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	if context.Cause(ctx) == errBudget {
		return errBudget
	}
	return errCanceled
}

// public maps err from a step on im (nil before the source was opened) to
// the error the caller sees: a *proto.Error passes as it is; a libvips
// failure is logged with libvips' text and becomes decode_failed when the
// source itself does not decode strictly, else encode_failed.
func (e *Engine) public(err error, im *pic) error {
	var pe *proto.Error
	if errors.As(err, &pe) {
		return err
	}
	var ce *codec.Error
	if errors.As(err, &ce) {
		e.cfg.Log.Debug().Str("op", ce.Op).Str("libvips", ce.Detail).Msg("libvips failed")
	} else {
		e.cfg.Log.Debug().Err(err).Msg("optimization failed")
	}
	if im == nil || !im.intact() {
		return errDecode
	}
	return errEncode
}
