package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var hostBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "imgdiet-host-test")
	if err != nil {
		panic(err)
	}
	hostBin = filepath.Join(dir, "imgdiet-host")
	out, err := exec.Command("go", "build", "-o", hostBin, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const testOrigin = "chrome-extension://fmeiijmoogoohmijkjchgkjnaeljpcno/"

// hostProc is the built host driven exactly as Chrome drives it.
type hostProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.Reader
	stderr *syncBuffer
	raw    *syncBuffer // every byte the host wrote to stdout
	exited chan struct{}
	code   int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startHost(t *testing.T, env ...string) *hostProc {
	t.Helper()
	cmd := exec.Command(hostBin, testOrigin)
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	h := &hostProc{t: t, cmd: cmd, stdin: stdin, stderr: &syncBuffer{}, raw: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout = io.MultiWriter(pw, h.raw)
	cmd.Stderr = h.stderr
	h.stdout = pr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		h.code = cmd.ProcessState.ExitCode()
		pw.Close()
		close(h.exited)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return h
}

func (h *hostProc) sendRaw(payload []byte) {
	h.t.Helper()
	var hdr [4]byte
	binary.LittleEndian.PutUint32(hdr[:], uint32(len(payload)))
	if _, err := h.stdin.Write(append(hdr[:], payload...)); err != nil {
		h.t.Fatalf("write to host: %v", err)
	}
}

func (h *hostProc) send(v any) {
	h.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		h.t.Fatal(err)
	}
	h.sendRaw(b)
}

func (h *hostProc) recv() map[string]any {
	h.t.Helper()
	type msg struct {
		m   map[string]any
		err error
	}
	ch := make(chan msg, 1)
	go func() {
		var hdr [4]byte
		if _, err := io.ReadFull(h.stdout, hdr[:]); err != nil {
			ch <- msg{err: err}
			return
		}
		n := binary.LittleEndian.Uint32(hdr[:])
		if n > 1<<20 {
			ch <- msg{err: io.ErrShortBuffer}
			return
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(h.stdout, buf); err != nil {
			ch <- msg{err: err}
			return
		}
		var m map[string]any
		ch <- msg{m: m, err: json.Unmarshal(buf, &m)}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			h.t.Fatalf("reading a frame: %v (stderr: %s)", r.err, h.stderr.String())
		}
		return r.m
	case <-time.After(10 * time.Second):
		h.t.Fatalf("no frame from host within 10 s (stderr: %s)", h.stderr.String())
	}
	return nil
}

// wait closes stdin and returns the exit code and how long the exit took.
func (h *hostProc) closeAndWait() (int, time.Duration) {
	start := time.Now()
	h.stdin.Close()
	go func() { _, _ = io.Copy(io.Discard, h.stdout) }()
	select {
	case <-h.exited:
	case <-time.After(5 * time.Second):
		h.t.Fatal("host did not exit within 5 s of stdin closing")
	}
	return h.code, time.Since(start)
}

func TestHelloHasEveryContractField(t *testing.T) {
	h := startHost(t)
	start := time.Now()
	h.send(map[string]any{"type": "hello", "id": "h1", "protocol": 1})
	m := h.recv()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("hello took %v", d)
	}
	if m["type"] != "hello" || m["id"] != "h1" || m["protocol"] != float64(1) {
		t.Fatalf("hello reply = %v", m)
	}
	host, _ := m["host"].(map[string]any)
	if host["name"] != "imgdiet-host" || host["version"] == "" {
		t.Errorf("host = %v", m["host"])
	}
	engine, _ := m["engine"].(map[string]any)
	if v, _ := engine["libvips"].(string); !strings.HasPrefix(v, "8.") {
		t.Errorf("engine = %v", m["engine"])
	}
	enc := map[string]bool{}
	for _, e := range m["encoders"].([]any) {
		enc[e.(string)] = true
	}
	for _, want := range []string{"jpeg", "png", "webp", "avif", "gif"} {
		if !enc[want] {
			t.Errorf("encoders %v lack %s", m["encoders"], want)
		}
	}
	limits, _ := m["limits"].(map[string]any)
	for _, k := range []string{"maxImageBytes", "maxPixels", "maxImagesPerScan"} {
		if v, _ := limits[k].(float64); v <= 0 {
			t.Errorf("limits.%s = %v", k, limits[k])
		}
	}
	if _, ok := m["data"]; !ok {
		t.Error("hello reply has no data field")
	}
	if code, d := h.closeAndWait(); code != 0 || d > time.Second {
		t.Errorf("exit %d after %v, want 0 within 1 s", code, d)
	}
	assertOnlyFrames(t, h.raw.String())
	assertNoStackTrace(t, h.stderr.String())
}

