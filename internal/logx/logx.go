// Package logx builds the host's logger: zerolog, to stderr only, because
// stdout carries the native-messaging protocol. It also offers the one way
// the host names a URL in a log line: by its host name, never path or query.
package logx

import (
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// EnvLevel is the environment variable that sets the log level.
const EnvLevel = "IMGDIET_LOG_LEVEL"

// Config chooses where and how much the host logs.
type Config struct {
	// Out receives log lines; nil means os.Stderr.
	Out io.Writer
	// Level is a zerolog level name; "" means Default.
	Level string
	// Default is the level used when Level is empty or unknown.
	Default zerolog.Level
	// Console writes human-friendly lines instead of JSON.
	Console bool
}

// New returns a logger for cfg.
func New(cfg Config) zerolog.Logger {
	out := cfg.Out
	if out == nil {
		out = os.Stderr
	}
	level := cfg.Default
	if l, err := zerolog.ParseLevel(strings.ToLower(strings.TrimSpace(cfg.Level))); err == nil && cfg.Level != "" {
		level = l
	}
	if cfg.Console {
		out = zerolog.ConsoleWriter{Out: out, TimeFormat: time.TimeOnly, NoColor: true}
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}

// Host returns the host name of rawURL for a log line, or a placeholder.
// Paths, queries, fragments and credentials are never returned.
func Host(rawURL string) string {
	if strings.HasPrefix(rawURL, "data:") {
		return "(data)"
	}
	if strings.HasPrefix(rawURL, "blob:") {
		return "(blob)"
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return "(unparsable)"
	}
	return u.Hostname()
}
