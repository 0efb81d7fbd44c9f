package attack

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/target"
)

// faultClients are the ways surge sends requests: the fast client with a
// goroutine per connection, the event loop at max rate and at a rate, and
// net/http. Each returns cfg ready for New.
var faultClients = []struct {
	name string
	cfg  func(t *testing.T, cfg Config) Config
}{
	{"fast", func(t *testing.T, cfg Config) Config { return withFast(t, cfg, true) }},
	{"loop", func(t *testing.T, cfg Config) Config { return withFast(t, cfg, false) }},
	{"loop-paced", func(t *testing.T, cfg Config) Config {
		cfg.Rate = schedule.Rate{Freq: 200, Per: time.Second}
		return withFast(t, cfg, false)
	}},
	{"net-http", func(t *testing.T, cfg Config) Config {
		c, err := NewHTTPClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Client = c
		return cfg
	}},
}

// faultRun is what one attack against a fault server gave.
type faultRun struct {
	rs              []result.Result
	sent, notSent   int64 // Stats
	ok, resent, bad int   // results: OK, flagged Resent, with an error or failing status
	errs            map[string]int
	reads           int64 // requests the server read
	elapsed         time.Duration
}

// runFault runs count requests of method against srv with client, with
// timeout, and checks what must hold whatever the fault: the run ends in
// time, every scheduled request is recorded once, sent or not sent as the
// counters say, and the server read exactly the requests surge recorded
// as sent plus those it recorded as resent: no hidden resends.
func runFault(t *testing.T, srv *faultServer, cfg Config, clientCfg func(*testing.T, Config) Config) faultRun {
	t.Helper()
	cfg.Connections = 2
	cfg.Grace = 200 * time.Millisecond
	cfg = clientCfg(t, cfg)
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var run faultRun
	var mu sync.Mutex
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			}
		}()
		done <- a.Run(context.Background(), func(b []result.Result) error {
			mu.Lock()
			run.rs = append(run.rs, b...)
			mu.Unlock()
			return nil
		})
	}()
	// Requests go out two at a time, and each may take the timeout and its
	// slack; the rest is room for a loaded machine.
	rounds := (cfg.Count + 1) / 2
	bound := time.Duration(rounds)*cfg.Timeout*17/16 + cfg.Grace + 5*time.Second
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(bound):
		t.Fatalf("the run did not end within %v (%d requests, timeout %v)", bound, cfg.Count, cfg.Timeout)
	}
	run.elapsed = time.Since(start)
	if hc, ok := cfg.Client.(*HTTPClient); ok {
		// The run is over; the server's handlers end when their
		// connections do.
		hc.c.CloseIdleConnections()
	}
	srv.Close()
	run.reads = srv.reads.Load()
	st := a.Stats()
	run.sent, run.notSent = st.Sent.Load(), st.NotSent.Load()
	run.errs = map[string]int{}
	seen := map[uint64]bool{}
	var sent, notSent int64
	for _, r := range run.rs {
		if seen[r.Seq] {
			t.Errorf("seq %d recorded twice", r.Seq)
		}
		seen[r.Seq] = true
		if r.Flags&result.NotSent != 0 {
			notSent++
			continue
		}
		sent++
		switch {
		case r.OK():
			run.ok++
		default:
			run.bad++
		}
		if r.Error != "" {
			run.errs[r.Error]++
		}
		if r.Flags&result.Resent != 0 {
			run.resent++
		}
	}
	if uint64(len(run.rs)) != cfg.Count || int64(len(run.rs)) != run.sent+run.notSent {
		t.Errorf("%d results for %d requests; stats say %d sent + %d not sent", len(run.rs), cfg.Count, run.sent, run.notSent)
	}
	if sent != run.sent || notSent != run.notSent {
		t.Errorf("results: %d sent, %d not sent; stats: %d sent, %d not sent", sent, notSent, run.sent, run.notSent)
	}
	return run
}

