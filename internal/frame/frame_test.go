package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func framed(payload []byte) []byte {
	b := make([]byte, 4+len(payload))
	binary.LittleEndian.PutUint32(b, uint32(len(payload)))
	copy(b[4:], payload)
	return b
}

func header(n uint32) []byte {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, n)
	return b
}

func jsonOfSize(n int) []byte {
	if n < 10 {
		panic("too small")
	}
	return []byte(`{"a":"` + strings.Repeat("x", n-8) + `"}`)
}

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		wantLen int
		wantErr error
		check   string // "" = Check passes, else substring of Check's error
	}{
		{"empty stream", nil, 0, io.EOF, ""},
		{"zero length", framed(nil), 0, nil, "empty"},
		{"small object", framed([]byte(`{"type":"hello"}`)), 16, nil, ""},
		{"exactly 1 MiB", framed(jsonOfSize(MaxOut)), MaxOut, nil, ""},
		{"1 MiB + 1", framed(jsonOfSize(MaxOut + 1)), MaxOut + 1, nil, ""},
		{"64 MiB + 1", header(MaxIn + 1), 0, ErrTooLarge, ""},
		{"max uint32", header(0xffffffff), 0, ErrTooLarge, ""},
		{"truncated length", []byte{5, 0}, 0, ErrTruncated, ""},
		{"truncated body", append(header(10), `{"a"`...), 0, ErrTruncated, ""},
		{"claims 64 MiB, sends 3", append(header(MaxIn), `{}x`...), 0, ErrTruncated, ""},
		{"invalid utf-8", framed([]byte("{\"a\":\"\xff\xfe\"}")), 10, nil, "UTF-8"},
		{"not json", framed([]byte(`hello`)), 5, nil, "not valid JSON"},
		{"json array", framed([]byte(`[1,2]`)), 5, nil, "not a JSON object"},
		{"json string", framed([]byte(`"x"`)), 3, nil, "not a JSON object"},
		{"json null", framed([]byte(`null`)), 4, nil, "not a JSON object"},
		{"two objects", framed([]byte(`{}{}`)), 4, nil, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewReader(bytes.NewReader(tt.in)).Read()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Read error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if len(got) != tt.wantLen {
				t.Fatalf("Read returned %d bytes, want %d", len(got), tt.wantLen)
			}
			cerr := Check(got)
			if tt.check == "" && cerr != nil {
				t.Fatalf("Check = %v, want nil", cerr)
			}
			if tt.check != "" && (cerr == nil || !strings.Contains(cerr.Error(), tt.check)) {
				t.Fatalf("Check = %v, want error containing %q", cerr, tt.check)
			}
		})
	}
}

func TestReadSequence(t *testing.T) {
	var in []byte
	for _, m := range []string{`{"n":1}`, `{"n":2}`, `{"n":3}`} {
		in = append(in, framed([]byte(m))...)
	}
	r := NewReader(bytes.NewReader(in))
	for i := 1; i <= 3; i++ {
		b, err := r.Read()
		if err != nil || string(b) != `{"n":`+string(rune('0'+i))+`}` {
			t.Fatalf("frame %d = %q, %v", i, b, err)
		}
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("after last frame: %v, want io.EOF", err)
	}
}

// A stream that claims a huge frame must not make Read allocate it.
func TestReadDoesNotAllocateDeclaredSize(t *testing.T) {
	in := append(header(MaxIn), `{}`...)
	before := totalAlloc()
	for i := 0; i < 5; i++ {
		_, _ = NewReader(bytes.NewReader(in)).Read()
	}
	if d := totalAlloc() - before; d > 8<<20 {
		t.Fatalf("reading a truncated 64 MiB frame 5 times allocated %d bytes", d)
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		wantErr error
	}{
		{"small", 10, nil},
		{"exactly 1 MiB", MaxOut, nil},
		{"1 MiB + 1", MaxOut + 1, ErrOutTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			payload := jsonOfSize(tt.size)
			err := NewWriter(&out).Write(payload)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Write error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if out.Len() != 0 {
					t.Fatalf("refused frame still wrote %d bytes", out.Len())
				}
				return
			}
			got, err := NewReader(&out).Read()
			if err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("round trip failed: %v", err)
			}
		})
	}
}

func TestWriteConcurrentFramesStayWhole(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if err := w.WriteJSON(map[string]any{"g": g, "pad": strings.Repeat("y", 1000*g)}); err != nil {
					t.Error(err)
				}
			}
		}(g)
	}
	wg.Wait()
	r := NewReader(&out)
	n := 0
	for {
		b, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := Check(b); err != nil {
			t.Fatalf("frame %d corrupt: %v", n, err)
		}
		n++
	}
	if n != 400 {
		t.Fatalf("read %d frames, want 400", n)
	}
}

func FuzzRead(f *testing.F) {
	f.Add(framed([]byte(`{"type":"hello","id":"h","protocol":1}`)))
	f.Add(header(MaxIn + 1))
	f.Add([]byte{1})
	f.Add(append(header(3), "{}"...))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		for i := 0; i < 64; i++ {
			b, err := r.Read()
			if err != nil {
				return
			}
			if len(b) > MaxIn {
				t.Fatalf("frame of %d bytes accepted", len(b))
			}
			_ = Check(b)
		}
	})
}

func totalAlloc() uint64 {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	return s.TotalAlloc
}
