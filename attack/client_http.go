package attack

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/target"
)

// HTTPClient sends requests with net/http. It supports everything the
// protocol needs (TLS, HTTP/2, h2c, redirects, proxies) and records DNS,
// connect, TLS and first-byte timings with httptrace.
//
// It behaves as FastClient does where the two could differ: it resends a
// request only as resend.go says, and flags the resend (net/http's
// Transport would repeat GET, HEAD, OPTIONS and TRACE requests silently,
// and more than once); an explicit Authorization header wins over the
// URL's user information in any letter case; and response heads have the
// same limits (maxHeadBytes, fastMax1xx).
type HTTPClient struct {
	c       *http.Client
	timeout time.Duration
}

var _ Client = (*HTTPClient)(nil)

// NewHTTPClient returns an HTTPClient for cfg: its Timeout and
// Connections, and the options of its Transport, an HTTPConfig (zero
// Redirects means DefaultRedirects).
func NewHTTPClient(cfg Config) (*HTTPClient, error) {
	h := httpConfig(&cfg)
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		// The Transport asks for the proxy before every attempt to send a
		// request, and so before each of its own retries: resendGuard
		// decides whether one may go out.
		Proxy: resendGuard,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &trackedConn{Conn: c}, nil
		},
		// The Transport counts the bytes it reads ahead of the head's end
		// too (up to its 4 KiB buffer); do checks the head's own size.
		MaxResponseHeaderBytes: maxHeadBytes + 4<<10,
		TLSClientConfig:        &tls.Config{InsecureSkipVerify: h.Insecure}, //nolint:gosec // only on request
		MaxIdleConnsPerHost:    cfg.Connections,
		MaxIdleConns:           cfg.Connections,
		MaxConnsPerHost:        cfg.Connections,
		DisableKeepAlives:      h.NoKeepAlive,
		DisableCompression:     true,
		ForceAttemptHTTP2:      h.HTTP2,
		TLSHandshakeTimeout:    cfg.Timeout,
	}
	if h.H2C {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		tr.Protocols = &p
	} else if !h.HTTP2 {
		var p http.Protocols
		p.SetHTTP1(true)
		tr.Protocols = &p
	}
	redirects := h.Redirects
	c := &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if redirects < 0 {
				return http.ErrUseLastResponse
			}
			if len(via) > redirects {
				return fmt.Errorf("stopped after %d redirects", redirects)
			}
			return nil
		},
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &HTTPClient{c: c, timeout: timeout}, nil
}

// NewConn returns a handle sharing the client's connection pool.
func (c *HTTPClient) NewConn() Conn { return &httpConn{c: c.c, timeout: c.timeout} }

type httpConn struct {
	c       *http.Client
	timeout time.Duration
	buf     []byte
	cap     []byte // the captured body, reused
}

var _ CaptureConn = (*httpConn)(nil)

// maxCapture bounds the body kept for checks; the rest is read and counted.
const maxCapture = 16 << 20

// phaseTrace collects phase timings of one request, and what deciding on
// resends needs.
type phaseTrace struct {
	mu                                   sync.Mutex
	dnsStart, connStart, tlsStart, wrote time.Time
	dns, connect, tls, firstByte         time.Duration
	ct                                   httptrace.ClientTrace
	ctx                                  traceContext

	// The attempt in progress: its connection, whether that was reused,
	// and whether it got a connection and no response byte yet.
	conn    *trackedConn
	reused  bool
	pending bool
	// mayResend says the request is idempotent; resent, that it was sent
	// again; lost, why the attempt resendGuard refused to repeat failed.
	mayResend, resent bool
	lost              error
	n1xx              int
}

// traceContext carries its phaseTrace to resendGuard without a
// context.WithValue allocation per request.
type traceContext struct {
	context.Context
	p *phaseTrace
}

type phaseKey struct{}

func (c *traceContext) Value(key any) any {
	if key == (phaseKey{}) {
		return c.p
	}
	return c.Context.Value(key)
}

