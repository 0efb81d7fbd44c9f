package attack

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
)

// fastCanned is the response of fastCannedServer, fastCannedRedirect its
// response to paths starting with /redirect.
const (
	fastCanned         = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
	fastCannedRedirect = "HTTP/1.1 302 Found\r\nLocation: /\r\nContent-Length: 0\r\n\r\n"
)

// fastCannedServer serves fastCanned to requests on loopback and
// allocates nothing per request, so the allocations a benchmark counts are
// the client's own. It understands what the fast client sends: a head and
// a body of Content-Length bytes.
func fastCannedServer(tb testing.TB) string {
	tb.Helper()
	return fastCannedServerDelay(tb, 0)
}

// fastCannedServerDelay is fastCannedServer answering each request after
// delay, a server that has fallen behind. A failed accept (a full
// descriptor table) does not end it, as it does not end net/http's: it
// tries again and fails the test with the cause, which the client's
// timeouts would not name.
func fastCannedServerDelay(tb testing.TB, delay time.Duration) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	var failed int
	var firstErr error
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
		if failed > 0 {
			tb.Errorf("canned server: %d accepts failed, the first with %v", failed, firstErr)
		}
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				mu.Lock()
				if failed++; failed == 1 {
					firstErr = err
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
				continue
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serveCanned(c, delay)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func serveCanned(c net.Conn, delay time.Duration) {
	br := bufio.NewReaderSize(c, 16<<10)
	ok, redirect := []byte(fastCanned), []byte(fastCannedRedirect)
	const cl = "Content-Length:"
	for {
		n := int64(0)
		resp := ok
		for first := true; ; first = false {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			line = fastEOL(line)
			if len(line) == 0 {
				break
			}
			if first && bytes.Contains(line, []byte(" /redirect")) {
				resp = redirect
			}
			if len(line) > len(cl) && fastFold(line[:len(cl)], cl) {
				n, _ = fastDecimal(fastTrim(line[len(cl):]))
			}
		}
		if _, err := br.Discard(int(n)); err != nil {
			return
		}
		if delay > 0 {
			time.Sleep(delay)
		}
		if _, err := c.Write(resp); err != nil {
			return
		}
	}
}

// benchClient sends GET requests one after another on one Conn of client,
// as one engine worker does, and reports CPU time per request for the
// whole process (client and in-process server).
func benchClient(b *testing.B, newClient func(Config) (Client, error), url string) {
	cfg := Config{Targets: get(url), Timeout: 10 * time.Second, Connections: 1, Transport: HTTPConfig{Redirects: DefaultRedirects}}
	c, err := newClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	conn := c.NewConn()
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tg := &cfg.Targets[0]
	var r result.Result
	conn.Do(ctx, tg, &r) // connect outside the measurement
	b.ReportAllocs()
	cpu0 := fastCPUTime()
	b.ResetTimer()
	for b.Loop() {
		r = result.Result{}
		conn.Do(ctx, tg, &r)
		if r.Error != "" || r.Status != 200 || r.BytesIn != 2 {
			b.Fatalf("result %+v", r)
		}
	}
	b.StopTimer()
	if cpu := fastCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// benchServers are the servers the client benchmarks run against: an
// httptest server (net/http's allocations count too) and a canned
// loopback server that allocates nothing.
func benchServers(b *testing.B, run func(b *testing.B, url string)) {
	b.Run("httptest", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ok")
		}))
		defer srv.Close()
		run(b, srv.URL)
	})
	b.Run("canned", func(b *testing.B) {
		run(b, fastCannedServer(b))
	})
}

func BenchmarkFastClient(b *testing.B) {
	benchServers(b, func(b *testing.B, url string) {
		benchClient(b, func(cfg Config) (Client, error) { return NewFastClient(cfg) }, url)
	})
}

func BenchmarkHTTPClient(b *testing.B) {
	benchServers(b, func(b *testing.B, url string) {
		benchClient(b, func(cfg Config) (Client, error) { return NewHTTPClient(cfg) }, url)
	})
}

// BenchmarkFastClientParse measures the response parser alone.
func BenchmarkFastClientParse(b *testing.B) {
	resp := []byte("HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n3;x=y\r\nabc\r\n0\r\n\r\n")
	rd := &fastLoopReader{data: resp}
	br := bufio.NewReaderSize(rd, 16<<10)
	var fr fastResponse
	b.ReportAllocs()
	b.SetBytes(int64(len(resp)))
	for b.Loop() {
		if err := fastReadResponse(br, false, &fr); err != nil || fr.bytesIn != 5 {
			b.Fatalf("err %v, %d bytes", err, fr.bytesIn)
		}
	}
}

// fastLoopReader returns data over and over.
type fastLoopReader struct {
	data []byte
	off  int
}

func (r *fastLoopReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}
