package adversarial

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// dialWS opens the data channel with the given headers.
func dialWS(u string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	return (&websocket.Dialer{HandshakeTimeout: 3 * time.Second}).Dial(u, hdr)
}

// attempt connects with the right Origin, sends first, and reports
// whether any binary data came back and the error codes it saw, reading
// until the server closes or wait passes.
func attempt(t *testing.T, u string, first func(*websocket.Conn), then string, wait time.Duration) (gotData bool, codes []string, closed bool) {
	t.Helper()
	c, _, err := dialWS(u, http.Header{"Origin": {extOrigin}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if first != nil {
		first(c)
	}
	if then != "" {
		c.WriteJSON(map[string]string{"get": then})
	}
	c.SetReadDeadline(time.Now().Add(wait))
	for {
		typ, b, err := c.ReadMessage()
		if err != nil {
			var ne net.Error
			timedOut := errors.As(err, &ne) && ne.Timeout()
			return gotData, codes, !timedOut
		}
		if typ == websocket.BinaryMessage {
			gotData = true
			continue
		}
		var m struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal(b, &m)
		codes = append(codes, m.Error.Code)
	}
}

// TestDataChannelRefusesEveryStranger attacks the built host's loopback
// WebSocket: foreign, missing and look-alike Origins (a web page on any
// site, including 127.0.0.1 itself: cross-site WebSocket hijacking), a
// foreign Host (DNS rebinding), no token, wrong tokens, and a token brute
// force that must not lock out the right token.
func TestDataChannelRefusesEveryStranger(t *testing.T) {
	t.Parallel()
	svg := []byte(strings.Replace(hostileSVG, "PADDING", strings.Repeat("padding ", 4000), 1))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(svg) }))
	defer srv.Close()
	h := startHost(t)
	dataURL, token := h.hello("h")
	if raw, err := base64.RawURLEncoding.DecodeString(token); err != nil || len(raw) < 16 {
		t.Errorf("token %d bytes (%v), want at least 128 random bits in base64url", len(raw), err)
	}
	u, err := url.Parse(dataURL)
	if err != nil || u.Scheme != "ws" || !strings.HasPrefix(u.Host, "127.0.0.1:") {
		t.Fatalf("data channel URL %q is not ws://127.0.0.1:PORT", dataURL)
	}
	port := u.Port()
	res := h.scan("s", srv.URL+"/", map[string]any{"minSavingsBytes": 0, "formats": []string{"svg", "png"}},
		[]map[string]any{{"url": srv.URL + "/hostile.svg"}}, 20*time.Second)
	if res.finals[0] == nil || res.finals[0].Best == nil {
		t.Fatalf("no held result to steal: %+v", res.finals[0])
	}
	key := res.finals[0].Best.Key
	// Control: the extension itself gets the bytes.
	if len(download(t, dataURL, token, key)) == 0 {
		t.Fatal("the extension's own download is empty")
	}
	// A second host has a different token.
	h2 := startHost(t)
	if _, tok2 := h2.hello("h"); tok2 == token {
		t.Error("two hosts announced the same token")
	}

	t.Run("origins", func(t *testing.T) {
		for _, hdr := range []http.Header{
			{},
			{"Origin": {""}},
			{"Origin": {"null"}},
			{"Origin": {"https://evil.example"}},
			{"Origin": {"http://127.0.0.1:" + port}},
			{"Origin": {"http://localhost:" + port}},
			{"Origin": {"http://127.0.0.1"}},
			{"Origin": {"https://news.example"}},
			{"Origin": {"chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}},
			{"Origin": {extOrigin + "/"}},
			{"Origin": {extOrigin + ".evil.example"}},
			{"Origin": {strings.ToUpper(extOrigin)}},
			{"Origin": {"moz-extension://" + extID}},
			{"Origin": {"https://evil.example", extOrigin}},
			{"Origin": {extOrigin, "https://evil.example"}},
			{"Origin": {extOrigin}, "Host": {"evil.example:" + port}},
			{"Origin": {extOrigin}, "Host": {"127.0.0.1.nip.io:" + port}},
			{"Origin": {extOrigin}, "Host": {"127.0.0.1"}},
		} {
			c, resp, err := dialWS(dataURL, hdr)
			if err == nil {
				c.Close()
				t.Errorf("%v: upgraded", hdr)
				continue
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("%v: %v, want HTTP 403", hdr, err)
			}
		}
		// Plain HTTP (a page's fetch or an <img>) gets nothing either.
		for _, p := range []string{"/v1/data", "/", "/v1/data?get=" + key} {
			req, _ := http.NewRequest("GET", "http://127.0.0.1:"+port+p, nil)
			req.Header.Set("Origin", extOrigin)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				continue
			}
			var body [4096]byte
			n, _ := resp.Body.Read(body[:])
			resp.Body.Close()
			if resp.StatusCode == 200 || n > 200 {
				t.Errorf("plain GET %s: %d, %d bytes", p, resp.StatusCode, n)
			}
		}
	})

	t.Run("tokens", func(t *testing.T) {
		tries := []struct {
			name  string
			first func(*websocket.Conn)
		}{
			{"no token", nil},
			{"empty", func(c *websocket.Conn) { c.WriteJSON(map[string]string{"auth": ""}) }},
			{"wrong", func(c *websocket.Conn) { c.WriteJSON(map[string]string{"auth": "AAAAAAAAAAAAAAAAAAAAAA"}) }},
			{"longer", func(c *websocket.Conn) { c.WriteJSON(map[string]string{"auth": token + "x"}) }},
			{"prefix", func(c *websocket.Conn) { c.WriteJSON(map[string]string{"auth": token[:len(token)-1]}) }},
			{"case", func(c *websocket.Conn) { c.WriteJSON(map[string]string{"auth": strings.ToUpper(token)}) }},
			{"binary", func(c *websocket.Conn) {
				c.WriteMessage(websocket.BinaryMessage, []byte(`{"auth":"`+token+`"}`))
			}},
			{"number", func(c *websocket.Conn) { c.WriteMessage(websocket.TextMessage, []byte(`{"auth":1}`)) }},
		}
		for _, tr := range tries {
			got, codes, closed := attempt(t, dataURL, tr.first, key, 3*time.Second)
			if got {
				t.Errorf("%s: got the file's bytes", tr.name)
			}
			if !closed {
				t.Errorf("%s: connection stayed open", tr.name)
			}
			if len(codes) == 0 || codes[0] != "unauthorized" {
				t.Errorf("%s: codes %v, want unauthorized", tr.name, codes)
			}
		}
	})

	t.Run("silent client is dropped", func(t *testing.T) {
		start := time.Now()
		got, _, closed := attempt(t, dataURL, nil, "", 8*time.Second)
		if got || !closed || time.Since(start) > 7*time.Second {
			t.Errorf("silent client: data %v, closed %v after %v; want closed within ~5 s", got, closed, time.Since(start))
		}
	})

	t.Run("guessing cannot lock out", func(t *testing.T) {
		// An authenticated connection opened before the attack.
		live, _, err := dialWS(dataURL, http.Header{"Origin": {extOrigin}})
		if err != nil {
			t.Fatal(err)
		}
		defer live.Close()
		live.WriteJSON(map[string]string{"auth": token})
		for i := 0; i < 12; i++ {
			attempt(t, dataURL, func(c *websocket.Conn) {
				c.WriteJSON(map[string]string{"auth": base64.RawURLEncoding.EncodeToString([]byte{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})})
			}, "", 2*time.Second)
			if c, resp, err := dialExt(dataURL, base64.RawURLEncoding.EncodeToString([]byte{byte(i), 9, 9})); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
				if c != nil {
					c.Close()
				}
				t.Errorf("wrong token in the handshake: %v, want HTTP 401", err)
			}
		}
		// The right token still works at once, both ways.
		got, codes, _ := attempt(t, dataURL, func(c *websocket.Conn) {
			c.WriteJSON(map[string]string{"auth": token})
		}, key, 2*time.Second)
		if !got || len(codes) != 0 {
			t.Errorf("right token after a brute force: data %v, codes %v; want the file", got, codes)
		}
		c, _, err := dialExt(dataURL, token)
		if err != nil {
			t.Fatalf("the extension after a brute force: %v", err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		c.WriteJSON(map[string]string{"get": key})
		if typ, b, err := c.ReadMessage(); err != nil || typ != websocket.BinaryMessage {
			t.Errorf("the extension after a brute force: %v %s", err, b)
		}
		c.Close()
		// The connection from before the attack keeps working.
		live.SetReadDeadline(time.Now().Add(5 * time.Second))
		live.WriteJSON(map[string]string{"get": key})
		if typ, b, err := live.ReadMessage(); err != nil || typ != websocket.BinaryMessage {
			t.Errorf("connection authenticated before the attack: %v %s", err, b)
		}
	})
	h2.closeAndWait()
	assertServing(t, h)
}