// TestFaults runs every client against every fault of faultserver_test.go,
// with a GET and a POST. Besides what runFault checks, each fault says how
// the requests end and with which errors, the same on every client.
func TestFaults(t *testing.T) {
	const count = 6
	for _, fc := range []struct {
		name  string
		serve func(*faultConn)
		// timeout is short where requests are meant to time out, and
		// long elsewhere, so that a loaded machine does not make any.
		timeout time.Duration
		// reads says the server reads every request it is sent (else none).
		reads bool
		// ok is how many of the count requests succeed; -1 leaves it to
		// check.
		ok int
		// classes are the error classes allowed (result.ClassOf); every
		// error must have one of them.
		classes []string
		// check, if set, checks more.
		check func(t *testing.T, method string, run faultRun)
	}{
		{name: "ok", serve: serveOK, reads: true, ok: count},
		{name: "reset-mid-body", serve: faultResetMidBody, reads: true, ok: 0,
			classes: []string{result.ClassReset, result.ClassEOF}},
		{name: "slowloris-head", serve: faultSlowHead, timeout: 300 * time.Millisecond, reads: true, ok: 0, classes: []string{result.ClassTimeout}},
		{name: "never-answers", serve: faultNoAnswer, timeout: 300 * time.Millisecond, reads: true, ok: 0, classes: []string{result.ClassTimeout}},
		{name: "close-after-accept", serve: faultCloseAfterAccept, reads: false, ok: 0,
			// net/http says "server closed idle connection" (eof) when the
			// close comes before it counted the request as sent.
			classes: []string{result.ClassEOF, result.ClassReset}},
		{name: "1xx-first", serve: faultInterim, reads: true, ok: count},
		{name: "close-delimited", serve: faultCloseDelimited, reads: true, ok: count,
			check: func(t *testing.T, _ string, run faultRun) {
				for _, r := range run.rs {
					if r.BytesIn != 300 {
						t.Errorf("seq %d: %d bytes in, want 300", r.Seq, r.BytesIn)
					}
				}
			}},
		{name: "short-body", serve: faultShortBody, reads: true, ok: 0, classes: []string{result.ClassEOF}},
		{name: "huge-head", serve: faultHugeHead, reads: true, ok: 0, classes: []string{result.ClassProtocol},
			check: func(t *testing.T, _ string, run faultRun) {
				if n := run.errs[parseMessage(errFastHeaderTooLarge)]; n != count {
					t.Errorf("%d errors %q, want %d: %v", n, parseMessage(errFastHeaderTooLarge), count, run.errs)
				}
			}},
		{name: "read-then-close", serve: faultReadThenClose, reads: true, ok: -1, classes: []string{result.ClassEOF},
			check: func(t *testing.T, method string, run faultRun) {
				// Every connection serves one request; the second request
				// on a connection is lost after the server read it.
				// A GET is resent once: on a new connection it succeeds, on
				// another reused one (net/http's pool) it may be lost again.
				// A POST is never resent.
				switch method {
				case "GET":
					if run.resent == 0 || run.ok < run.resent {
						t.Errorf("%d GETs resent, %d succeeded; want the ones that met a closing connection resent, and succeeding", run.resent, run.ok)
					}
				case "POST":
					if run.resent != 0 || run.bad == 0 || run.ok == 0 {
						t.Errorf("%d POSTs resent, %d failed, %d succeeded; want none resent, the lost ones failed", run.resent, run.bad, run.ok)
					}
				}
			}},
	} {
		for _, cl := range faultClients {
			for _, method := range []string{"GET", "POST"} {
				t.Run(fc.name+"/"+cl.name+"/"+method, func(t *testing.T) {
					srv := newFaultServer(t, fc.serve)
					tg := target.Target{Method: method, URL: srv.URL + "/f"}
					if method == "POST" {
						tg.Body = []byte(`{"n":1}`)
					}
					timeout := fc.timeout
					if timeout == 0 {
						timeout = 10 * time.Second
					}
					run := runFault(t, srv, Config{Targets: []target.Target{tg}, Count: count, Timeout: timeout}, cl.cfg)
					t.Logf("%d ok, %d failed, %d resent, server read %d, %v; errors %v", run.ok, run.bad, run.resent, run.reads, run.elapsed.Round(time.Millisecond), run.errs)
					want := int64(0)
					if fc.reads {
						want = run.sent + int64(run.resent)
					}
					if run.reads != want {
						t.Errorf("the server read %d requests; surge recorded %d sent, %d of them resent", run.reads, run.sent, run.resent)
					}
					if fc.ok >= 0 && run.ok != fc.ok {
						t.Errorf("%d of %d requests succeeded, want %d", run.ok, count, fc.ok)
					}
					for e := range run.errs {
						if c := result.ClassOf(e); !slices.Contains(fc.classes, c) {
							t.Errorf("error %q of class %q, want one of the classes %q", e, c, fc.classes)
						}
					}
					if fc.check != nil {
						fc.check(t, method, run)
					}
				})
			}
		}
	}
}