func (p *phaseTrace) init() {
	p.ct = httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			p.mu.Lock()
			p.conn, _ = netConn(info.Conn).(*trackedConn)
			p.reused, p.pending, p.n1xx = info.Reused, true, 0
			p.mu.Unlock()
		},
		// Interim responses are limited as FastClient limits them; with
		// this hook the Transport limits each head on its own, as
		// FastClient does.
		Got1xxResponse: func(code int, header textproto.MIMEHeader) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.n1xx++; p.n1xx > fastMax1xx {
				return errFastTooMany1xx
			}
			if headSize(header) > maxHeadBytes {
				return errFastHeaderTooLarge
			}
			return nil
		},
		DNSStart:          func(httptrace.DNSStartInfo) { p.set(&p.dnsStart) },
		DNSDone:           func(httptrace.DNSDoneInfo) { p.since(&p.dns, &p.dnsStart) },
		ConnectStart:      func(string, string) { p.set(&p.connStart) },
		ConnectDone:       func(string, string, error) { p.since(&p.connect, &p.connStart) },
		TLSHandshakeStart: func() { p.set(&p.tlsStart) },
		TLSHandshakeDone:  func(tls.ConnectionState, error) { p.since(&p.tls, &p.tlsStart) },
		WroteRequest:      func(httptrace.WroteRequestInfo) { p.set(&p.wrote) },
		GotFirstResponseByte: func() {
			p.mu.Lock()
			p.pending = false
			if !p.wrote.IsZero() {
				p.firstByte = time.Since(p.wrote)
			}
			p.mu.Unlock()
		},
	}
}

func (p *phaseTrace) set(t *time.Time) {
	p.mu.Lock()
	*t = time.Now()
	p.mu.Unlock()
}

func (p *phaseTrace) since(d *time.Duration, t *time.Time) {
	p.mu.Lock()
	*d = time.Since(*t)
	p.mu.Unlock()
}

func (h *httpConn) Do(ctx context.Context, t *target.Target, r *result.Result) {
	h.do(ctx, t, r, nil)
}

// DoCapture implements CaptureConn: it sends t as Do does and keeps the
// response's header and up to maxCapture bytes of its body in resp. The
// body is valid until the next request of h.
func (h *httpConn) DoCapture(ctx context.Context, t *target.Target, r *result.Result, resp *Response) {
	h.do(ctx, t, r, resp)
}

func (h *httpConn) do(ctx context.Context, t *target.Target, r *result.Result, capture *Response) {
	// A fresh trace per request: the Transport may finish a dial it started
	// for this request in the background, after the request has completed
	// on another connection, and call the hooks then.
	tr := new(phaseTrace)
	tr.init()
	tr.mayResend = idempotent(t.Method, t.Header)
	sent := time.Now()
	r.BytesOut = int64(len(t.Body))
	tr.ctx = traceContext{Context: ctx, p: tr}
	resp, err := h.send(&tr.ctx, t, tr)
	if re, ok := errors.AsType[requestError](err); ok {
		r.Error = requestMessage(re.Error())
		return
	}
	if err != nil && tr.resendNow(ctx, err) {
		// net/http does not repeat PUT and DELETE itself: a new Do does,
		// within what is left of the request's timeout. The first
		// request's context stays as it was: the Transport may still
		// read it.
		dctx, cancel := context.WithDeadline(ctx, sent.Add(h.timeout))
		defer cancel()
		resp, err = h.send(&traceContext{Context: dctx, p: tr}, t, tr)
	}
	tr.mu.Lock()
	if tr.resent {
		r.Flags |= result.Resent
	}
	lost := tr.lost
	tr.mu.Unlock()
	if errors.Is(err, errNoResend) {
		// resendGuard refused a repeat: the failure of the attempt before
		// it is the request's.
		err = lost
	}
	if err != nil {
		r.Error = errorString(err)
		if result.ClassOf(r.Error) == result.ClassLocal && !tr.wroteAny() {
			// The generator's failure (no descriptor, no port): nothing
			// went out.
			r.Flags |= result.NotSent
		}
		tr.record(r, sent)
		return
	}
	if headSize(resp.Header) > maxHeadBytes {
		resp.Body.Close()
		r.Error = parseMessage(errFastHeaderTooLarge)
		tr.record(r, sent)
		return
	}
	r.Status = uint16(resp.StatusCode)
	if h.buf == nil {
		h.buf = make([]byte, 32<<10)
	}
	if capture != nil {
		capture.Status, capture.Header = resp.StatusCode, resp.Header
		h.cap = h.cap[:0]
	}
	var n int64
	for {
		m, err := resp.Body.Read(h.buf)
		n += int64(m)
		if capture != nil && len(h.cap) < maxCapture {
			h.cap = append(h.cap, h.buf[:min(m, maxCapture-len(h.cap))]...)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			r.Error = errorString(err)
			break
		}
	}
	resp.Body.Close()
	r.BytesIn = n
	if capture != nil {
		capture.Body = h.cap
	}
	tr.record(r, sent)
}

// wroteAny reports whether a request of the exchange was written.
func (p *phaseTrace) wroteAny() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.wrote.IsZero()
}

