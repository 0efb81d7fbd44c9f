package attack

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/target"
)

// engines runs test against the event-loop engine and the goroutine
// engine, both with a FastClient at max rate.
func engines(t *testing.T, test func(t *testing.T, run func(context.Context, Config) []result.Result)) {
	for _, noLoop := range []bool{false, true} {
		name := "loop"
		if noLoop {
			name = "workers"
		}
		t.Run(name, func(t *testing.T) {
			test(t, func(ctx context.Context, cfg Config) []result.Result {
				t.Helper()
				setHTTP(&cfg, func(h *HTTPConfig) { h.NoEventLoop = noLoop })
				c, err := NewFastClient(cfg)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Client = c
				return collect(t, ctx, cfg)
			})
		})
	}
}

func TestEngineCount(t *testing.T) {
	engines(t, func(t *testing.T, run func(context.Context, Config) []result.Result) {
		var hits atomic.Int64
		srv, conns := fastServer(t, func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			io.WriteString(w, "ok")
		}, nil)
		rs := run(context.Background(), Config{Targets: get(srv.URL), Count: 3000, Connections: 8})
		checkSeqs(t, rs, 3000)
		if hits.Load() != 3000 {
			t.Errorf("server saw %d requests, want 3000", hits.Load())
		}
		if n := conns.Load(); n > 8 {
			t.Errorf("%d connections for 3000 requests on 8, want at most 8 (keep-alive)", n)
		}
		for _, r := range rs {
			if !r.OK() || r.BytesIn != 2 || r.Latency <= 0 || r.Sent != r.Intended || r.FirstByte <= 0 || r.FirstByte > r.Latency {
				t.Fatalf("result %+v: want OK, 2 bytes in, positive latency and first byte, no send lag", r)
			}
		}
	})
}

func TestEngineHeadersBodyLabels(t *testing.T) {
	engines(t, func(t *testing.T, run func(context.Context, Config) []result.Result) {
		var bad atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			switch {
			case r.Method == "POST" && r.Header.Get("Authorization") == "Bearer x" && string(b) == `{"a":1}`:
			case r.Method == "DELETE" && len(b) == 0:
			default:
				bad.Add(1)
			}
			w.WriteHeader(201)
		}))
		defer srv.Close()
		ts := []target.Target{
			{Method: "POST", URL: srv.URL + "/users", Header: http.Header{"Authorization": {"Bearer x"}}, Body: []byte(`{"a":1}`)},
			{Method: "DELETE", URL: srv.URL + "/users/1"},
		}
		rs := run(context.Background(), Config{Targets: ts, Labels: []string{"create", "delete"}, Count: 40, Connections: 3})
		checkSeqs(t, rs, 40)
		if bad.Load() > 0 {
			t.Errorf("server saw %d requests with the wrong method, header or body", bad.Load())
		}
		for i, r := range rs {
			want := []string{"create", "delete"}[i%2]
			if r.Label != want || r.Status != 201 || (i%2 == 0) != (r.BytesOut == 7) {
				t.Errorf("result %d = label %q status %d out %d; want %q 201 and the body size on POST", i, r.Label, r.Status, r.BytesOut, want)
			}
		}
	})
}

func TestEngineTimeoutAndRefused(t *testing.T) {
	engines(t, func(t *testing.T, run func(context.Context, Config) []result.Result) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(300 * time.Millisecond)
		}))
		defer srv.Close()
		rs := run(context.Background(), Config{Targets: get(srv.URL), Count: 4, Connections: 2, Timeout: 50 * time.Millisecond})
		checkSeqs(t, rs, 4)
		for _, r := range rs {
			if r.Error != "timeout" || r.Latency < 50*time.Millisecond || r.Latency > 250*time.Millisecond {
				t.Errorf("result %+v, want error timeout after about 50ms", r)
			}
		}
		closed := httptest.NewServer(http.NotFoundHandler())
		url := closed.URL
		closed.Close()
		rs = run(context.Background(), Config{Targets: get(url), Count: 5, Connections: 2})
		checkSeqs(t, rs, 5)
		for _, r := range rs {
			if !strings.HasPrefix(r.Error, "refused: dial tcp ") || !strings.HasSuffix(r.Error, "connection refused") || r.Status != 0 {
				t.Errorf("request to a closed port recorded as %+v, want a connection refused", r)
			}
		}
	})
}

