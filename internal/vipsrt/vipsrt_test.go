package vipsrt

import (
	"regexp"
	"testing"

	"github.com/rs/zerolog"
)

func TestStartReportsVersionAndEncoders(t *testing.T) {
	Start(DefaultConfig(), zerolog.Nop())
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(Version()) {
		t.Fatalf("version %q is not x.y.z", Version())
	}
	for _, want := range []string{"jpeg", "png", "webp", "avif", "gif"} {
		if !HasEncoder(want) {
			t.Errorf("encoder %s missing from %v", want, Encoders())
		}
	}
}
