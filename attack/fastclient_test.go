package attack

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/target"
)

// fastTestTimeout bounds every request of these tests, so none can hang.
const fastTestTimeout = 5 * time.Second

// rawDeadline bounds how long a rawServer connection waits for its peer.
const rawDeadline = fastTestTimeout

// newFast returns a FastClient for targets with a test timeout, and one
// Conn of it, closed at the end of the test.
func newFast(t *testing.T, cfg Config) Conn {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = fastTestTimeout
	}
	c, err := NewFastClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn := c.NewConn()
	t.Cleanup(conn.Close)
	return conn
}

// fastDo sends tg on conn and returns the result.
func fastDo(conn Conn, tg *target.Target) result.Result {
	var r result.Result
	conn.Do(context.Background(), tg, &r)
	return r
}

// wantOK fails unless r succeeded with status and bytesIn body bytes.
func wantOK(t *testing.T, r result.Result, status uint16, bytesIn int64) {
	t.Helper()
	if r.Error != "" || r.Status != status || r.BytesIn != bytesIn {
		t.Fatalf("got status %d, %d bytes in, error %q; want %d, %d bytes, no error", r.Status, r.BytesIn, r.Error, status, bytesIn)
	}
}

// fastServer starts an httptest server for h, closed at the end of the
// test, and counts the connections it accepts. setup, if set, configures
// the server before it starts.
func fastServer(t *testing.T, h http.HandlerFunc, setup func(*httptest.Server)) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	var n atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	if setup != nil {
		setup(srv)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &n
}

// rawServer serves every connection of a loopback listener with serve and
// returns the listener's http:// URL.
func rawServer(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(rawDeadline))
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// readRawRequest reads one request and returns its head (up to and
// including the empty line) and body.
func readRawRequest(br *bufio.Reader) (head, body string, err error) {
	var b strings.Builder
	n := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", "", err
		}
		b.WriteString(line)
		if line == "\r\n" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	buf := make([]byte, n)
	_, err = io.ReadFull(br, buf)
	return b.String(), string(buf), err
}

// respond returns a raw server that answers every request with resp.
// Each exchange gets its own deadline: rawServer's, set once at accept,
// would close a healthy keep-alive connection once a slow run (a starved
// process under -race) outlasts it, and the client would rightly replace
// it, which a test counting connections would take for the client's fault.
func respond(resp string) func(net.Conn, *bufio.Reader) {
	return func(c net.Conn, br *bufio.Reader) {
		for {
			c.SetDeadline(time.Now().Add(rawDeadline))
			if _, _, err := readRawRequest(br); err != nil {
				return
			}
			if _, err := io.WriteString(c, resp); err != nil {
				return
			}
		}
	}
}

func TestFastClientContentLength(t *testing.T) {
	srv, _ := fastServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}, nil)
	conn := newFast(t, Config{Targets: get(srv.URL)})
	r := fastDo(conn, &target.Target{Method: "GET", URL: srv.URL + "/x"})
	wantOK(t, r, 200, 5)
	if r.Connect <= 0 || r.FirstByte <= 0 || r.BytesOut != 0 {
		t.Errorf("connect %v, first byte %v, bytes out %d: want phases measured and nothing sent", r.Connect, r.FirstByte, r.BytesOut)
	}
	if r = fastDo(conn, &target.Target{Method: "GET", URL: srv.URL + "/x"}); r.Connect != 0 {
		t.Errorf("connect %v on a reused connection, want 0", r.Connect)
	}
}

func TestFastClientChunked(t *testing.T) {
	parts := []string{"abc", "defgh", strings.Repeat("x", 40000), "!"}
	srv, n := fastServer(t, func(w http.ResponseWriter, r *http.Request) {
		for _, p := range parts {
			io.WriteString(w, p)
			w.(http.Flusher).Flush()
		}
	}, nil)
	conn := newFast(t, Config{Targets: get(srv.URL)})
	for range 3 {
		wantOK(t, fastDo(conn, &target.Target{Method: "GET", URL: srv.URL}), 200, int64(len(strings.Join(parts, ""))))
	}
	if n.Load() != 1 {
		t.Errorf("%d connections for 3 chunked responses, want 1", n.Load())
	}
}