func TestEngineStopAndGrace(t *testing.T) {
	engines(t, func(t *testing.T, run func(context.Context, Config) []result.Result) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		defer srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		begin := time.Now()
		rs := run(ctx, Config{Targets: get(srv.URL), Connections: 4})
		if el := time.Since(begin); el > 2*time.Second {
			t.Fatalf("Run took %v after a stop at 200ms", el)
		}
		if len(rs) < 10 {
			t.Fatalf("got %d results in 200ms at max rate", len(rs))
		}
		checkSeqs(t, rs, len(rs))

		release := make(chan struct{})
		stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer stuck.Close()
		defer close(release)
		// begin is taken before the stop's timer starts: taken after, a
		// preemption between the two made the run look 160µs short of
		// stop + grace (seen under stress-ng: 299.84ms).
		begin = time.Now()
		ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		rs = run(ctx, Config{Targets: get(stuck.URL), Connections: 3, Grace: 200 * time.Millisecond})
		if el := time.Since(begin); el < 300*time.Millisecond || el > 2*time.Second {
			t.Errorf("Run took %v; want the stop at 100ms plus the grace of 200ms", el)
		}
		checkSeqs(t, rs, 3)
		for _, r := range rs {
			if r.Error != "canceled: run stopped" {
				t.Fatalf("stuck request recorded as %+v, want error %q", r, "canceled: run stopped")
			}
		}
	})
}

// TestEngineHTTP checks the response framings at max rate, over raw
// servers that answer every request alike.
func TestEngineHTTP(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	for _, tc := range []struct {
		name, method, resp string
		status             uint16
		bytesIn            int64
		err                string
	}{
		{"content length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, 5, ""},
		{"chunked with trailers", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n3;x=y\r\nabc\r\n0\r\nX-T: 1\r\n\r\n", 200, 5, ""},
		{"connection close", "GET", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 200, 2, ""},
		{"HEAD", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 200, 0, ""},
		{"204", "GET", "HTTP/1.1 204 No Content\r\nContent-Length: 100\r\n\r\n", 204, 0, ""},
		{"1xx", "GET", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, 2, ""},
		{"large body", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + big, 200, 1 << 20, ""},
		{"large chunked body", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n" + big + "\r\n0\r\n\r\n", 200, 1 << 20, ""},
		{"malformed", "GET", "HTTP/1.1 2x0 OK\r\n\r\n", 0, 0, "protocol: malformed HTTP status code"},
		{"bad chunk", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX\r\n0\r\n\r\n", 200, 2, "protocol: malformed chunked encoding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			engines(t, func(t *testing.T, run func(context.Context, Config) []result.Result) {
				var conns atomic.Int64
				u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
					conns.Add(1)
					respond(tc.resp)(c, br)
				})
				const n = 30
				rs := run(context.Background(), Config{Targets: []target.Target{{Method: tc.method, URL: u}}, Count: n, Connections: 2})
				checkSeqs(t, rs, n)
				for _, r := range rs {
					if r.Error != tc.err || r.Status != tc.status || r.BytesIn != tc.bytesIn {
						t.Fatalf("got error %q, status %d, %d bytes in; want %q, %d, %d", r.Error, r.Status, r.BytesIn, tc.err, tc.status, tc.bytesIn)
					}
				}
				closes := tc.err != "" || strings.Contains(tc.resp, "close")
				if got := conns.Load(); closes && got < n || !closes && got > 2 {
					t.Errorf("%d connections for %d requests on 2; want one per request if the response closes it, else at most 2", got, n)
				}
			})
		})
	}
}

// TestEngineCloseDelimited: an HTTP/1.0 response without a length ends
// with the connection.
func TestEngineCloseDelimited(t *testing.T) {
	engines(t, func(t *testing.T, run func(context.Context, Config) []result.Result) {
		u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
			readRawRequest(br)
			io.WriteString(c, "HTTP/1.0 200 OK\r\n\r\n")
			io.WriteString(c, strings.Repeat("y", 100000))
		})
		rs := run(context.Background(), Config{Targets: get(u), Count: 10, Connections: 2})
		checkSeqs(t, rs, 10)
		for _, r := range rs {
			if !r.OK() || r.BytesIn != 100000 {
				t.Fatalf("result %+v, want 200 and 100000 bytes in", r)
			}
		}
	})
}

// TestEngineIdleCloseResend: a server that closes each connection after
// one response, without saying so, makes every second request meet a
// closed connection before any response byte; it is sent again once.
func TestEngineIdleCloseResend(t *testing.T) {
	engines(t, func(t *testing.T, run func(context.Context, Config) []result.Result) {
		var conns atomic.Int64
		u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
			conns.Add(1)
			if _, _, err := readRawRequest(br); err != nil {
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			readRawRequest(br)
		})
		rs := run(context.Background(), Config{Targets: []target.Target{{Method: "PUT", URL: u, Body: []byte("x")}}, Count: 20, Connections: 1})
		checkSeqs(t, rs, 20)
		for _, r := range rs {
			if !r.OK() || r.BytesIn != 2 {
				t.Fatalf("result %+v, want the request resent on a new connection", r)
			}
		}
		if got := conns.Load(); got != 20 {
			t.Errorf("%d connections, want 20", got)
		}
	})
}

