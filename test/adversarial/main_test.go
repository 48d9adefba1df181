package adversarial

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Public-looking addresses. Inside the test namespace they are bound to
// loopback; outside it nothing ever connects to them.
const (
	pubA = "93.184.216.34"
	pubB = "93.184.216.35"
)

const (
	extID     = "fmeiijmoogoohmijkjchgkjnaeljpcno"
	extOrigin = "chrome-extension://" + extID
)

var (
	hostBin string
	// inNetns is true when the tests run inside the isolated namespace.
	inNetns bool
)

func TestMain(m *testing.M) {
	if bin := os.Getenv("IMGDIET_ADV_HOST"); bin != "" {
		hostBin, inNetns = bin, true
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "imgdiet-adversarial")
	if err != nil {
		panic(err)
	}
	hostBin = filepath.Join(dir, "imgdiet-host")
	out, err := exec.Command("go", "build", "-o", hostBin, "github.com/imagediet/imgdiet/host").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := 0
	if os.Getenv("IMGDIET_ADV_NO_NETNS") == "" {
		var ok bool
		code, ok = enterNetns([]string{"IMGDIET_ADV_HOST=" + hostBin})
		if !ok {
			fmt.Fprintln(os.Stderr, "adversarial: no network namespace here; tests that need one are skipped")
			code = m.Run()
		}
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// needNetns skips a test that must not run on the machine's real network.
func needNetns(t *testing.T) {
	t.Helper()
	if !inNetns {
		t.Skip("needs an isolated network namespace (unshare --user --net)")
	}
}

// syncBuf is a goroutine-safe buffer for the host's stderr.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// msg is any message from the host; fields absent from a type stay zero.
type msg struct {
	Type     string          `json:"type"`
	ID       json.RawMessage `json:"id"`
	Index    int             `json:"index"`
	Final    bool            `json:"final"`
	URL      string          `json:"url"`
	Status   string          `json:"status"`
	Best     *candidate      `json:"best"`
	Cands    []candidate     `json:"candidates"`
	Original *struct {
		Bytes  int64  `json:"bytes"`
		Format string `json:"format"`
	} `json:"original"`
	Error    *wireError     `json:"error"`
	Canceled bool           `json:"canceled"`
	Summary  map[string]any `json:"summary"`
	Data     *struct {
		URL   string `json:"url"`
		Token string `json:"token"`
	} `json:"data"`
	Count int `json:"count"`
	raw   []byte
}

type candidate struct {
	Key    string `json:"key"`
	Format string `json:"format"`
	Bytes  int64  `json:"bytes"`
}

type wireError struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	HTTPStatus int    `json:"httpStatus"`
}

func (m *msg) id() string {
	var s string
	_ = json.Unmarshal(m.ID, &s)
	return s
}

// conn is a native-messaging client: frames to stdin, messages from
// stdout, the log from stderr.
type conn struct {
	t      *testing.T
	stdin  io.WriteCloser
	msgs   chan *msg
	stderr *syncBuf
}

// host is the built binary, started as Chrome starts it.
type host struct {
	*conn
	cmd    *exec.Cmd
	exited chan struct{}
	code   int
}

func startHost(t *testing.T, env ...string) *host {
	t.Helper()
	cmd := exec.Command(hostBin, extOrigin+"/")
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = filepath.Dir(hostBin)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h := &host{conn: newConn(t, stdin), cmd: cmd, exited: make(chan struct{})}
	cmd.Stderr = h.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		h.read(bufio.NewReader(stdout))
		_ = h.cmd.Wait()
		h.code = h.cmd.ProcessState.ExitCode()
		close(h.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-h.exited
	})
	return h
}

func newConn(t *testing.T, stdin io.WriteCloser) *conn {
	return &conn{t: t, stdin: stdin, msgs: make(chan *msg, 4096), stderr: &syncBuf{}}
}

// read decodes frames from r until it ends, then closes msgs.
func (h *conn) read(r io.Reader) {
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			close(h.msgs)
			return
		}
		n := binary.LittleEndian.Uint32(hdr[:])
		if n > 1<<20 {
			h.msgs <- &msg{Type: "!oversized frame " + strconv.Itoa(int(n))}
			close(h.msgs)
			return
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			close(h.msgs)
			return
		}
		m := &msg{raw: b}
		if err := json.Unmarshal(b, m); err != nil {
			m.Type = "!not json: " + string(b)
		}
		h.msgs <- m
	}
}

func (h *conn) sendRaw(p []byte) {
	h.t.Helper()
	var hdr [4]byte
	binary.LittleEndian.PutUint32(hdr[:], uint32(len(p)))
	if _, err := h.stdin.Write(append(hdr[:], p...)); err != nil {
		h.t.Fatalf("writing to the host: %v", err)
	}
}

func (h *conn) send(v any) {
	h.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		h.t.Fatal(err)
	}
	h.sendRaw(b)
}

func (h *conn) recv(timeout time.Duration) *msg {
	h.t.Helper()
	select {
	case m, ok := <-h.msgs:
		if !ok {
			h.t.Fatalf("the host closed stdout (stderr: %s)", h.stderr.String())
		}
		if strings.HasPrefix(m.Type, "!") {
			h.t.Fatalf("bad frame from the host: %s", m.Type)
		}
		return m
	case <-time.After(timeout):
		h.t.Fatalf("no message from the host within %v (stderr: %s)", timeout, h.stderr.String())
	}
	return nil
}

