package session_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/imagediet/imgdiet/internal/proto"
	"github.com/imagediet/imgdiet/internal/scan"
	"github.com/imagediet/imgdiet/internal/session"
	"github.com/imagediet/imgdiet/internal/store"
	"github.com/rs/zerolog"
)

// bigScanner answers every scan with one result whose URL and candidates
// are as large as the request asks (images[0].url), then done.
type bigScanner struct{}

func (bigScanner) Scan(ctx context.Context, req *proto.ScanRequest, emit func(v any) error) {
	var cands []proto.Candidate
	for i := 0; i < 40_000; i++ {
		cands = append(cands, proto.Candidate{Format: "webp", Bytes: int64(i), Width: 1, Height: 1})
	}
	emit(proto.Result{Type: proto.TypeResult, ID: req.ID, Index: 0, Final: true, URL: "https://a.example/x.png", Status: proto.StatusOptimal, Candidates: cands})
	emit(proto.Done{Type: proto.TypeDone, ID: req.ID})
}

type reply struct {
	Type   string          `json:"type"`
	ID     json.RawMessage `json:"id"`
	Index  int             `json:"index"`
	Final  bool            `json:"final"`
	Status string          `json:"status"`
	Error  *proto.Error    `json:"error"`
}

// run starts a session over pipes and returns a sender and a receiver.
func run(t *testing.T, cfg session.Config) (func(string), func() reply) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan struct{})
	go func() {
		session.Run(inR, outW, cfg)
		outW.Close()
		close(done)
	}()
	msgs := make(chan reply, 64)
	go func() {
		br := bufio.NewReader(outR)
		for {
			var hdr [4]byte
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				close(msgs)
				return
			}
			b := make([]byte, binary.LittleEndian.Uint32(hdr[:]))
			io.ReadFull(br, b)
			var r reply
			if json.Unmarshal(b, &r) != nil {
				r.Type = "!bad " + string(b[:min(len(b), 100)])
			}
			msgs <- r
		}
	}()
	t.Cleanup(func() {
		inW.Close()
		<-done
	})
	send := func(s string) {
		b := binary.LittleEndian.AppendUint32(nil, uint32(len(s)))
		if _, err := inW.Write(append(b, s...)); err != nil {
			t.Fatal(err)
		}
	}
	recv := func() reply {
		t.Helper()
		select {
		case r, ok := <-msgs:
			if !ok {
				t.Fatal("the session closed its output")
			}
			return r
		case <-time.After(2 * time.Second):
			t.Fatal("no reply within 2 s")
		}
		return reply{}
	}
	return send, recv
}

// TestOversizedIDGetsAnError: an id that would push a reply past 1 MiB is
// refused with bad_message naming the field, for every request type; the
// session keeps serving.
func TestOversizedIDGetsAnError(t *testing.T) {
	held := store.New(store.Config{})
	send, recv := run(t, session.Config{Scanner: bigScanner{}, Held: held, Log: zerolog.Nop()})
	long := strings.Repeat("i", 1100<<10)
	for _, msg := range []string{
		`{"type":"hello","id":"` + long + `","protocol":1}`,
		`{"type":"release","id":"` + long + `","all":true}`,
		`{"type":"scan","id":"` + long + `","page":{"url":"https://a.example/"},"images":[]}`,
		`{"type":"cancel","id":"` + long + `","scan":"x"}`,
		`{"type":"no-such-type","id":"` + long + `"}`,
		`{"type":"hello","id":"` + strings.Repeat("é", session.MaxIDBytes/2+1) + `","protocol":1}`,
	} {
		send(msg)
		r := recv()
		if r.Type != "error" || r.Error == nil || r.Error.Code != proto.CodeBadMessage || !strings.Contains(r.Error.Message, `"id"`) || string(r.ID) != "null" {
			t.Errorf("%.60s…: %+v %v, want bad_message naming \"id\"", msg, r, r.Error)
		}
	}
	// An id at the cap is still served.
	id := strings.Repeat("i", session.MaxIDBytes)
	send(`{"type":"release","id":"` + id + `","all":true}`)
	if r := recv(); r.Type != "released" {
		t.Fatalf("release with a %d-byte id: %+v", len(id), r)
	}
}

// TestOversizedReplyIsReplaced: a result that would exceed the 1 MiB frame
// cap arrives as an error result for the same image, and the scan's done
// follows; nothing is dropped silently.
func TestOversizedReplyIsReplaced(t *testing.T) {
	send, recv := run(t, session.Config{Scanner: bigScanner{}, Log: zerolog.Nop()})
	send(`{"type":"scan","id":"s1","page":{"url":"https://a.example/"},"images":[{"url":"https://a.example/x.png"}]}`)
	r := recv()
	if r.Type != "result" || r.Index != 0 || !r.Final || r.Status != proto.StatusError || r.Error == nil || r.Error.Code != proto.CodeInternal || string(r.ID) != `"s1"` {
		t.Fatalf("oversized result arrived as %+v %v", r, r.Error)
	}
	if d := recv(); d.Type != "done" || string(d.ID) != `"s1"` {
		t.Fatalf("then %+v, want done", d)
	}
}

// TestHostileSrcsetWidths: every images[].srcsetWidths the contract
// refuses gets bad_message naming the field, the request's id, and the
// session keeps serving.
func TestHostileSrcsetWidths(t *testing.T) {
	sc := scan.New(scan.Config{Log: zerolog.Nop()})
	send, recv := run(t, session.Config{Scanner: sc, Log: zerolog.Nop()})
	many := strings.TrimSuffix(strings.Repeat("100,", proto.MaxSrcsetWidths+1), ",")
	for _, ws := range []string{
		`"640"`, `640`, `{"w":640}`, `[640.5]`, `["640"]`, `[true]`, `[[640]]`, `[null]`, `[0]`, `[-640]`,
		`[65536]`, `[1e9]`, `[1e400]`, `[9223372036854775808]`, `[` + many + `]`,
	} {
		send(`{"type":"scan","id":"s1","page":{"url":"https://a.example/"},"images":[{"url":"https://a.example/x.png","displayWidth":300,"srcsetWidths":` + ws + `}]}`)
		r := recv()
		if r.Type != "error" || r.Error == nil || r.Error.Code != proto.CodeBadMessage || !strings.Contains(r.Error.Message, "srcsetWidths") || string(r.ID) != `"s1"` {
			t.Errorf("srcsetWidths %.40s: %+v %v, want bad_message naming srcsetWidths", ws, r, r.Error)
		}
	}
	send(`{"type":"hello","id":"h1","protocol":1}`)
	if r := recv(); r.Type != "hello" {
		t.Fatalf("after the refusals: %+v, want hello", r)
	}
}