// TestEngineRedirect: redirects are followed on the same connection, or
// the 3xx is the result when Redirects is negative.
func TestEngineRedirect(t *testing.T) {
	engines(t, func(t *testing.T, run func(context.Context, Config) []result.Result) {
		srv, conns := fastServer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/from" {
				http.Redirect(w, r, "/to", http.StatusFound)
				return
			}
			io.WriteString(w, "arrived")
		}, nil)
		rs := run(context.Background(), Config{Targets: get(srv.URL + "/from"), Count: 20, Connections: 2})
		checkSeqs(t, rs, 20)
		for _, r := range rs {
			if !r.OK() || r.Status != 200 || r.BytesIn != 7 {
				t.Fatalf("result %+v, want the redirect followed to 200 and 7 bytes", r)
			}
		}
		if n := conns.Load(); n > 2 {
			t.Errorf("%d connections, want redirects on the same connections", n)
		}
		rs = run(context.Background(), Config{Targets: get(srv.URL + "/from"), Count: 5, Connections: 1, Transport: HTTPConfig{Redirects: -1}})
		for _, r := range rs {
			if r.Status != 302 || r.Error != "" {
				t.Fatalf("result %+v, want the 302 itself", r)
			}
		}
		rs = run(context.Background(), Config{Targets: get(srv.URL + "/from"), Count: 1, Connections: 1, Transport: HTTPConfig{Redirects: 1}})
		if r := rs[0]; r.Status != 200 || r.Error != "" {
			t.Fatalf("one redirect allowed: %+v, want it followed", r)
		}
	})
}

// TestLoopParserSplits: the incremental parser, fed any response in
// pieces, agrees with fastReadResponse over the whole of it.
func TestLoopParserSplits(t *testing.T) {
	for _, s := range fastParseSeeds {
		for _, head := range []bool{false, true} {
			for i := range 20 {
				checkLoopParser(t, []byte(s), head, rand.New(rand.NewPCG(uint64(i), 1)))
			}
		}
	}
}

// FuzzLoopParser feeds arbitrary bytes in random pieces.
func FuzzLoopParser(f *testing.F) {
	for _, s := range fastParseSeeds {
		f.Add([]byte(s), false, uint64(1))
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nT: x\r\n\r\nextra"), false, uint64(7))
	f.Fuzz(func(t *testing.T, data []byte, head bool, seed uint64) {
		checkLoopParser(t, data, head, rand.New(rand.NewPCG(seed, 2)))
	})
}

// checkLoopParser compares the first response of data as a loopParser
// reads it, in random pieces, and as fastReadResponse reads it whole.
func checkLoopParser(t *testing.T, data []byte, head bool, rnd *rand.Rand) {
	t.Helper()
	rd := bytes.NewReader(data)
	br := bufio.NewReaderSize(rd, fastReadBuffer)
	var want fastResponse
	wantErr := fastReadResponse(br, head, &want)
	wantLeft := rd.Len() + br.Buffered()

	p := newLoopParser()
	p.reset(head)
	var buf []byte
	off := 0
	var gotErr error
	done := false
	for !done && gotErr == nil {
		n := 0
		if off < len(data) {
			n = 1 + rnd.IntN(len(data)-off)
		}
		buf = append(buf, data[off:off+n]...)
		off += n
		eof := off == len(data)
		used, d, err := p.feed(buf, eof)
		if used < 0 || used > len(buf) {
			t.Fatalf("feed used %d of %d bytes", used, len(buf))
		}
		buf = buf[used:]
		done, gotErr = d, err
		if !done && err == nil && eof {
			t.Fatalf("%q: incomplete at the end of the connection", data)
		}
	}
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || p.resp.status != want.status || p.resp.bytesIn != want.bytesIn {
		t.Fatalf("%q (head %v): got error %v, status %d, %d bytes; whole-buffer parse: %v, %d, %d",
			data, head, gotErr, p.resp.status, p.resp.bytesIn, wantErr, want.status, want.bytesIn)
	}
	if wantErr == nil {
		if left := len(buf) + len(data) - off; left != wantLeft || p.resp.close != want.close {
			t.Fatalf("%q: %d bytes left, close %v; whole-buffer parse: %d, %v", data, left, p.resp.close, wantLeft, want.close)
		}
	}
}
