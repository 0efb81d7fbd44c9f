package attack

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultServer is a raw HTTP/1.1 server on 127.0.0.1 for tests of what the
// clients do with a misbehaving server. Each accepted connection is handed
// to serve, which reads requests with readRequest (counted in reads) and
// answers them, or not, as its fault dictates. The server counts only the
// requests it read completely, so reads is what the server saw, to compare
// with what surge recorded.
type faultServer struct {
	URL   string
	serve func(c *faultConn)
	reads atomic.Int64

	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  chan struct{}
}

// faultConn is one connection of a faultServer.
type faultConn struct {
	net.Conn
	s *faultServer
	r *bufio.Reader
	// n counts the requests read on this connection.
	n int
}

// faultRequest is what readRequest parsed of a request.
type faultRequest struct {
	method string
	header map[string][]string // keys lower-cased
}

// newFaultServer starts a faultServer that hands each connection to serve;
// it is closed when the test ends.
func newFaultServer(tb testing.TB, serve func(c *faultConn)) *faultServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &faultServer{URL: "http://" + ln.Addr().String(), serve: serve, ln: ln,
		conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[nc] = struct{}{}
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() {
					nc.Close()
					s.mu.Lock()
					delete(s.conns, nc)
					s.mu.Unlock()
				}()
				serve(&faultConn{Conn: nc, s: s, r: bufio.NewReaderSize(nc, 64<<10)})
			}()
		}
	}()
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server and waits for its handlers, so that reads is
// final. Handlers get up to 5s to end by themselves, when the client
// closes its connections, so that no request whose bytes arrived goes
// uncounted on a loaded machine; then their connections are closed. It
// may be called more than once.
func (s *faultServer) Close() {
	select {
	case <-s.done:
		return
	default:
	}
	s.ln.Close()
	ended := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
	}
	close(s.done)
	s.mu.Lock()
	for nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// readRequest reads one request: its head and a Content-Length or chunked
// body. It counts the request once the body is read.
func (c *faultConn) readRequest() (*faultRequest, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	method, _, ok := strings.Cut(line, " ")
	if !ok {
		return nil, fmt.Errorf("bad request line %q", line)
	}
	req := &faultRequest{method: method, header: map[string][]string{}}
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("bad header line %q", line)
		}
		k = strings.ToLower(k)
		req.header[k] = append(req.header[k], strings.TrimSpace(v))
	}
	if cl := req.header["content-length"]; len(cl) > 0 {
		n, err := strconv.Atoi(cl[0])
		if err != nil {
			return nil, err
		}
		if _, err := c.r.Discard(n); err != nil {
			return nil, err
		}
	} else if te := req.header["transfer-encoding"]; len(te) > 0 {
		for {
			line, err := c.r.ReadString('\n')
			if err != nil {
				return nil, err
			}
			n, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
			if err != nil {
				return nil, err
			}
			if _, err := c.r.Discard(int(n) + 2); err != nil {
				return nil, err
			}
			if n == 0 {
				break
			}
		}
	}
	c.n++
	c.s.reads.Add(1)
	return req, nil
}

// waitClose blocks until the client closes the connection or the server
// stops.
func (c *faultConn) waitClose() { io.Copy(io.Discard, c.r) }

// reset closes the connection with a TCP reset instead of a FIN.
func (c *faultConn) reset() {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// faultOK is the answer of a healthy keep-alive server.
const faultOK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

// serveOK answers every request with faultOK.
func serveOK(c *faultConn) {
	for {
		if _, err := c.readRequest(); err != nil {
			return
		}
		if _, err := io.WriteString(c, faultOK); err != nil {
			return
		}
	}
}

// faultHead returns a 200 response head with Content-Length 2 whose
// header fields make the head (status line to blank line) size bytes long.
func faultHead(size int) []byte {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n")
	line := "X-Filler: " + strings.Repeat("a", 1000) + "\r\n"
	for b.Len()+len(line)+2 <= size {
		b.WriteString(line)
	}
	if rest := size - b.Len() - 2; rest > 0 {
		// A last, shorter field ("X: " and CRLF take 5 bytes).
		b.WriteString("X: " + strings.Repeat("b", max(0, rest-5)) + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// The faults every client is tested against (TestFaults), one server
// behaviour each.
var (
	// faultResetMidBody promises 1000 bytes of body, sends 100 and resets.
	faultResetMidBody = func(c *faultConn) {
		if _, err := c.readRequest(); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"+strings.Repeat("x", 100))
		time.Sleep(10 * time.Millisecond) // let the client read what came
		c.reset()
	}
	// faultSlowHead sends its head one byte every 20ms and never ends it.
	faultSlowHead = func(c *faultConn) {
		if _, err := c.readRequest(); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\n")
		for {
			if _, err := io.WriteString(c, "X"); err != nil {
				return
			}
			select {
			case <-c.s.done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	// faultNoAnswer reads the request and never answers.
	faultNoAnswer = func(c *faultConn) {
		if _, err := c.readRequest(); err != nil {
			return
		}
		c.waitClose()
	}
	// faultCloseAfterAccept closes each connection as soon as it is
	// accepted, reading nothing.
	faultCloseAfterAccept = func(c *faultConn) {}
	// faultInterim sends a 100 and a 103 before each 200.
	faultInterim = func(c *faultConn) {
		for {
			if _, err := c.readRequest(); err != nil {
				return
			}
			if _, err := io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"+faultOK); err != nil {
				return
			}
		}
	}
	// faultCloseDelimited answers with a body that ends with the
	// connection (no Content-Length, no chunks).
	faultCloseDelimited = func(c *faultConn) {
		if _, err := c.readRequest(); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"+strings.Repeat("y", 300))
	}
	// faultShortBody promises 100 bytes, sends 50 and closes.
	faultShortBody = func(c *faultConn) {
		if _, err := c.readRequest(); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"+strings.Repeat("z", 50))
	}
	// faultHugeHead answers with 2 MiB of header fields.
	faultHugeHead = func(c *faultConn) {
		head := faultHead(2 << 20)
		for {
			if _, err := c.readRequest(); err != nil {
				return
			}
			if _, err := c.Write(append(head, "ok"...)); err != nil {
				return
			}
		}
	}
	// faultReadThenClose answers the first request of a connection
	// (keep-alive), and closes the connection after reading the second,
	// without answering: what a server with a per-connection request
	// limit or a keep-alive timeout racing the next request does.
	faultReadThenClose = func(c *faultConn) {
		for {
			if _, err := c.readRequest(); err != nil {
				return
			}
			if c.n > 1 {
				return
			}
			if _, err := io.WriteString(c, faultOK); err != nil {
				return
			}
		}
	}
)
