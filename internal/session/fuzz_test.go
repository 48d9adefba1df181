package session_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imagediet/imgdiet/internal/fetch"
	"github.com/imagediet/imgdiet/internal/frame"
	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/proto"
	"github.com/imagediet/imgdiet/internal/scan"
	"github.com/imagediet/imgdiet/internal/session"
	"github.com/imagediet/imgdiet/internal/store"
	"github.com/rs/zerolog"
)

// refuseFetcher refuses every URL, so fuzzed scans never touch a network.
type refuseFetcher struct{}

func (refuseFetcher) Fetch(ctx context.Context, page, image string) (*fetch.Response, error) {
	return nil, proto.Errorf(proto.CodeBlockedAddress, "Refused in the fuzz test.")
}

// failEngine fails every image, so fuzzed scans never start libvips.
type failEngine struct{}

func (failEngine) Optimize(ctx context.Context, src []byte, opt optimize.Options) (optimize.Report, error) {
	return optimize.Report{}, proto.Errorf(proto.CodeDecodeFailed, "Not decoded in the fuzz test.")
}

func (failEngine) Variants(ctx context.Context, src []byte, req optimize.VariantRequest) (optimize.VariantReport, error) {
	return optimize.VariantReport{}, proto.Errorf(proto.CodeDecodeFailed, "Not decoded in the fuzz test.")
}

func framed(s string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(s)))
	return append(b, s...)
}

var replyTypes = map[string]bool{"hello": true, "result": true, "done": true, "released": true, "error": true, "variants": true}

// FuzzHandle feeds arbitrary bytes to session.Run through a pipe, as the
// browser's stdin, with the real scanner (behind a fetcher and an engine
// that refuse everything). Every reply must be a well-formed frame of at
// most 1 MiB holding a JSON object with a known type and an id; a stream
// of whole frames must end cleanly and still answer a final hello; a
// broken stream must end with ErrFatal; Run must return promptly.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","id":"h","protocol":1}`,
		`{"type":"scan","id":"s","page":{"url":"https://news.example/"},"images":[{"url":"http://127.0.0.1/a.png"},{"url":"blob:x","data":"iVBORw0KGgo="}]}`,
		`{"type":"scan","id":"s","page":{"url":"https://a.example/"},"settings":{"formats":["jpeg","avif"],"quality":50,"target":"small","resize":false,"keepMetadata":true,"minSavingsBytes":0},"images":[{"url":"https://a.example/x.jpg","displayWidth":10,"displayHeight":5,"dpr":2}]}`,
		`{"type":"scan","id":"s","page":{"url":"x"},"settings":{"quality":"auto","formats":[]},"images":[]}`,
		`{"type":"scan","id":"s","page":{"url":"https://a.example/"},"settings":{"variants":true},"images":[{"url":"blob:x","data":"iVBORw0KGgo=","displayWidth":10,"srcsetWidths":[1,65535]},{"url":"https://a.example/y.jpg","srcsetWidths":[0]}]}`,
		`{"type":"cancel","id":"c","scan":"s"}`,
		`{"type":"release","id":"r","keys":["a","b"]}`,
		`{"type":"release","id":"r","all":true}`,
		`{"type":5,"id":null}`,
		`[1,2]`,
		"{\"type\":\"\xff\"}",
	} {
		f.Add(framed(s))
	}
	f.Add(append(framed(`{"type":"hello","id":"h","protocol":1}`), framed(`{"type":"scan","id":"s","page":{"url":"https://p.example/"},"images":[{"url":"https://p.example/a"}]}`)...))
	// Ids past MaxIDBytes, which every reply would echo.
	f.Add(framed(`{"type":"release","id":"` + strings.Repeat("i", 1100) + `","all":true}`))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{10, 0, 0, 0, '{'})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, stream []byte) {
		clean := true
		r := frame.NewReader(bytes.NewReader(stream))
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				clean = false
				break
			}
		}
		in := stream
		if clean {
			in = append(append([]byte(nil), stream...), framed(`{"type":"hello","id":"fuzz-final","protocol":1}`)...)
		}
		held := store.New(store.Config{MaxBytes: 1 << 20})
		cfg := session.Config{
			Limits:       proto.Limits{MaxImageBytes: 1 << 20, MaxPixels: 1 << 20, MaxImagesPerScan: 50},
			Encoders:     []string{"jpeg", "png"},
			Libvips:      "fuzz",
			Scanner:      scan.New(scan.Config{MaxImages: 50, Workers: 2, Fetcher: refuseFetcher{}, Engine: failEngine{}, Held: held, Log: zerolog.Nop()}),
			Held:         held,
			Log:          zerolog.Nop(),
			DrainTimeout: 200 * time.Millisecond,
		}
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		go func() {
			inW.Write(in)
			inW.Close()
		}()
		runErr := make(chan error, 1)
		go func() {
			err := session.Run(inR, outW, cfg)
			inR.Close()
			outW.Close()
			runErr <- err
		}()
		sawFinal := false
		br := bufio.NewReader(outR)
		for {
			var hdr [4]byte
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				if err != io.EOF {
					t.Fatalf("reply stream broke inside a header: %v", err)
				}
				break
			}
			n := binary.LittleEndian.Uint32(hdr[:])
			if n > frame.MaxOut {
				t.Fatalf("reply of %d bytes exceeds 1 MiB", n)
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(br, b); err != nil {
				t.Fatalf("reply truncated: %v", err)
			}
			var m struct {
				Type string          `json:"type"`
				ID   json.RawMessage `json:"id"`
			}
			if err := json.Unmarshal(b, &m); err != nil || !replyTypes[m.Type] || m.ID == nil {
				t.Fatalf("bad reply %q", b)
			}
			if m.Type == "hello" && string(m.ID) == `"fuzz-final"` {
				sawFinal = true
			}
		}
		select {
		case err := <-runErr:
			switch {
			case clean && err != nil:
				t.Fatalf("whole frames, but Run returned %v", err)
			case !clean && !errors.Is(err, session.ErrFatal):
				t.Fatalf("broken stream, but Run returned %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return within 5 s of the input ending")
		}
		if clean && !sawFinal {
			t.Fatal("the final hello after whole frames was not answered")
		}
	})
}