func TestFastClientChunkedRaw(t *testing.T) {
	for _, tc := range []struct {
		name, resp string
		bytesIn    int64
	}{
		{"extensions and trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"3;name=value\r\nabc\r\nA ; x\r\n0123456789\r\n0;last\r\nX-Trailer: 1\r\nY: 2\r\n\r\n", 13},
		{"bare LF", "HTTP/1.1 200 OK\ntransfer-encoding: CHUNKED\n\n2\nok\n0\n\n", 2},
		{"chunked wins over length", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := rawServer(t, respond(tc.resp))
			conn := newFast(t, Config{})
			for range 2 { // the second response shows the first ended in the right place
				wantOK(t, fastDo(conn, &target.Target{Method: "GET", URL: u}), 200, tc.bytesIn)
			}
		})
	}
}

func TestFastClientKeepAlive(t *testing.T) {
	srv, n := fastServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}, nil)
	ts := get(srv.URL)
	conn := newFast(t, Config{Targets: ts})
	for range 50 {
		wantOK(t, fastDo(conn, &ts[0]), 200, 2)
	}
	if n.Load() != 1 {
		t.Errorf("%d connections for 50 requests, want 1", n.Load())
	}
}

func TestFastClientConnectionClose(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		cfg     Config
	}{
		{"server says close", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			io.WriteString(w, "ok")
		}, Config{}},
		{"NoKeepAlive", func(w http.ResponseWriter, r *http.Request) {
			if !r.Close {
				w.WriteHeader(400) // the request lacks Connection: close
			}
			io.WriteString(w, "ok")
		}, Config{Transport: HTTPConfig{NoKeepAlive: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := fastServer(t, tc.handler, nil)
			ts := get(srv.URL)
			tc.cfg.Targets = ts
			conn := newFast(t, tc.cfg)
			for range 10 {
				r := fastDo(conn, &ts[0])
				wantOK(t, r, 200, 2)
				if r.Connect <= 0 {
					t.Errorf("connect %v, want the time of a new connection", r.Connect)
				}
			}
			if n.Load() != 10 {
				t.Errorf("%d connections for 10 requests, want 10", n.Load())
			}
		})
	}
}

func TestFastClientNoBody(t *testing.T) {
	srv, n := fastServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/head":
			w.Header().Set("Content-Length", "100")
			if r.Method != "HEAD" {
				io.WriteString(w, strings.Repeat("x", 100))
			}
		case "/204":
			w.WriteHeader(204)
		case "/304":
			w.Header().Set("Content-Length", "10") // ignored by the framing
			w.WriteHeader(304)
		}
	}, nil)
	conn := newFast(t, Config{})
	for range 2 {
		wantOK(t, fastDo(conn, &target.Target{Method: "HEAD", URL: srv.URL + "/head"}), 200, 0)
		wantOK(t, fastDo(conn, &target.Target{Method: "GET", URL: srv.URL + "/204"}), 204, 0)
		wantOK(t, fastDo(conn, &target.Target{Method: "GET", URL: srv.URL + "/304"}), 304, 0)
		wantOK(t, fastDo(conn, &target.Target{Method: "GET", URL: srv.URL + "/head"}), 200, 100)
	}
	if n.Load() != 1 {
		t.Errorf("%d connections, want 1: a response without body broke the framing", n.Load())
	}
}

func TestFastClientInterim(t *testing.T) {
	srv, _ := fastServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(103)
		w.WriteHeader(200)
		io.WriteString(w, "ok")
	}, nil)
	conn := newFast(t, Config{})
	for range 2 {
		wantOK(t, fastDo(conn, &target.Target{Method: "GET", URL: srv.URL}), 200, 2)
	}

	raw := rawServer(t, respond("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nnew"))
	wantOK(t, fastDo(conn, &target.Target{Method: "POST", URL: raw, Body: []byte("b")}), 201, 3)
	wantOK(t, fastDo(conn, &target.Target{Method: "POST", URL: raw, Body: []byte("b")}), 201, 3)

	many := rawServer(t, respond(strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 6)+"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	if r := fastDo(conn, &target.Target{Method: "GET", URL: many}); r.Error != "protocol: too many 1xx informational responses" || r.Status != 0 {
		t.Errorf("got status %d, error %q; want 0 and too many 1xx", r.Status, r.Error)
	}
}

