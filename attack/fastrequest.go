package attack

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/surge-dev/surge/target"
)

// fastRequest is one request serialized for the wire, built once and sent
// as is by every FastClient connection. It is immutable after it is built.
type fastRequest struct {
	raw        []byte // request line, headers and body
	addr       string // host:port to dial
	head       bool   // HEAD: the response has no body
	close      bool   // the request asks the server to close the connection
	idempotent bool   // it may be resent (resend.go)
	err        string // why the request cannot be sent; raw is empty then

	// What building the next hop of a redirect needs.
	method         string
	url            *url.URL
	host           string // Host override; empty for the URL's host
	body           []byte
	orig           *fastRequest // the first request of the chain
	header         http.Header  // headers of the first request (orig only)
	bodyDropped    bool         // an earlier 301/302/303 dropped the body
	stripSensitive bool         // an earlier hop left the original domain
}

// newTargetRequest serializes t. An unsendable target gives a request whose
// err says why, so that every attempt to send it fails the way net/http
// fails.
func newTargetRequest(t *target.Target, noKeepAlive bool) *fastRequest {
	u, err := url.Parse(t.URL)
	if err != nil {
		return &fastRequest{err: err.Error()}
	}
	host := ""
	for k, vs := range t.Header {
		if strings.EqualFold(k, "Host") && len(vs) > 0 {
			host = vs[0]
			break
		}
	}
	req := buildRequest(t.Method, u, t.Header, t.Body, host, noKeepAlive)
	req.orig = req
	req.header = t.Header
	return req
}