func TestMalformedMessagesGetErrorsAndHostKeepsServing(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		code    string
		id      any
	}{
		{"not json", `hello`, "bad_message", nil},
		{"array", `[1,2,3]`, "bad_message", nil},
		{"string", `"hello"`, "bad_message", nil},
		{"empty", ``, "bad_message", nil},
		{"invalid utf-8", "{\"type\":\"\xff\"}", "bad_message", nil},
		{"no type", `{"id":"x1"}`, "bad_message", "x1"},
		{"type not string", `{"type":5,"id":"x2"}`, "bad_message", "x2"},
		{"no id", `{"type":"hello","protocol":1}`, "bad_message", nil},
		{"id not string", `{"type":"hello","id":7,"protocol":1}`, "bad_message", nil},
		{"unknown type", `{"type":"explode","id":"x3"}`, "unknown_type", "x3"},
		{"protocol 2", `{"type":"hello","id":"x4","protocol":2}`, "unsupported_protocol", "x4"},
		{"protocol mistyped", `{"type":"hello","id":"x5","protocol":"1"}`, "bad_message", "x5"},
		{"cancel unknown scan", `{"type":"cancel","id":"x6","scan":"nope"}`, "not_found", "x6"},
		{"cancel without scan", `{"type":"cancel","id":"x7"}`, "bad_message", "x7"},
	}
	h := startHost(t)
	for _, tt := range tests {
		h.sendRaw([]byte(tt.payload))
		m := h.recv()
		e, _ := m["error"].(map[string]any)
		if m["type"] != "error" || e["code"] != tt.code || m["id"] != tt.id {
			t.Errorf("%s: reply %v, want error %s with id %v", tt.name, m, tt.code, tt.id)
		}
		if msg, _ := e["message"].(string); msg == "" || strings.Contains(msg, "\n") {
			t.Errorf("%s: message %q is not one plain sentence", tt.name, msg)
		}
	}
	h.send(map[string]any{"type": "hello", "id": "after", "protocol": 1})
	if m := h.recv(); m["type"] != "hello" || m["id"] != "after" {
		t.Fatalf("hello after malformed messages = %v", m)
	}
	if code, _ := h.closeAndWait(); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	assertOnlyFrames(t, h.raw.String())
	assertNoStackTrace(t, h.stderr.String())
}

func TestFatalFramesEndNonZero(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"65 MiB length", binary.LittleEndian.AppendUint32(nil, 65<<20)},
		{"stream ends inside a frame", append(binary.LittleEndian.AppendUint32(nil, 100), `{"type":`...)},
		{"stream ends inside the length", []byte{1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startHost(t)
			if _, err := h.stdin.Write(tt.in); err != nil {
				t.Fatal(err)
			}
			code, _ := h.closeAndWait()
			if code == 0 {
				t.Fatalf("exit 0 after %s, want non-zero", tt.name)
			}
			assertOnlyFrames(t, h.raw.String())
			assertNoStackTrace(t, h.stderr.String())
		})
	}
}

func TestCLIUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"--help"}, 0},
		{[]string{"version"}, 0},
		{[]string{"--frobnicate"}, 2},
		{nil, 2},
	}
	for _, tt := range tests {
		cmd := exec.Command(hostBin, tt.args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		_ = cmd.Run()
		if got := cmd.ProcessState.ExitCode(); got != tt.code {
			t.Errorf("%v: exit %d, want %d", tt.args, got, tt.code)
		}
		if tt.code == 2 && !strings.Contains(stderr.String(), "Usage:") {
			t.Errorf("%v: no usage on stderr: %q", tt.args, stderr.String())
		}
	}
}

// assertOnlyFrames checks that stdout holds nothing but whole frames of
// JSON objects.
func assertOnlyFrames(t *testing.T, out string) {
	t.Helper()
	b := []byte(out)
	for len(b) > 0 {
		if len(b) < 4 {
			t.Fatalf("stdout has %d stray bytes", len(b))
		}
		n := int(binary.LittleEndian.Uint32(b))
		if n > len(b)-4 || n > 1<<20 {
			t.Fatalf("stdout frame of %d bytes overruns (%d left)", n, len(b)-4)
		}
		var m map[string]any
		if err := json.Unmarshal(b[4:4+n], &m); err != nil {
			t.Fatalf("stdout frame is not a JSON object: %v", err)
		}
		b = b[4+n:]
	}
}

func assertNoStackTrace(t *testing.T, stderr string) {
	t.Helper()
	for _, s := range []string{"goroutine ", "panic:", ".go:"} {
		if strings.Contains(stderr, s) {
			t.Fatalf("stderr carries a stack trace: %q", stderr)
		}
	}
}

// TestCPUProfileOptIn checks the benchmark's profile switch: without the
// variable nothing is written; with it, the host writes a gzip-compressed
// pprof profile when its session ends.
func TestCPUProfileOptIn(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "host.pprof")
	for _, on := range []bool{false, true} {
		var env []string
		if on {
			env = append(env, envCPUProfile+"="+path)
		}
		h := startHost(t, env...)
		h.send(map[string]any{"type": "hello", "id": "h1", "protocol": 1})
		if m := h.recv(); m["type"] != "hello" {
			t.Fatalf("reply %v", m)
		}
		if code, _ := h.closeAndWait(); code != 0 {
			t.Fatalf("exit code %d (stderr: %s)", code, h.stderr.String())
		}
		b, err := os.ReadFile(path)
		switch {
		case !on && !errors.Is(err, os.ErrNotExist):
			t.Fatalf("without %s: profile file %v, %d bytes", envCPUProfile, err, len(b))
		case on && err != nil:
			t.Fatal(err)
		case on && (len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b):
			t.Fatalf("profile is not gzip data: %d bytes", len(b))
		}
	}
}
