package attack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/target"
)

// FastClient sends HTTP/1.1 requests over plain TCP at a fraction of
// net/http's CPU cost: each target is serialized once, each Conn keeps one
// keep-alive connection per host with a reused read buffer, and responses
// are parsed in place, so a request allocates nothing in steady state.
//
// It serves http:// targets without a proxy only; NewFastClient says when
// a Config needs HTTPClient instead. Like net/http it follows redirects,
// skips 1xx responses and reads Content-Length, chunked and
// close-delimited bodies, sends the URL's user information as Basic
// authorization unless the target has an Authorization header, and
// resends an idempotent request once, flagged result.Resent, on a new
// connection when a reused one fails before a single response byte
// arrived (see resend.go).
//
// Targets are looked up by pointer: a target must not change after its
// first request.
type FastClient struct {
	loop        loopOptions // for its event loops (loop_linux.go)
	timeout     time.Duration
	redirects   int
	noKeepAlive bool
	tooManyHops string                          // error after following redirects times
	reqs        map[*target.Target]*fastRequest // cfg.Targets; read-only
	mu          sync.Mutex
	others      map[*target.Target]fastOther // targets from elsewhere
}

var _ Client = (*FastClient)(nil)

// fastProxy reports the proxy for a URL; tests replace it, because
// net/http reads the environment once per process.
var fastProxy = http.ProxyFromEnvironment

// fastMaxOthers bounds the cache of targets not in Config.Targets.
const fastMaxOthers = 4096