// buildRequest serializes a request the way net/http's Client and
// Request.Write do, except that header keys are written exactly as given
// (vegeta keeps their case for servers that care) and in sorted order.
// Host, Content-Length, Transfer-Encoding and Trailer keys in hdr are
// ignored, as net/http ignores them: host and body decide those. User
// information in u becomes an Authorization: Basic field unless hdr has an
// Authorization field (in any case), which wins.
func buildRequest(method string, u *url.URL, hdr http.Header, body []byte, host string, noKeepAlive bool) *fastRequest {
	if method == "" {
		method = http.MethodGet
	}
	req := &fastRequest{method: method, url: u, host: host, body: body, head: method == http.MethodHead,
		idempotent: idempotent(method, hdr)}
	if req.err = checkRequestURL(method, u); req.err != "" {
		return req
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	req.addr = net.JoinHostPort(u.Hostname(), port)
	if host == "" {
		host = u.Host
	}
	if !target.ValidHeaderValue(host) || strings.ContainsAny(host, " \t") {
		req.err = fmt.Sprintf("invalid Host %q", host)
		return req
	}

	keys := make([]string, 0, len(hdr))
	for k := range hdr {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	auth := ""
	if u.User != nil && !hasHeader(hdr, "Authorization") {
		auth = basicAuth(u.User)
	}
	b := make([]byte, 0, requestSize(method, u, hdr, keys, body, host, auth))
	b = appendRequestHead(b, method, u, keys, host, auth)
	b, hasClose, err := appendHeaderFields(b, hdr, keys)
	if err != "" {
		req.err = err
		return req
	}
	if len(body) > 0 || method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	if noKeepAlive && !hasClose {
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "\r\n"...)
	req.raw = append(b, body...)
	req.close = noKeepAlive || hasClose
	return req
}

// checkRequestURL says why the fast client cannot send method to u, as
// net/http says it, or returns "".
func checkRequestURL(method string, u *url.URL) string {
	switch {
	case !target.ValidToken(method):
		return fmt.Sprintf("invalid method %q", method)
	case u.Scheme != "http":
		return fmt.Sprintf("unsupported protocol scheme %q (the fast client speaks plain http)", u.Scheme)
	case u.Host == "":
		return "http: no Host in request URL"
	}
	return ""
}

// requestSize is a capacity for the serialized request large enough that
// building it does not grow the buffer.
func requestSize(method string, u *url.URL, hdr http.Header, keys []string, body []byte, host, auth string) int {
	size := len(method) + len(u.RequestURI()) + len(host) + len(body) + len(auth) + 96
	for _, k := range keys {
		for _, v := range hdr[k] {
			size += len(k) + len(v) + 4
		}
	}
	return size
}

// appendRequestHead appends the request line, Host, a default User-Agent
// unless keys has one, and the Authorization of the URL's user
// information when auth is not empty.
func appendRequestHead(b []byte, method string, u *url.URL, keys []string, host, auth string) []byte {
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, u.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\n"...)
	if !slices.ContainsFunc(keys, func(k string) bool { return fastFold(k, "User-Agent") }) {
		b = append(b, "User-Agent: surge\r\n"...)
	}
	if auth != "" {
		b = append(b, "Authorization: "...)
		b = append(b, auth...)
		b = append(b, "\r\n"...)
	}
	return b
}

// appendHeaderFields appends the fields of hdr in the order of keys, but
// for those that host and body decide. It reports whether a Connection
// field asks to close, or why a field cannot be sent.
func appendHeaderFields(b []byte, hdr http.Header, keys []string) (_ []byte, hasClose bool, err string) {
	for _, k := range keys {
		if fastFold(k, "Host") || fastFold(k, "Content-Length") || fastFold(k, "Transfer-Encoding") || fastFold(k, "Trailer") {
			continue
		}
		if !target.ValidToken(k) {
			return b, false, fmt.Sprintf("invalid header field name %q", k)
		}
		for _, v := range hdr[k] {
			if !target.ValidHeaderValue(v) {
				return b, false, fmt.Sprintf("invalid header field value for %q", k)
			}
			if fastFold(k, "Connection") && fastHasToken([]byte(v), "close") {
				hasClose = true
			}
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, strings.Trim(v, " \t")...)
			b = append(b, "\r\n"...)
		}
	}
	return b, hasClose, ""
}

// follow builds the request that follows a redirect of r with status and
// Location loc, with net/http's rules (client.go: redirectBehavior,
// makeHeadersCopier): 301, 302 and 303 drop the body and turn any method
// but GET and HEAD into GET; 307 and 308 resend method and body; headers of
// the first request are copied, without the body's headers once the body
// is dropped and without credentials once the chain leaves the original
// domain; a Host override survives relative redirects only; Referer names
// the previous URL.
func (r *fastRequest) follow(status int, loc string, noKeepAlive bool) *fastRequest {
	u, err := r.url.Parse(loc)
	if err != nil {
		return &fastRequest{err: fmt.Sprintf("failed to parse Location header %q: %v", loc, err)}
	}
	method, dropped := r.method, r.bodyDropped
	if status == 301 || status == 302 || status == 303 {
		dropped = true
		if method != http.MethodGet && method != http.MethodHead {
			method = http.MethodGet
		}
	}
	host := ""
	if r.host != "" && r.host != r.url.Host {
		if lu, _ := url.Parse(loc); lu != nil && !lu.IsAbs() {
			host = r.host
		}
	}
	orig := r.orig
	strip := r.stripSensitive || orig.url.Host != u.Host && !fastSubdomain(u.Hostname(), orig.url.Hostname())
	hdr := make(http.Header, len(orig.header)+1)
	hasReferer := false
	for k, vs := range orig.header {
		switch strings.ToLower(k) {
		case "authorization", "www-authenticate", "cookie", "cookie2", "proxy-authorization", "proxy-authenticate":
			if strip {
				continue
			}
		case "content-encoding", "content-language", "content-location", "content-type":
			if dropped {
				continue
			}
		case "referer":
			hasReferer = true
		}
		hdr[k] = vs
	}
	if !hasReferer {
		ref := *r.url
		ref.User = nil
		hdr["Referer"] = []string{ref.String()}
	}
	var body []byte
	if !dropped {
		body = orig.body
	}
	next := buildRequest(method, u, hdr, body, host, noKeepAlive)
	next.orig, next.bodyDropped, next.stripSensitive = orig, dropped, strip
	return next
}

// basicAuth returns the Authorization value net/http sends for the user
// information of a URL: "Basic " and base64 of "user:password", both
// unescaped.
func basicAuth(u *url.Userinfo) string {
	pw, _ := u.Password()
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw))
}

// fastSubdomain reports whether sub is parent or a subdomain of it, as
// net/http's isDomainOrSubdomain does.
func fastSubdomain(sub, parent string) bool {
	sub, parent = strings.ToLower(sub), strings.ToLower(parent)
	if sub == parent {
		return true
	}
	if strings.ContainsAny(sub, ":%") {
		return false
	}
	return strings.HasSuffix(sub, "."+parent)
}

// fastFold reports whether a equals b ignoring ASCII case.
func fastFold[T string | []byte](a T, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if fastLower(a[i]) != fastLower(b[i]) {
			return false
		}
	}
	return true
}

func fastLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// fastHasToken reports whether the comma-separated list v holds token
// (ignoring case and surrounding white space), as in "Connection: close".
func fastHasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var item []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			item, v = v[:i], v[i+1:]
		} else {
			item, v = v, nil
		}
		if fastFold(fastTrim(item), token) {
			return true
		}
	}
	return false
}

// fastTrim removes leading and trailing spaces and tabs.
func fastTrim(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
