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
	"net/url"
	"sync"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/target"
)

// HTTPClient sends requests with net/http. It supports everything the
// protocol needs (TLS, HTTP/2, h2c, redirects, proxies) and records DNS,
// connect, TLS and first-byte timings with httptrace.
type HTTPClient struct {
	c *http.Client
}

var _ Client = (*HTTPClient)(nil)

// NewHTTPClient returns an HTTPClient configured from cfg (defaults
// applied).
func NewHTTPClient(cfg Config) (*HTTPClient, error) {
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dialer.DialContext,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: cfg.Insecure}, //nolint:gosec // only on request
		MaxIdleConnsPerHost: cfg.Connections,
		MaxIdleConns:        cfg.Connections,
		MaxConnsPerHost:     cfg.Connections,
		DisableKeepAlives:   cfg.NoKeepAlive,
		DisableCompression:  true,
		ForceAttemptHTTP2:   cfg.HTTP2,
		TLSHandshakeTimeout: cfg.Timeout,
	}
	if cfg.H2C {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		tr.Protocols = &p
	} else if !cfg.HTTP2 {
		var p http.Protocols
		p.SetHTTP1(true)
		tr.Protocols = &p
	}
	redirects := cfg.Redirects
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
	return &HTTPClient{c: c}, nil
}

// NewConn returns a handle sharing the client's connection pool.
func (c *HTTPClient) NewConn() Conn { return &httpConn{c: c.c} }

type httpConn struct {
	c   *http.Client
	buf []byte
	cap []byte // the captured body, reused
}

var _ CaptureConn = (*httpConn)(nil)

// maxCapture bounds the body kept for checks; the rest is read and counted.
const maxCapture = 16 << 20

// phaseTrace collects phase timings of one request.
type phaseTrace struct {
	mu                                   sync.Mutex
	dnsStart, connStart, tlsStart, wrote time.Time
	dns, connect, tls, firstByte         time.Duration
	ct                                   httptrace.ClientTrace
}

func (p *phaseTrace) init() {
	p.ct = httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { p.set(&p.dnsStart) },
		DNSDone:           func(httptrace.DNSDoneInfo) { p.since(&p.dns, &p.dnsStart) },
		ConnectStart:      func(string, string) { p.set(&p.connStart) },
		ConnectDone:       func(string, string, error) { p.since(&p.connect, &p.connStart) },
		TLSHandshakeStart: func() { p.set(&p.tlsStart) },
		TLSHandshakeDone:  func(tls.ConnectionState, error) { p.since(&p.tls, &p.tlsStart) },
		WroteRequest:      func(httptrace.WroteRequestInfo) { p.set(&p.wrote) },
		GotFirstResponseByte: func() {
			p.mu.Lock()
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
	sent := time.Now()
	var body io.Reader
	if len(t.Body) > 0 {
		body = bytes.NewReader(t.Body)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, &tr.ct), t.Method, t.URL, body)
	if err != nil {
		r.Error = requestMessage(err.Error())
		return
	}
	if t.Header != nil {
		req.Header = t.Header
		if host := t.Header.Get("Host"); host != "" {
			req.Host = host
		}
	}
	r.BytesOut = int64(len(t.Body))
	resp, err := h.c.Do(req)
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
	return errorMessage(err)
}
