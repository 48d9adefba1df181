package main

import (
	"github.com/imagediet/imgdiet/internal/datachan"
	"github.com/imagediet/imgdiet/internal/fetch"
	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/scan"
	"github.com/imagediet/imgdiet/internal/session"
	"github.com/imagediet/imgdiet/internal/store"
	"github.com/imagediet/imgdiet/internal/vipsrt"
	"github.com/rs/zerolog"
)

// wireScans connects scans, held results and the data channel to the
// session.
func wireScans(s *session.Config, cfg hostConfig, origin string, log zerolog.Logger) {
	held := store.New(store.Config{MaxBytes: cfg.MaxHeldBytes})
	fcfg := fetch.DefaultConfig()
	fcfg.MaxBytes = cfg.MaxImageBytes
	fetcher := fetch.New(fcfg, log)
	engine := optimize.New(optimize.Config{MaxPixels: cfg.MaxPixels, Log: log})
	s.Scanner = scan.New(scan.Config{
		MaxImages:     cfg.MaxImagesPerScan,
		MaxImageBytes: cfg.MaxImageBytes,
		Fetcher:       fetcher,
		Engine:        engine,
		Held:          held,
		Log:           log,
		Idle:          vipsrt.Trim,
	})
	s.Held = held
	s.StartData = func() (session.DataChannel, error) {
		return datachan.Start(datachan.Config{Origin: origin}, held, log)
	}
}
