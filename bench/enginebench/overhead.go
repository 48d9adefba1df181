package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os/exec"
	"runtime"
	"time"

	"github.com/imagediet/imgdiet/internal/codec"
)

// setting is one encode to time: a final candidate's Encoding, Quality
// and Effort, and the SHA-256 of the bytes the engine made with them.
type setting struct {
	Format   string `json:"format"`
	Encoding int    `json:"encoding"`
	Quality  int    `json:"quality"`
	Effort   int    `json:"effort"`
	Sum      string `json:"sum"`
}

// encoded is the timing of one setting.
type encoded struct {
	Format string  `json:"format"`
	CPUMs  float64 `json:"cpuMs"`
	Ms     float64 `json:"ms"`
	Bytes  int     `json:"bytes"`
	// Same reports that the encode gave the candidate's bytes again: it
	// did the work the engine's final encode did.
	Same bool `json:"same"`
}

// encodeOnce is the denominator of the search overhead: the file decoded
// and shrunk on load to Width (as the engine's source step does for the
// display box), held in memory, then each setting encoded once from it,
// CPU time (getrusage, every thread) around each encode.
func (b *bench) encodeOnce(req request) (reply, error) {
	src, err := b.file(req.Path)
	if err != nil {
		return reply{}, err
	}
	if req.Width <= 0 {
		return reply{}, errors.New("encodeonce needs the width")
	}
	img, err := codec.Load(src, req.Width, 10_000_000, false)
	if err != nil {
		return reply{}, err
	}
	defer img.Close()
	if err := codec.Materialize(img); err != nil {
		return reply{}, err
	}
	var rep reply
	for _, s := range req.Settings {
		runtime.GC()
		_, c0 := usage()
		t0 := time.Now()
		out, err := codec.Encode(img, codec.Settings{Encoding: codec.Encoding(s.Encoding), Quality: s.Quality, Effort: s.Effort, Strip: true})
		el := time.Since(t0)
		_, c1 := usage()
		if err != nil {
			return reply{}, err
		}
		sum := sha256.Sum256(out)
		rep.Encodes = append(rep.Encodes, encoded{Format: s.Format, CPUMs: ms(c1 - c0), Ms: ms(el), Bytes: len(out),
			Same: hex.EncodeToString(sum[:]) == s.Sum})
	}
	return rep, nil
}

// process runs Argv as a whole process and reports its wall time and the
// CPU time (user + system, every thread) the kernel charged it: wait4's
// rusage, what getrusage(RUSAGE_CHILDREN) adds up.
func process(req request) (reply, error) {
	if len(req.Argv) == 0 {
		return reply{}, errors.New("process needs argv")
	}
	cmd := exec.Command(req.Argv[0], req.Argv[1:]...)
	cmd.Env = append(cmd.Environ(), req.Env...)
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	el := time.Since(t0)
	if err != nil {
		return reply{}, errors.New(firstLine(err.Error() + ": " + string(out)))
	}
	st := cmd.ProcessState
	return reply{WallMs: ms(el), CPUMs: ms(st.UserTime() + st.SystemTime())}, nil
}
