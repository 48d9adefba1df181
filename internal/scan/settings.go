package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/imagediet/imgdiet/internal/proto"
)

// Settings are a scan's settings with every default filled in.
type Settings struct {
	Formats         []string
	Quality         int // 0 = auto
	Target          string
	Resize          bool
	KeepMetadata    bool
	MinSavingsBytes int64
	// ImageBudget bounds the work on one image's final answer
	// (optimize.Options.Budget).
	ImageBudget time.Duration
	// Variants asks for each image's responsive variants (variants.go).
	Variants bool
}

// Bounds of settings.imageBudgetSeconds, and its default: about 20 s of
// CPU per image keeps a 24-photo page's final pass under 4 minutes on two
// cores even when every photo uses all of it.
const (
	MinImageBudget     = time.Second
	MaxImageBudget     = 600 * time.Second
	DefaultImageBudget = 20 * time.Second
)

// DefaultSettings are the settings a scan without "settings" runs with.
func DefaultSettings() Settings {
	return Settings{
		Formats:         []string{"jpeg", "png", "webp", "avif"},
		Target:          "balanced",
		Resize:          true,
		MinSavingsBytes: 2048,
		ImageBudget:     DefaultImageBudget,
	}
}

var knownFormats = map[string]bool{"jpeg": true, "png": true, "webp": true, "avif": true, "gif": true, "svg": true}

// ParseSettings fills defaults into s and validates it. Its error is a
// bad_message naming the offending field.
func ParseSettings(s *proto.Settings) (Settings, *proto.Error) {
	out := DefaultSettings()
	if s == nil {
		return out, nil
	}
	bad := func(field, want string) (Settings, *proto.Error) {
		return Settings{}, proto.Errorf(proto.CodeBadMessage, "The setting %q must be %s.", field, want)
	}
	if s.Formats != nil {
		if len(s.Formats) == 0 {
			return bad("formats", "a non-empty list of jpeg, png, webp, avif, gif, svg")
		}
		seen := map[string]bool{}
		out.Formats = out.Formats[:0:0]
		for _, f := range s.Formats {
			f = strings.ToLower(f)
			if f == "jpg" {
				f = "jpeg"
			}
			if !knownFormats[f] {
				return bad("formats", "a list of jpeg, png, webp, avif, gif, svg")
			}
			if !seen[f] {
				seen[f] = true
				out.Formats = append(out.Formats, f)
			}
		}
	}
	if q := bytes.TrimSpace(s.Quality); len(q) > 0 && !bytes.Equal(q, []byte("null")) {
		var word string
		var num float64
		switch {
		case json.Unmarshal(q, &word) == nil:
			if word != "auto" {
				return bad("quality", `"auto" or a whole number from 1 to 100`)
			}
		case json.Unmarshal(q, &num) == nil:
			if num != float64(int(num)) || num < 1 || num > 100 {
				return bad("quality", `"auto" or a whole number from 1 to 100`)
			}
			out.Quality = int(num)
		default:
			return bad("quality", `"auto" or a whole number from 1 to 100`)
		}
	}
	switch s.Target {
	case "":
	case "high", "balanced", "small":
		out.Target = s.Target
	default:
		return bad("target", `"high", "balanced" or "small"`)
	}
	if s.Resize != nil {
		out.Resize = *s.Resize
	}
	if s.KeepMetadata != nil {
		out.KeepMetadata = *s.KeepMetadata
	}
	if s.MinSavingsBytes != nil {
		if *s.MinSavingsBytes < 0 {
			return bad("minSavingsBytes", "zero or more")
		}
		out.MinSavingsBytes = *s.MinSavingsBytes
	}
	if s.Variants != nil {
		out.Variants = *s.Variants
	}
	if b := s.ImageBudgetSeconds; b != nil {
		if math.IsNaN(*b) || *b < MinImageBudget.Seconds() || *b > MaxImageBudget.Seconds() {
			return bad("imageBudgetSeconds", "a number of seconds from 1 to 600")
		}
		out.ImageBudget = time.Duration(*b * float64(time.Second))
	}
	return out, nil
}

func (s Settings) String() string {
	return fmt.Sprintf("formats=%v quality=%d target=%s resize=%v budget=%v variants=%v", s.Formats, s.Quality, s.Target, s.Resize, s.ImageBudget, s.Variants)
}
