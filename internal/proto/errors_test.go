package proto

import (
	"errors"
	"fmt"
	"testing"
)

func TestPublic(t *testing.T) {
	cause := errors.New("vips_foo: /tmp/secret.jpg: broken\ngoroutine 1 [running]")
	tests := []struct {
		name     string
		err      error
		wantCode string
		wantMsg  string
	}{
		{"nil", nil, "", ""},
		{"plain", cause, CodeInternal, "Something went wrong inside Image Diet's helper."},
		{"direct", Errorf(CodeTimeout, "The image took longer than %d seconds.", 5), CodeTimeout, "The image took longer than 5 seconds."},
		{"wrapped", fmt.Errorf("ctx: %w", Wrap(CodeDecodeFailed, "The image is damaged.", cause)), CodeDecodeFailed, "The image is damaged."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Public(tt.err)
			if tt.err == nil {
				if got != nil {
					t.Fatalf("Public(nil) = %v", got)
				}
				return
			}
			if got.Code != tt.wantCode || got.Message != tt.wantMsg {
				t.Fatalf("Public = %q %q, want %q %q", got.Code, got.Message, tt.wantCode, tt.wantMsg)
			}
		})
	}
	if !errors.Is(Wrap(CodeDecodeFailed, "x", cause), cause) {
		t.Fatal("Wrap does not unwrap to its cause")
	}
}
