package adversarial

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/imagediet/imgdiet/internal/datachan"
	"github.com/imagediet/imgdiet/internal/fetch"
	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/proto"
	"github.com/imagediet/imgdiet/internal/scan"
	"github.com/imagediet/imgdiet/internal/session"
	"github.com/imagediet/imgdiet/internal/store"
	"github.com/imagediet/imgdiet/internal/vipsrt"
	"github.com/rs/zerolog"
)

// inproc is the host's session layer run in this process over pipes,
// wired to the real fetcher, engine, store and data channel, for attacks
// that need a knob the binary does not offer (a resolver, a short
// timeout).
type inproc struct {
	*conn
	done chan error
}

// startSession runs session.Run with fcfg for the fetcher.
func startSession(t *testing.T, fcfg fetch.Config, timeout time.Duration) *inproc {
	t.Helper()
	logBuf := &syncBuf{}
	log := zerolog.New(logBuf).Level(zerolog.DebugLevel)
	vipsrt.Start(vipsrt.DefaultConfig(), log)
	held := store.New(store.Config{MaxBytes: 64 << 20})
	sc := scan.New(scan.Config{
		Fetcher:      fetch.New(fcfg, log),
		Engine:       optimize.New(optimize.Config{Log: log}),
		Held:         held,
		Log:          log,
		ImageTimeout: timeout,
	})
	cfg := session.Config{
		Limits:   proto.Limits{MaxImageBytes: 32 << 20, MaxPixels: 50_000_000, MaxImagesPerScan: 2000},
		Encoders: vipsrt.Encoders(),
		Libvips:  vipsrt.Version(),
		Scanner:  sc,
		Held:     held,
		StartData: func() (session.DataChannel, error) {
			return datachan.Start(datachan.Config{Origin: extOrigin}, held, log)
		},
		Log: log,
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &inproc{conn: newConn(t, inW), done: make(chan error, 1)}
	s.stderr = logBuf
	go func() {
		err := session.Run(inR, outW, cfg)
		outW.Close()
		s.done <- err
	}()
	go s.read(bufio.NewReader(outR))
	t.Cleanup(func() {
		inW.Close()
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			t.Error("session.Run did not return within 5 s of its input closing")
		}
	})
	return s
}

// flipResolver answers each name from a list, one entry per lookup; the
// last entry repeats. It stands for a DNS server an attacker controls.
type flipResolver struct {
	mu      sync.Mutex
	answers map[string][]string
	asked   map[string]int
}

func (r *flipResolver) LookupIPAddr(ctx context.Context, name string) ([]net.IPAddr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	list, ok := r.answers[name]
	if !ok {
		return nil, errors.New("no such host")
	}
	i := min(r.asked[name], len(list)-1)
	r.asked[name]++
	var out []net.IPAddr
	for _, s := range splitComma(list[i]) {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

func (r *flipResolver) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.asked[name]
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