// faultClientRun runs count requests of tg on each client against a new
// server serve and hands each run to check.
func faultClientRun(t *testing.T, serve func(*faultConn), tg target.Target, count uint64, check func(t *testing.T, run faultRun)) {
	for _, cl := range faultClients {
		t.Run(cl.name, func(t *testing.T) {
			srv := newFaultServer(t, serve)
			tg := tg
			tg.URL = strings.Replace(tg.URL, "SERVER", strings.TrimPrefix(srv.URL, "http://"), 1)
			run := runFault(t, srv, Config{Targets: []target.Target{tg}, Count: count, Timeout: 10 * time.Second}, cl.cfg)
			t.Logf("%d ok, %d failed, %d resent, server read %d; errors %v", run.ok, run.bad, run.resent, run.reads, run.errs)
			check(t, run)
		})
	}
}

// TestResendPolicy: against a server that reads the second request of a
// connection and closes it, every client resends the idempotent requests
// once, flagged, and no other: the server reads exactly the requests surge
// recorded as sent plus those it recorded as resent.
func TestResendPolicy(t *testing.T) {
	for _, tc := range []struct {
		name       string
		method     string
		header     http.Header
		idempotent bool
	}{
		{"GET", "GET", nil, true},
		{"PUT", "PUT", nil, true},
		{"DELETE", "DELETE", nil, true},
		{"OPTIONS", "OPTIONS", nil, true},
		{"POST", "POST", nil, false},
		{"PATCH", "PATCH", nil, false},
		{"POST-Idempotency-Key", "POST", http.Header{"Idempotency-Key": {"k1"}}, true},
		{"POST-x-idempotency-key", "POST", http.Header{"x-idempotency-key": {"k2"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := target.Target{Method: tc.method, URL: "http://SERVER/r", Header: tc.header, Body: []byte("body")}
			faultClientRun(t, faultReadThenClose, tg, 8, func(t *testing.T, run faultRun) {
				if run.reads != run.sent+int64(run.resent) {
					t.Errorf("the server read %d requests; surge recorded %d sent, %d of them resent", run.reads, run.sent, run.resent)
				}
				if tc.idempotent && (run.resent == 0 || run.ok < run.resent) {
					t.Errorf("%d resent, %d succeeded; want the requests that met a closing connection resent and answered", run.resent, run.ok)
				}
				if !tc.idempotent && (run.resent != 0 || run.bad == 0) {
					t.Errorf("%d resent, %d failed; want none resent", run.resent, run.bad)
				}
				for e := range run.errs {
					if c := result.ClassOf(e); c != result.ClassEOF {
						t.Errorf("error %q of class %q, want %q", e, c, result.ClassEOF)
					}
				}
			})
		})
	}
}

// TestURLUserinfo: user information in the URL goes out as Basic
// authorization on every client, and an Authorization header, in any
// letter case, replaces it.
func TestURLUserinfo(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("user:p@ss"))
	for _, tc := range []struct {
		name, url string
		header    http.Header
		want      string
	}{
		{"userinfo", "http://user:p%40ss@SERVER/a", nil, basic},
		{"user-only", "http://user@SERVER/a", nil, "Basic " + base64.StdEncoding.EncodeToString([]byte("user:"))},
		{"header-wins", "http://user:p%40ss@SERVER/a", http.Header{"Authorization": {"Bearer t1"}}, "Bearer t1"},
		{"lowercase-header-wins", "http://user:p%40ss@SERVER/a", http.Header{"authorization": {"Bearer t2"}}, "Bearer t2"},
		{"no-userinfo", "http://SERVER/a", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			seen := map[string]int{}
			serve := func(c *faultConn) {
				for {
					req, err := c.readRequest()
					if err != nil {
						return
					}
					got := strings.Join(req.header["authorization"], " | ")
					mu.Lock()
					seen[got]++
					mu.Unlock()
					resp := faultOK
					if got != tc.want {
						resp = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"
					}
					if _, err := io.WriteString(c, resp); err != nil {
						return
					}
				}
			}
			tg := target.Target{Method: "GET", URL: tc.url, Header: tc.header}
			faultClientRun(t, serve, tg, 4, func(t *testing.T, run faultRun) {
				mu.Lock()
				defer mu.Unlock()
				if run.ok != 4 {
					t.Errorf("%d of 4 requests succeeded; the server saw Authorization %v, want %q", run.ok, seen, tc.want)
				}
				clear(seen)
			})
		})
	}
}