// send sends t once with h's client, tracing it with tr; ctx carries tr.
func (h *httpConn) send(ctx *traceContext, t *target.Target, tr *phaseTrace) (*http.Response, error) {
	var body io.Reader
	if len(t.Body) > 0 {
		body = bytes.NewReader(t.Body)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, &tr.ct), t.Method, t.URL, body)
	if err != nil {
		return nil, requestError{err}
	}
	if t.Header != nil {
		req.Header = t.Header
		if host := t.Header.Get("Host"); host != "" {
			req.Host = host
		}
		if req.URL.User != nil && hasHeader(t.Header, "Authorization") {
			// net/http looks for the canonical key only; any spelling of
			// an explicit Authorization field wins over the URL's user.
			req.URL.User = nil
		}
	}
	return h.c.Do(req)
}

// requestError is the error of a request that could not be built.
type requestError struct{ error }

// errNoResend is what resendGuard stops a repeat of a request with; do
// replaces it with the failure of the attempt before.
var errNoResend = errors.New("attack: no resend")

// errLostConn stands for a failure the connection did not record.
var errLostConn = errors.New("connection closed before the response")

// resendGuard is the Transport's Proxy: asked before every attempt to
// send a request, it refuses the attempts after the first unless
// resend.go allows one (the Transport retries only when a reused
// connection failed before the response), then names the proxy from the
// environment as net/http does.
func resendGuard(req *http.Request) (*url.URL, error) {
	if p, _ := req.Context().Value(phaseKey{}).(*phaseTrace); p != nil {
		p.mu.Lock()
		if p.pending {
			// The attempt before got a connection and no response.
			p.pending = false
			if !p.mayResend || p.resent {
				p.lost = errLostConn
				if p.conn != nil {
					if err := p.conn.lastErr(); err != nil {
						p.lost = err
					}
				}
				p.mu.Unlock()
				return nil, errNoResend
			}
			p.resent = true
		}
		p.mu.Unlock()
	}
	return http.ProxyFromEnvironment(req)
}

// resendNow reports whether do should send the request again after err:
// it may be repeated and was not yet, and it failed on a reused connection
// that the server closed before the response.
func (p *phaseTrace) resendNow(ctx context.Context, err error) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.mayResend || p.resent || !p.reused || !p.pending || ctx.Err() != nil {
		return false
	}
	// The Transport's error when the close came before it counted the
	// request as sent is unexported.
	if !connLost(err) && !strings.Contains(err.Error(), "server closed idle connection") {
		return false
	}
	p.resent, p.pending = true, false
	return true
}

// trackedConn is a connection of the Transport that remembers its last
// read or write error, the reason an attempt failed when resendGuard
// refuses the Transport's repeat of it.
type trackedConn struct {
	net.Conn
	mu  sync.Mutex
	err error
}

func (c *trackedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		c.setErr(err)
	}
	return n, err
}

func (c *trackedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err != nil {
		c.setErr(err)
	}
	return n, err
}

func (c *trackedConn) setErr(err error) {
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
}

func (c *trackedConn) lastErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// netConn returns the connection under a TLS connection.
func netConn(c net.Conn) net.Conn {
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok {
		return tc.NetConn()
	}
	return c
}

// headSize returns the size of a response head with header h, as it
// would be sent with the shortest spelling ("Key: value" lines, CRLF
// endings, a status line of about 16 bytes).
func headSize[H ~map[string][]string](h H) int {
	n := 16 + 2
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n
}

// record copies the phase timings into r. Hooks of a background dial may
// still run, so it reads under the trace's lock.
func (p *phaseTrace) record(r *result.Result, sent time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r.DNS, r.Connect, r.TLS = p.dns, p.connect, p.tls
	if p.firstByte > 0 {
		// First byte counted from the start of the exchange, so it is
		// comparable with Latency minus send lag.
		r.FirstByte = p.wrote.Sub(sent) + p.firstByte
	}
}

func (h *httpConn) Close() {}

// errorString is the recorded Error of a failed exchange, as every client
// writes it (errorMessage). The method and URL are already in the result's
// label, so net/http's `Get "http://host/path": ` is left out.
func errorString(err error) string {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	if fe, ok := errors.AsType[fastError](err); ok {
		// A limit of a response head (Got1xxResponse), as FastClient
		// records it.
		return parseMessage(fe)
	}
	if s := err.Error(); strings.Contains(s, "server response headers exceeded") || strings.Contains(s, "response header list larger than") {
		// net/http's head limit (the error has no exported type), as
		// FastClient records it.
		return parseMessage(errFastHeaderTooLarge)
	}
	return errorMessage(err)
}
