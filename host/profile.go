package main

import (
	"os"
	"runtime/pprof"

	"github.com/rs/zerolog"
)

// envCPUProfile names a file the native host writes a Go CPU profile to
// while it serves, for benchmarks (scripts/bench.sh splits the host's own
// time into libvips and the rest with it). Off unless set; a profile holds
// function names and sample counts, nothing about images or pages.
const envCPUProfile = "IMGDIET_CPUPROFILE"

// startProfile starts the CPU profile named by envCPUProfile, if any, and
// returns the function that ends it.
func startProfile(log zerolog.Logger) func() {
	path := os.Getenv(envCPUProfile)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		log.Warn().Err(err).Msg("cpu profile not started")
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		log.Warn().Err(err).Msg("cpu profile not started")
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			log.Warn().Err(err).Msg("cpu profile not written")
		}
	}
}
