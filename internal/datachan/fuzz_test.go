package datachan

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// FuzzParseRequest feeds arbitrary messages to the data channel's request
// decoder and names every zip entry it accepts. A request is accepted only
// with exactly one of "get" (a non-empty key) and "zip" (a non-empty list
// of entries with keys); every refusal carries a contract code and a
// message that echoes none of the input; every entry name is a safe,
// unique file name.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		`{"get":"8a6e0804-2bd0-4672-b79d-d97027f9071b"}`,
		`{"zip":[{"key":"a","name":"photo.webp"},{"key":"a","name":"Photo.webp"},{"key":"b","name":"../../x"}]}`,
		`{"zip":[{"key":"a","name":"p/p-640w.avif"},{"key":"a","name":"P\\p-640w.avif"},{"key":"a","name":"/../a//b/"},{"key":"a","name":"p.webp/x"},{"key":"a","name":"p.webp"}]}`,
		`{"zip":[{"key":"a","name":"CON.png"},{"key":"a","name":"..."},{"key":"a","name":"\ud800.png"},{"key":"a","name":" .webp"}]}`,
		`{"get":"a","zip":[]}`, `{"zip":[]}`, `{"zip":{}}`, `{"get":""}`, `{}`, `[]`, `null`, `{"auth":"x"}`,
	} {
		f.Add(true, []byte(s), "webp")
	}
	f.Add(false, []byte(`{"get":"a"}`), "png")
	f.Fuzz(func(t *testing.T, text bool, msg []byte, format string) {
		typ := websocket.BinaryMessage
		if text {
			typ = websocket.TextMessage
		}
		req, perr := parseRequest(typ, msg)
		if perr != nil {
			if perr.Code != "bad_message" || perr.Message == "" {
				t.Fatalf("refusal %+v", perr)
			}
			if len(msg) > 8 && strings.Contains(perr.Message, string(msg)) {
				t.Fatalf("refusal echoes the input: %q", perr.Message)
			}
			return
		}
		if (req.Get == nil) == (req.Zip == nil) {
			t.Fatal("accepted a request with neither or both of get and zip")
		}
		if req.Get != nil && *req.Get == "" {
			t.Fatal("accepted an empty key")
		}
		if req.Zip == nil {
			return
		}
		if len(*req.Zip) == 0 {
			t.Fatal("accepted an empty zip")
		}
		var nm namer
		seen := map[string]bool{}
		dirs := map[string]bool{}
		for i, e := range *req.Zip {
			if e.Key == "" {
				t.Fatalf("accepted entry %d without a key", i)
			}
			name := nm.next(i+1, format, e.Name)
			low := strings.ToLower(name)
			if seen[low] {
				t.Fatalf("duplicate entry name %q", name)
			}
			seen[low] = true
			parts := strings.Split(name, "/")
			if len(parts) > 2 {
				t.Fatalf("entry name %q from %q has more than one folder", name, e.Name)
			}
			for _, p := range parts {
				if p == "" || !utf8.ValidString(p) || strings.ContainsAny(p, "\\\x00<>:\"|?*") || strings.Contains(p, "..") ||
					strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.HasSuffix(p, " ") || strings.ContainsRune(p, utf8.RuneError) {
					t.Fatalf("unsafe entry name %q from %q", name, e.Name)
				}
			}
			if len(parts) == 2 {
				dirs[strings.ToLower(parts[0])] = true
			}
		}
		for d := range dirs {
			if seen[d] {
				t.Fatalf("folder %q is also a file's name", d)
			}
		}
	})
}