// NewFastClient returns a FastClient for cfg (its Targets, Timeout and the
// options of its Transport, an HTTPConfig), or an error naming why it
// cannot serve cfg (an https target, h2c requested, a proxy set in the
// environment for a target), so the caller can fall back to
// NewHTTPClient. Zero Timeout and Redirects mean their defaults, as in New.
// The elements of cfg.Targets must stay where they are: requests are
// prebuilt for &cfg.Targets[i].
func NewFastClient(cfg Config) (*FastClient, error) {
	// HTTP2 only allows h2 over TLS, and TLS targets are refused below, so
	// it does not matter here; h2c is HTTP/2 on plain connections.
	h := httpConfig(&cfg)
	if h.H2C {
		return nil, errors.New("fast client: HTTP/2 (h2c) is not supported")
	}
	c := &FastClient{
		loop:        loopOptions{loops: h.Loops, tickWindow: h.TickWindow, off: h.NoEventLoop},
		timeout:     cfg.Timeout,
		redirects:   h.Redirects,
		noKeepAlive: h.NoKeepAlive,
		reqs:        make(map[*target.Target]*fastRequest, len(cfg.Targets)),
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.redirects == 0 {
		c.redirects = DefaultRedirects
	}
	c.tooManyHops = redirectMessage(fmt.Sprintf("stopped after %d redirects", c.redirects))
	for i := range cfg.Targets {
		t := &cfg.Targets[i]
		u, err := url.Parse(t.URL)
		if err == nil && u.Scheme != "http" {
			return nil, fmt.Errorf("fast client: target %d: scheme %q is not supported, only http", i+1, u.Scheme)
		}
		if err == nil {
			if p, _ := fastProxy(&http.Request{URL: u}); p != nil {
				return nil, fmt.Errorf("fast client: target %d: proxy %s is set in the environment", i+1, p.Redacted())
			}
		}
		c.reqs[t] = newTargetRequest(t, c.noKeepAlive)
	}
	return c, nil
}

// NewConn returns a connection handle for one worker.
func (c *FastClient) NewConn() Conn {
	fc := &fastConn{client: c}
	fc.interrupt = fc.stopIO
	return fc
}

// request returns the prebuilt request of t.
func (c *FastClient) request(t *target.Target) *fastRequest {
	if r := c.reqs[t]; r != nil {
		return r
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// A cached target changed in place is built again. Equal strings
	// compare by pointer first, so the check is cheap when nothing changed.
	o, ok := c.others[t]
	if ok && o.src.Method == t.Method && o.src.URL == t.URL && len(o.src.Body) == len(t.Body) && len(o.src.Header) == len(t.Header) {
		return o.req
	}
	if c.others == nil || len(c.others) >= fastMaxOthers {
		c.others = make(map[*target.Target]fastOther)
	}
	r := newTargetRequest(t, c.noKeepAlive)
	c.others[t] = fastOther{src: *t, req: r}
	return r
}

// fastOther is a request built for a target not in Config.Targets, with a
// copy of the target it was built from.
type fastOther struct {
	src target.Target
	req *fastRequest
}

// fastReadBuffer is the size of a connection's read buffer.
const fastReadBuffer = 16 << 10

// fastMaxHosts bounds the connections of one Conn (one per host:port).
const fastMaxHosts = 16

// fastIdleCheck is how long a connection must have been idle before it
// is checked for a close by the server: servers close idle connections
// after a keep-alive timeout of a second or more, and a check costs a
// system call, which back-to-back requests need not pay.
const fastIdleCheck = time.Millisecond

// fastMaxRedirectCache bounds the redirect hops a Conn remembers.
const fastMaxRedirectCache = 16

// Error strings shared with HTTPClient.
const (
	fastTimeout  = "timeout"
	fastCanceled = "canceled: run stopped"
)

// fastConn is one worker's FastClient connections. Only its Do goroutine
// touches it, except stopIO, which context.AfterFunc runs when the run's
// context is cancelled.
type fastConn struct {
	client *FastClient
	hosts  []*fastHost
	dialer net.Dialer
	resp   fastResponse

	redirs fastRedirects

	done      <-chan struct{} // of the context watched
	stopWatch func() bool
	interrupt func() // stopIO, as a func value made once

	mu     sync.Mutex // guards active against stopIO
	active net.Conn   // the connection in use, if any

	// unsent says the last roundTrip failed before the request went out,
	// for lack of a local resource (a descriptor, a port).
	unsent bool
}

// fastHost is a keep-alive connection to one host:port.
type fastHost struct {
	addr string
	nc   net.Conn // nil when closed
	br   *bufio.Reader
	used bool // nc carried a complete exchange, so the server may have closed it while idle
	// armed is the deadline set on nc; see arm.
	armed time.Time
	// idle is when nc's last exchange ended; peek looks at nc without
	// reading it (fastpeek_*.go).
	idle time.Time
	peek fastPeeker
}

// fastRedirect remembers the request a redirect leads to, so following
// the same redirect again allocates nothing.
type fastRedirect struct {
	from   *fastRequest
	status int
	loc    string
	to     *fastRequest
}

// Do sends t and fills r: Status, BytesIn (decoded body bytes of the final
// response), BytesOut, Error, Connect (dial time, when a connection was
// dialed) and FirstByte (from the start of Do to the first byte of the
// final response).
func (c *fastConn) Do(ctx context.Context, t *target.Target, r *result.Result) {
	c.send(ctx, c.client.request(t), t, r)
}

// send sends req, the serialized t, following redirects, and fills r.
func (c *fastConn) send(ctx context.Context, req *fastRequest, t *target.Target, r *result.Result) {
	start := time.Now()
	r.BytesOut = int64(len(t.Body))
	if req.err != "" {
		r.Error = requestMessage(req.err)
		return
	}
	c.watch(ctx)
	deadline := start.Add(c.client.timeout)
	for hop := 0; ; hop++ {
		err := c.roundTrip(ctx, req, start, deadline, r)
		r.Status, r.BytesIn = uint16(c.resp.status), c.resp.bytesIn
		if err != "" {
			r.Error = err
			if hop == 0 && c.unsent {
				r.Flags |= result.NotSent
			}
			return
		}
		next := c.redirect(req)
		if next == nil {
			return
		}
		if next.err != "" {
			r.Error = redirectMessage(next.err)
			return
		}
		if hop >= c.client.redirects {
			r.Error = c.client.tooManyHops
			return
		}
		req = next
	}
}

// redirect returns the request that follows the response just read, or
// nil if it is final.
func (c *fastConn) redirect(req *fastRequest) *fastRequest {
	return c.redirs.next(c.client, req, &c.resp)
}

// fastRedirects remembers the last redirect hops a connection followed.
type fastRedirects struct {
	hops [fastMaxRedirectCache]fastRedirect
	n    int
}

// next returns the request that follows resp, the response to req, or nil
// if resp is final (or c follows no redirects).
func (rc *fastRedirects) next(c *FastClient, req *fastRequest, resp *fastResponse) *fastRequest {
	st := resp.status
	if c.redirects < 0 || len(resp.location) == 0 ||
		st != 301 && st != 302 && st != 303 && st != 307 && st != 308 {
		return nil
	}
	for i := range rc.hops[:min(rc.n, len(rc.hops))] {
		e := &rc.hops[i]
		if e.from == req && e.status == st && e.loc == string(resp.location) {
			return e.to
		}
	}
	loc := string(resp.location)
	next := req.follow(st, loc, c.noKeepAlive)
	rc.hops[rc.n%len(rc.hops)] = fastRedirect{from: req, status: st, loc: loc, to: next}
	rc.n++
	return next
}

// roundTrip sends req on the connection to its host and reads the
// response into c.resp. It returns an error string, empty on success.
func (c *fastConn) roundTrip(ctx context.Context, req *fastRequest, start, deadline time.Time, r *result.Result) string {
	c.resp.status, c.resp.bytesIn = 0, 0
	c.unsent = false
	h := c.host(req.addr)
	if h.nc != nil && h.br.Buffered() > 0 {
		// Bytes nobody asked for: the connection is out of step.
		c.closeHost(h)
	}
	if h.nc != nil && h.used && start.Sub(h.idle) > fastIdleCheck && h.peek.closed() {
		// The server closed the connection while it was idle (its
		// keep-alive timeout): a request sent on it would be lost, and
		// not every request may be resent. net/http's Transport notices
		// the same with a read it keeps pending on idle connections.
		c.closeHost(h)
	}
	for {
		if h.nc == nil {
			if err := c.dial(ctx, h, deadline, r); err != "" {
				// A resend may follow a request the server saw.
				c.unsent = r.Flags&result.Resent == 0 && result.ClassOf(err) == result.ClassLocal
				return err
			}
		}
		// A reused connection may have been closed by the server while
		// idle. If so, the write or the first read fails before any byte
		// of a response arrived, and an idempotent request is sent once
		// more on a new connection (resend.go). The server may have read
		// it before closing, so anything else fails.
		resend := h.used && req.idempotent && r.Flags&result.Resent == 0
		c.arm(h, deadline)
		if ctx.Err() != nil {
			c.closeHost(h)
			return fastCanceled
		}
		if _, err := h.nc.Write(req.raw); err != nil {
			c.closeHost(h)
			if resend && connLost(err) && ctx.Err() == nil {
				r.Flags |= result.Resent
				continue
			}
			return c.errString(ctx, err)
		}
		if _, err := h.br.Peek(1); err != nil {
			c.closeHost(h)
			if resend && connLost(err) && ctx.Err() == nil {
				r.Flags |= result.Resent
				continue
			}
			return c.errString(ctx, err)
		}
		r.FirstByte = time.Since(start)
		if err := fastReadResponse(h.br, req.head, &c.resp); err != nil {
			c.closeHost(h)
			return c.errString(ctx, err)
		}
		if c.resp.close || req.close {
			c.closeHost(h)
		} else {
			h.used = true
			h.idle = time.Now()
		}
		return ""
	}
}

// host returns the connection state for addr.
func (c *fastConn) host(addr string) *fastHost {
	for _, h := range c.hosts {
		if h.addr == addr {
			return h
		}
	}
	if len(c.hosts) == fastMaxHosts {
		h := c.hosts[len(c.hosts)-1]
		c.closeHost(h)
		h.addr = addr
		return h
	}
	h := &fastHost{addr: addr}
	c.hosts = append(c.hosts, h)
	return h
}

func (c *fastConn) dial(ctx context.Context, h *fastHost, deadline time.Time, r *result.Result) string {
	t0 := time.Now()
	c.dialer.Deadline = deadline
	nc, err := c.dialer.DialContext(ctx, "tcp", h.addr)
	r.Connect += time.Since(t0)
	if err != nil {
		return c.errString(ctx, err)
	}
	h.nc, h.used, h.armed = nc, false, time.Time{}
	h.peek.reset(nc)
	if h.br == nil {
		h.br = bufio.NewReaderSize(nc, fastReadBuffer)
	} else {
		h.br.Reset(nc)
	}
	return ""
}

// arm makes nc the connection stopIO interrupts and gives it the
// request's deadline.
//
// Setting a deadline costs a trip through the runtime's timer heap (5 % of
// the engine's CPU at max rate), so the deadline is moved only when the
// armed one would fire too early, and then a little beyond the request's
// own: a request times out between Timeout and Timeout + 1/16 of it (at
// most 250ms later).
func (c *fastConn) arm(h *fastHost, deadline time.Time) {
	c.mu.Lock()
	c.active = h.nc
	if h.armed.Before(deadline) {
		slack := min(c.client.timeout/16, 250*time.Millisecond)
		h.armed = deadline.Add(slack)
		h.nc.SetDeadline(h.armed)
	}
	c.mu.Unlock()
}

func (c *fastConn) closeHost(h *fastHost) {
	if h.nc == nil {
		return
	}
	c.mu.Lock()
	if c.active == h.nc {
		c.active = nil
	}
	c.mu.Unlock()
	h.nc.Close()
	h.nc, h.used = nil, false
}

// watch makes sure that cancelling ctx interrupts the request in flight.
// The engine passes the same context to every Do of a run, so this
// registers one context.AfterFunc per run, not per request.
func (c *fastConn) watch(ctx context.Context) {
	done := ctx.Done()
	if done == c.done {
		return
	}
	if c.stopWatch != nil {
		c.stopWatch()
		c.stopWatch = nil
	}
	c.done = done
	if done != nil {
		c.stopWatch = context.AfterFunc(ctx, c.interrupt)
	}
}

// fastPast is a deadline that has passed.
var fastPast = time.Unix(1, 0)

// stopIO makes the blocked read or write of the request in flight fail at
// once. Do checks the context after arming a connection, so a
// cancellation between the two is not lost.
func (c *fastConn) stopIO() {
	c.mu.Lock()
	if c.active != nil {
		c.active.SetDeadline(fastPast)
	}
	c.mu.Unlock()
}

// Close closes the connections and stops watching the context.
func (c *fastConn) Close() {
	if c.stopWatch != nil {
		c.stopWatch()
		c.stopWatch = nil
	}
	for _, h := range c.hosts {
		c.closeHost(h)
	}
	c.done = nil
}

// errString is the recorded Error of err (see errorMessage): "timeout",
// "canceled: run stopped", "refused: dial tcp 127.0.0.1:1: connect:
// connection refused", "reset: read tcp 127.0.0.1:8080: read: connection
// reset by peer", "eof: EOF", or "protocol: " and what was malformed.
func (c *fastConn) errString(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return fastCanceled
	}
	if fe, ok := errors.AsType[fastError](err); ok {
		return parseMessage(fe)
	}
	return errorMessage(err)
}