func TestFastClientTimeout(t *testing.T) {
	srv, _ := fastServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			w.Header().Set("Content-Length", "4")
			w.WriteHeader(200)
			w.(http.Flusher).Flush() // a half-sent response
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		}
		io.WriteString(w, "fast")
	}, nil)
	conn := newFast(t, Config{Timeout: 200 * time.Millisecond})
	began := time.Now()
	r := fastDo(conn, &target.Target{Method: "GET", URL: srv.URL + "/slow"})
	if r.Error != "timeout" {
		t.Fatalf("got error %q, status %d; want timeout", r.Error, r.Status)
	}
	if d := time.Since(began); d > time.Second {
		t.Errorf("timeout after %v, want about 200ms", d)
	}
	wantOK(t, fastDo(conn, &target.Target{Method: "GET", URL: srv.URL + "/fast"}), 200, 4)
}

func TestFastClientIdleClose(t *testing.T) {
	srv, n := fastServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}, func(s *httptest.Server) { s.Config.IdleTimeout = 50 * time.Millisecond })
	conn := newFast(t, Config{})
	tg := &target.Target{Method: "POST", URL: srv.URL, Body: []byte("not idempotent")}
	wantOK(t, fastDo(conn, tg), 200, 2)
	time.Sleep(300 * time.Millisecond)
	r := fastDo(conn, tg)
	wantOK(t, r, 200, 2)
	if r.Connect <= 0 || n.Load() != 2 || r.Flags&result.Resent != 0 {
		t.Errorf("connect %v, %d connections, flags %b; want a second connection dialed before sending, no resend", r.Connect, n.Load(), r.Flags)
	}
}

// TestFastClientRetry: an idempotent request that a reused connection
// loses before any response byte is sent again once, flagged; a POST, or
// a request on a new connection, or after part of a response, is not.
func TestFastClientRetry(t *testing.T) {
	var conns atomic.Int64
	// Each connection answers one request, then reads the next and closes.
	u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		conns.Add(1)
		if _, _, err := readRawRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		readRawRequest(br)
	})
	conn := newFast(t, Config{})
	tg := &target.Target{Method: "PUT", URL: u, Body: []byte("x")}
	for i := range 5 {
		r := fastDo(conn, tg)
		wantOK(t, r, 200, 2)
		if got := conns.Load(); got != int64(i+1) {
			t.Fatalf("after %d requests %d connections, want %d", i+1, got, i+1)
		}
		if resent := r.Flags&result.Resent != 0; resent != (i > 0) {
			t.Errorf("request %d: resent %v, want %v (every request after the first meets a closing connection)", i+1, resent, i > 0)
		}
	}
	// A POST is not resent: the server may have read it.
	if r := fastDo(conn, &target.Target{Method: "POST", URL: u, Body: []byte("x")}); r.Error != "eof: EOF" || r.Flags&result.Resent != 0 {
		t.Errorf("POST on a closing connection: error %q, flags %b; want eof: EOF, not resent", r.Error, r.Flags)
	}

	closer := rawServer(t, func(c net.Conn, br *bufio.Reader) { readRawRequest(br) })
	if r := fastDo(conn, &target.Target{Method: "GET", URL: closer}); r.Error != "eof: EOF" {
		t.Errorf("new connection closed without response: error %q, want eof: EOF", r.Error)
	}

	var partial atomic.Int64
	half := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		readRawRequest(br)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		readRawRequest(br)
		partial.Add(1)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-")
	})
	wantOK(t, fastDo(conn, &target.Target{Method: "GET", URL: half}), 200, 2)
	if r := fastDo(conn, &target.Target{Method: "GET", URL: half}); r.Error != "eof: unexpected EOF" || partial.Load() != 1 {
		t.Errorf("error %q after %d partial responses, want unexpected EOF after 1 (no retry)", r.Error, partial.Load())
	}
}

func TestFastClientMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, resp, err string
		status          uint16
		bytesIn         int64
	}{
		{"garbage", "garbage\r\n\r\n", "protocol: malformed status line", 0, 0},
		{"garbage without newline", "SMTP ready", "protocol: malformed status line", 0, 0},
		{"version", "HTTP/2.0 200 OK\r\n\r\n", "protocol: malformed HTTP version", 0, 0},
		{"status code", "HTTP/1.1 2x0 OK\r\n\r\n", "protocol: malformed HTTP status code", 0, 0},
		{"status code too short", "HTTP/1.1 20\r\n\r\n", "protocol: malformed HTTP status code", 0, 0},
		{"header without colon", "HTTP/1.1 200 OK\r\nbroken\r\n\r\n", "protocol: malformed header line", 0, 0},
		{"space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx", "protocol: malformed header line", 0, 0},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "protocol: bad Content-Length", 0, 0},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", "protocol: bad Content-Length", 0, 0},
		{"gzip encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "protocol: unsupported transfer encoding", 0, 0},
		{"chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", "protocol: bad chunk size", 200, 0},
		{"huge chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", "protocol: bad chunk size", 200, 0},
		{"chunk end", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX\r\n0\r\n\r\n", "protocol: malformed chunked encoding", 200, 2},
		{"truncated chunks", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "eof: unexpected EOF", 200, 2},
		{"truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "eof: unexpected EOF", 200, 3},
		{"truncated headers", "HTTP/1.1 200 OK\r\nContent-Le", "eof: unexpected EOF", 0, 0},
		{"header too long", "HTTP/1.1 200 OK\r\nContent-Length: 1" + strings.Repeat("0", 20000) + "\r\n\r\n", "protocol: response header too large", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
				readRawRequest(br)
				io.WriteString(c, tc.resp)
			})
			r := fastDo(newFast(t, Config{}), &target.Target{Method: "GET", URL: u})
			if r.Error != tc.err || r.Status != tc.status || r.BytesIn != tc.bytesIn {
				t.Errorf("got error %q, status %d, %d bytes in; want %q, %d, %d", r.Error, r.Status, r.BytesIn, tc.err, tc.status, tc.bytesIn)
			}
		})
	}
}

func TestFastClientLongHeaderSkipped(t *testing.T) {
	u := rawServer(t, respond("HTTP/1.1 200 OK\r\nSet-Cookie: "+strings.Repeat("c", 40000)+"\r\nContent-Length: 2\r\n\r\nok"))
	conn := newFast(t, Config{})
	for range 2 {
		wantOK(t, fastDo(conn, &target.Target{Method: "GET", URL: u}), 200, 2)
	}
}

func TestFastClientCloseDelimited(t *testing.T) {
	var conns atomic.Int64
	u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		conns.Add(1)
		readRawRequest(br)
		io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello world")
	})
	conn := newFast(t, Config{})
	for range 3 {
		wantOK(t, fastDo(conn, &target.Target{Method: "GET", URL: u}), 200, 11)
	}
	if conns.Load() != 3 {
		t.Errorf("%d connections, want 3", conns.Load())
	}

	// HTTP/1.0 with a length closes unless the server says keep-alive.
	for _, tc := range []struct {
		resp  string
		conns int64
	}{
		{"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 3},
		{"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok", 1},
		{"HTTP/1.1 200 OK\r\nConnection: keep-alive, CLOSE\r\nContent-Length: 2\r\n\r\nok", 3},
	} {
		var conns atomic.Int64
		u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
			conns.Add(1)
			respond(tc.resp)(c, br)
		})
		for range 3 {
			wantOK(t, fastDo(conn, &target.Target{Method: "GET", URL: u}), 200, 2)
		}
		if conns.Load() != tc.conns {
			t.Errorf("%q: %d connections for 3 requests, want %d", tc.resp, conns.Load(), tc.conns)
		}
	}
}

func TestFastClientCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv, _ := fastServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, nil)
	conn := newFast(t, Config{Timeout: 10 * time.Second})
	tg := &target.Target{Method: "GET", URL: srv.URL}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	began := time.Now()
	var r result.Result
	conn.Do(ctx, tg, &r)
	if r.Error != "canceled: run stopped" {
		t.Errorf("error %q, want canceled: run stopped", r.Error)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("cancelled request returned after %v, want promptly", d)
	}
	r = result.Result{}
	conn.Do(ctx, tg, &r)
	if r.Error != "canceled: run stopped" {
		t.Errorf("request on a cancelled context: error %q, want canceled: run stopped", r.Error)
	}
}

// TestFastClientEngine runs the whole engine on the fast client.
func TestFastClientEngine(t *testing.T) {
	srv, n := fastServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}, nil)
	cfg := Config{Targets: []target.Target{{Method: "GET", URL: srv.URL + "/a"}, {Method: "POST", URL: srv.URL + "/b", Body: []byte("xy")}},
		Count: 1000, Connections: 4}
	fc, err := NewFastClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Client = fc
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got atomic.Int64
	err = a.Run(context.Background(), func(rs []result.Result) error {
		for _, r := range rs {
			if !r.OK() || r.BytesIn != 2 {
				return fmt.Errorf("result %+v: want OK with 2 bytes in", r)
			}
		}
		got.Add(int64(len(rs)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Load() != 1000 || n.Load() > 4 {
		t.Errorf("%d OK results over %d connections, want 1000 over at most 4", got.Load(), n.Load())
	}
}