// TestHeadLimit: every client takes a response head of up to maxHeadBytes
// and refuses a larger one with the same error.
func TestHeadLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		ok   bool
	}{
		{"limit-8KiB", maxHeadBytes - 8<<10, true},
		{"limit-1KiB", maxHeadBytes - 1<<10, true},
		{"limit+1KiB", maxHeadBytes + 1<<10, false},
		{"limit+8KiB", maxHeadBytes + 8<<10, false},
		{"2MiB", 2 << 20, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := append(faultHead(tc.size), "ok"...)
			serve := func(c *faultConn) {
				for {
					if _, err := c.readRequest(); err != nil {
						return
					}
					if _, err := c.Write(resp); err != nil {
						return
					}
				}
			}
			faultClientRun(t, serve, target.Target{Method: "GET", URL: "http://SERVER/h"}, 3, func(t *testing.T, run faultRun) {
				if tc.ok && run.ok != 3 {
					t.Errorf("%d of 3 requests with a %d-byte head succeeded, want all; errors %v", run.ok, tc.size, run.errs)
				}
				if msg := parseMessage(errFastHeaderTooLarge); !tc.ok && (run.ok != 0 || run.errs[msg] != 3) {
					t.Errorf("%d of 3 requests with a %d-byte head succeeded, errors %v; want 3 %q", run.ok, tc.size, run.errs, msg)
				}
			})
		})
	}
}

// TestHTTPClientHTTP2: the resend guard and the head checks leave HTTP/2
// (over TLS, and h2c) working, on reused connections too.
func TestHTTPClientHTTP2(t *testing.T) {
	for _, h2c := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2c=%v", h2c), func(t *testing.T) {
			var h2 atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.ProtoMajor == 2 {
					h2.Add(1)
				}
				io.Copy(io.Discard, r.Body)
				io.WriteString(w, "ok")
			}))
			cfg := Config{Count: 40, Connections: 2, Timeout: 10 * time.Second}
			if h2c {
				var p http.Protocols
				p.SetHTTP1(true)
				p.SetUnencryptedHTTP2(true)
				srv.Config.Protocols = &p
				srv.Start()
				setHTTP(&cfg, func(h *HTTPConfig) { h.H2C = true })
			} else {
				srv.EnableHTTP2 = true
				srv.StartTLS()
				setHTTP(&cfg, func(h *HTTPConfig) { h.HTTP2, h.Insecure = true, true })
			}
			defer srv.Close()
			cfg.Targets = []target.Target{{Method: "GET", URL: srv.URL + "/g"}, {Method: "POST", URL: srv.URL + "/p", Body: []byte("b")}}
			rs := collect(t, context.Background(), cfg)
			checkSeqs(t, rs, 40)
			for _, r := range rs {
				if !r.OK() || r.BytesIn != 2 || r.Flags&result.Resent != 0 {
					t.Fatalf("result %+v, want 200 with 2 bytes, not resent", r)
				}
			}
			if h2.Load() != 40 {
				t.Errorf("%d of 40 requests over HTTP/2", h2.Load())
			}
		})
	}
}
