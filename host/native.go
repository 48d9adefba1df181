package main

import (
	"errors"
	"os"

	"github.com/imagediet/imgdiet/internal/logx"
	"github.com/imagediet/imgdiet/internal/proto"
	"github.com/imagediet/imgdiet/internal/session"
	"github.com/imagediet/imgdiet/internal/vipsrt"
	"github.com/rs/zerolog"
)

// Exit statuses in native mode.
const (
	exitNativeOK     = 0
	exitNativeBroken = 3
)

// runNative serves the browser on stdin/stdout until stdin closes.
func runNative(origin string) int {
	log := logx.New(logx.Config{Level: os.Getenv(logx.EnvLevel), Default: zerolog.WarnLevel})
	cfg := defaultHostConfig()
	vipsrt.Start(vipsrt.DefaultConfig(), log)
	defer startProfile(log)()

	scfg := session.Config{
		Limits: proto.Limits{
			MaxImageBytes:    cfg.MaxImageBytes,
			MaxPixels:        cfg.MaxPixels,
			MaxImagesPerScan: cfg.MaxImagesPerScan,
		},
		Encoders: vipsrt.Encoders(),
		Libvips:  vipsrt.Version(),
		Log:      log,
	}
	wireScans(&scfg, cfg, origin, log)
	err := session.Run(os.Stdin, os.Stdout, scfg)
	if errors.Is(err, session.ErrFatal) {
		return exitNativeBroken
	}
	if err != nil {
		log.Error().Err(err).Msg("session ended with an error")
		return exitNativeBroken
	}
	return exitNativeOK
}