// hello says hello and returns the data channel's URL and token.
func (h *conn) hello(id string) (string, string) {
	h.t.Helper()
	h.send(map[string]any{"type": "hello", "id": id, "protocol": 1})
	for {
		m := h.recv(10 * time.Second)
		if m.id() != id {
			continue // a late message of an earlier scan
		}
		if m.Type != "hello" || m.Data == nil {
			h.t.Fatalf("hello %s answered %s", id, m.raw)
		}
		return m.Data.URL, m.Data.Token
	}
}

// scanResult holds a scan's final results by index and its done message.
type scanResult struct {
	finals map[int]*msg
	done   *msg
}

// scan runs one scan and waits for its done.
func (h *conn) scan(id, page string, settings map[string]any, images []map[string]any, timeout time.Duration) scanResult {
	h.t.Helper()
	req := map[string]any{"type": "scan", "id": id, "page": map[string]any{"url": page}, "images": images}
	if settings != nil {
		req["settings"] = settings
	}
	h.send(req)
	res := scanResult{finals: map[int]*msg{}}
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			h.t.Fatalf("scan %s: no done within %v; %d finals so far", id, timeout, len(res.finals))
		}
		m := h.recv(left)
		if m.id() != id {
			continue
		}
		switch m.Type {
		case "result":
			if m.Final {
				if _, dup := res.finals[m.Index]; dup {
					h.t.Errorf("scan %s: two final results for index %d", id, m.Index)
				}
				res.finals[m.Index] = m
			}
		case "done":
			res.done = m
			return res
		default:
			h.t.Fatalf("scan %s answered %s", id, m.raw)
		}
	}
}

// vmHWM returns the host's peak resident memory in bytes (Linux), or -1.
func (h *host) vmHWM() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", h.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			f := strings.Fields(rest)
			n, _ := strconv.ParseInt(f[0], 10, 64)
			return n << 10
		}
	}
	return -1
}

// closeAndWait closes stdin and waits for the host to exit.
func (h *host) closeAndWait() int {
	h.t.Helper()
	h.stdin.Close()
	go func() {
		for range h.msgs {
		}
	}()
	select {
	case <-h.exited:
	case <-time.After(5 * time.Second):
		h.t.Fatal("the host did not exit within 5 s of stdin closing")
	}
	return h.code
}

// download fetches a held result over the data channel.
func download(t *testing.T, dataURL, token, key string) []byte {
	t.Helper()
	c, _, err := (&websocket.Dialer{HandshakeTimeout: 3 * time.Second}).Dial(dataURL, http.Header{"Origin": {extOrigin}})
	if err != nil {
		t.Fatalf("data channel: %v", err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if err := c.WriteJSON(map[string]string{"auth": token}); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteJSON(map[string]string{"get": key}); err != nil {
		t.Fatal(err)
	}
	typ, b, err := c.ReadMessage()
	if err != nil || typ != websocket.BinaryMessage {
		t.Fatalf("get %s: type %d, %v: %s", key, typ, err, b)
	}
	return b
}

// trap is a listener that must never be reached: it counts every
// connection and answers with a small valid PNG, so a fetch that got
// through would look like a success.
type trap struct {
	lns  []net.Listener
	mu   sync.Mutex
	hits int
	port int
}

func (tr *trap) count() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.hits
}

func (tr *trap) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		tr.mu.Lock()
		tr.hits++
		tr.mu.Unlock()
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(2 * time.Second))
			br := bufio.NewReader(c)
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			p := tinyPNG()
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", len(p))
			c.Write(p)
		}()
	}
}

// newTrap listens on every local address (inside the namespace) or on
// 127.0.0.1 and ::1 (outside it) on one port; extraPorts are also
// listened on inside the namespace (port 80 for URLs without a port).
func newTrap(t *testing.T) *trap {
	t.Helper()
	tr := &trap{}
	listen := func(addr string) net.Listener {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil
		}
		tr.lns = append(tr.lns, ln)
		go tr.serve(ln)
		return ln
	}
	if inNetns {
		ln := listen("[::]:0")
		if ln == nil {
			t.Fatal("cannot listen on [::]")
		}
		tr.port = ln.Addr().(*net.TCPAddr).Port
		if listen("[::]:80") == nil {
			t.Fatal("cannot listen on port 80 in the namespace")
		}
	} else {
		for i := 0; i < 20 && tr.port == 0; i++ {
			ln := listen("127.0.0.1:0")
			if ln == nil {
				t.Fatal("cannot listen on 127.0.0.1")
			}
			p := ln.Addr().(*net.TCPAddr).Port
			if listen(fmt.Sprintf("[::1]:%d", p)) != nil {
				tr.port = p
			}
		}
		if tr.port == 0 {
			t.Fatal("no port free on both 127.0.0.1 and ::1")
		}
	}
	t.Cleanup(func() {
		for _, ln := range tr.lns {
			ln.Close()
		}
	})
	return tr
}

// assertServing checks that the host still answers hello and exits
// cleanly when stdin closes.
func assertServing(t *testing.T, h *host) {
	t.Helper()
	h.hello("still-there")
	if code := h.closeAndWait(); code != 0 {
		t.Errorf("host exit code %d, want 0 (stderr: %s)", code, h.stderr.String())
	}
}
