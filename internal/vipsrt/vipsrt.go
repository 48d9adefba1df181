// Package vipsrt starts libvips once for the process, routes its log
// messages into the host's logger and reports what this build can encode.
package vipsrt

import (
	"runtime"
	"sort"
	"sync"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/rs/zerolog"
)

// Config bounds libvips' threads and operation cache.
type Config struct {
	// Concurrency is the number of libvips worker threads per operation;
	// 0 means one per core.
	Concurrency int
	// CacheMem is the operation cache's memory bound in bytes.
	CacheMem int
	// CacheOps is the operation cache's size in operations.
	CacheOps int
	// CacheFiles is the number of files the cache may hold open.
	CacheFiles int
}

// DefaultConfig returns the bounds the host runs with: one thread per core
// and a small cache (the host rarely repeats an operation).
func DefaultConfig() Config {
	return Config{Concurrency: runtime.NumCPU(), CacheMem: 32 << 20, CacheOps: 50, CacheFiles: 0}
}

var (
	once     sync.Once
	encoders []string
)

// Start starts libvips with cfg and routes its messages to log. It is safe
// to call more than once; only the first call has an effect.
func Start(cfg Config, log zerolog.Logger) {
	once.Do(func() {
		l := log.With().Str("component", "libvips").Logger()
		vips.LoggingSettings(func(domain string, level vips.LogLevel, msg string) {
			ev := l.Debug()
			switch level {
			case vips.LogLevelError, vips.LogLevelCritical:
				ev = l.Error()
			case vips.LogLevelWarning:
				ev = l.Warn()
			}
			// libvips messages can name a temporary file or carry a stack
			// trace from govips; keep the domain only at levels above debug.
			if level > vips.LogLevelWarning {
				ev.Str("domain", domain).Msg(firstLine(msg))
				return
			}
			ev.Str("domain", domain).Msg("libvips reported a problem")
		}, vips.LogLevelWarning)
		if cfg.Concurrency <= 0 {
			cfg.Concurrency = runtime.NumCPU()
		}
		vips.Startup(&vips.Config{
			ConcurrencyLevel: cfg.Concurrency,
			MaxCacheMem:      cfg.CacheMem,
			MaxCacheSize:     cfg.CacheOps,
			MaxCacheFiles:    cfg.CacheFiles,
		})
		encoders = probeEncoders()
	})
}

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

// Version is the libvips version string (x.y.z) this process runs with.
func Version() string { return vips.Version }

// Encoders lists the output formats this build really encodes, found by
// encoding a tiny image in each. Start must have been called.
func Encoders() []string { return append([]string(nil), encoders...) }

// HasEncoder reports whether format is among Encoders.
func HasEncoder(format string) bool {
	for _, e := range encoders {
		if e == format {
			return true
		}
	}
	return false
}

func probeEncoders() []string {
	img, err := vips.Black(16, 16)
	if err != nil {
		return nil
	}
	defer img.Close()
	if err := img.ToColorSpace(vips.InterpretationSRGB); err != nil {
		return nil
	}
	tries := map[string]func() ([]byte, *vips.ImageMetadata, error){
		"jpeg": func() ([]byte, *vips.ImageMetadata, error) { return img.ExportJpeg(vips.NewJpegExportParams()) },
		"png":  func() ([]byte, *vips.ImageMetadata, error) { return img.ExportPng(vips.NewPngExportParams()) },
		"webp": func() ([]byte, *vips.ImageMetadata, error) { return img.ExportWebp(vips.NewWebpExportParams()) },
		"avif": func() ([]byte, *vips.ImageMetadata, error) {
			p := vips.NewAvifExportParams()
			p.Effort = 1
			return img.ExportAvif(p)
		},
		"gif": func() ([]byte, *vips.ImageMetadata, error) { return img.ExportGIF(vips.NewGifExportParams()) },
	}
	var out []string
	for name, f := range tries {
		if b, _, err := f(); err == nil && len(b) > 0 {
			out = append(out, name)
		}
	}
	order := map[string]int{"jpeg": 0, "png": 1, "webp": 2, "avif": 3, "gif": 4}
	sort.Slice(out, func(i, j int) bool { return order[out[i]] < order[out[j]] })
	return out
}
