package attack

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/target"
)

func TestFastClientRedirects(t *testing.T) {
	other, _ := fastServer(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s auth=%q type=%q", r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"))
	}, nil)
	type seen struct{ method, path, body, host, referer string }
	var mu sync.Mutex
	var log []seen
	srv, _ := fastServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		log = append(log, seen{r.Method, r.URL.Path, string(b), r.Host, r.Referer()})
		mu.Unlock()
		switch r.URL.Path {
		case "/a":
			http.Redirect(w, r, "/b?x=1", 302)
		case "/b":
			w.Header().Set("Location", "c") // relative to /b
			w.WriteHeader(302)
		case "/loop":
			http.Redirect(w, r, "/loop", 301)
		case "/303":
			http.Redirect(w, r, "/c", 303)
		case "/307":
			http.Redirect(w, r, "/c", 307)
		case "/away":
			// Another host name for the same address: credentials stay behind.
			http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/there", 308)
		case "/nolocation":
			w.WriteHeader(302)
		case "/https":
			http.Redirect(w, r, "https://example.com/", 302)
		default:
			io.WriteString(w, "done")
		}
	}, nil)
	host := strings.TrimPrefix(srv.URL, "http://")
	take := func() []seen {
		mu.Lock()
		defer mu.Unlock()
		l := log
		log = nil
		return l
	}

	conn := newFast(t, Config{})
	for range 2 { // the second time from the Conn's redirect cache
		wantOK(t, fastDo(conn, &target.Target{Method: "GET", URL: srv.URL + "/a"}), 200, 4)
		got := take()
		if len(got) != 3 || got[1].path != "/b" || got[2].path != "/c" || got[2].referer != srv.URL+"/b?x=1" {
			t.Fatalf("server saw %+v, want /a, /b, /c with Referer", got)
		}
	}

	wantOK(t, newFastDo(t, Config{Transport: HTTPConfig{Redirects: -1}}, &target.Target{Method: "GET", URL: srv.URL + "/a"}), 302, int64(len("<a href=\"/b?x=1\">Found</a>.\n\n")))
	if r := newFastDo(t, Config{Transport: HTTPConfig{Redirects: 1}}, &target.Target{Method: "GET", URL: srv.URL + "/a"}); r.Error != "redirect: stopped after 1 redirects" {
		t.Errorf("chain of 2 with Redirects 1: error %q, want stopped after 1 redirects", r.Error)
	}
	take()
	if r := fastDo(conn, &target.Target{Method: "GET", URL: srv.URL + "/loop"}); r.Error != "redirect: stopped after 10 redirects" || len(take()) != 11 {
		t.Errorf("redirect loop: error %q, want stopped after 10 redirects after 11 requests", r.Error)
	}
	take()
	wantOK(t, fastDo(conn, &target.Target{Method: "GET", URL: srv.URL + "/nolocation"}), 302, 0)
	if r := fastDo(conn, &target.Target{Method: "GET", URL: srv.URL + "/https"}); !strings.Contains(r.Error, `unsupported protocol scheme "https"`) {
		t.Errorf("redirect to https: error %q", r.Error)
	}
	take()

	// 303 and 301/302 after POST become GET without a body; 307 keeps both.
	post := func(path string) target.Target {
		return target.Target{Method: "POST", URL: srv.URL + path, Body: []byte("payload"),
			Header: http.Header{"Content-Type": {"text/plain"}, "Host": {"override.test"}}}
	}
	for _, tc := range []struct {
		path string
		last seen
	}{
		{"/303", seen{"GET", "/c", "", "override.test", srv.URL + "/303"}},
		{"/307", seen{"POST", "/c", "payload", "override.test", srv.URL + "/307"}},
	} {
		tg := post(tc.path)
		wantOK(t, fastDo(conn, &tg), 200, 4)
		got := take()
		if len(got) != 2 || got[0].body != "payload" || got[1] != tc.last {
			t.Errorf("%s: server saw %+v, want the second request %+v", tc.path, got, tc.last)
		}
	}

	// Another host gets its own connection, without credentials.
	tg := post("/away")
	tg.Header = http.Header{"Authorization": {"secret"}, "Content-Type": {"a/b"}}
	want := `POST /there auth="" type="a/b"`
	if r := fastDo(conn, &tg); r.Error != "" || r.Status != 200 || r.BytesIn != int64(len(want)) {
		t.Errorf("cross-host 308: got status %d, %d bytes in, error %q; want %q", r.Status, r.BytesIn, r.Error, want)
	}
	wantOK(t, fastDo(conn, &target.Target{Method: "GET", URL: "http://" + host + "/c"}), 200, 4)
}

// newFastDo sends one request with a new client for cfg.
func newFastDo(t *testing.T, cfg Config, tg *target.Target) result.Result {
	t.Helper()
	return fastDo(newFast(t, cfg), tg)
}

// TestFastClientRequestBytes checks the exact bytes on the wire: header
// keys keep their case, Host and Content-Length come from the target.
func TestFastClientRequestBytes(t *testing.T) {
	heads := make(chan string, 4)
	bodies := make(chan string, 4)
	u := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		for {
			head, body, err := readRawRequest(br)
			if err != nil {
				return
			}
			heads <- head
			bodies <- body
			io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n")
		}
	})
	host := strings.TrimPrefix(u, "http://")
	for _, tc := range []struct {
		name string
		tg   target.Target
		cfg  Config
		head string
	}{
		{"post", target.Target{Method: "POST", URL: u + "/p/a%20th?q=1&r=%2F#frag", Body: []byte("body\x00bytes"),
			Header: http.Header{"x-MiXed": {"v1", " v2 "}, "Content-Type": {"application/json"}, "content-length": {"999"}}}, Config{},
			"POST /p/a%20th?q=1&r=%2F HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: surge\r\nContent-Type: application/json\r\n" +
				"x-MiXed: v1\r\nx-MiXed: v2\r\nContent-Length: 10\r\n\r\n"},
		{"empty put", target.Target{Method: "PUT", URL: u}, Config{Transport: HTTPConfig{NoKeepAlive: true}},
			"PUT / HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: surge\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
		{"host and agent", target.Target{URL: u + "/x", Header: http.Header{"host": {"virtual.test:8080"}, "USER-AGENT": {"me"}}}, Config{},
			"GET /x HTTP/1.1\r\nHost: virtual.test:8080\r\nUSER-AGENT: me\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Targets = []target.Target{tc.tg}
			r := newFastDo(t, tc.cfg, &tc.cfg.Targets[0])
			wantOK(t, r, 204, 0)
			if head := <-heads; head != tc.head {
				t.Errorf("server got\n%q\nwant\n%q", head, tc.head)
			}
			if body := <-bodies; body != string(tc.tg.Body) || r.BytesOut != int64(len(tc.tg.Body)) {
				t.Errorf("server got body %q, bytes out %d; want %q", body, r.BytesOut, tc.tg.Body)
			}
		})
	}
}

func TestFastClientHostHeader(t *testing.T) {
	hosts := make(chan string, 1)
	srv, _ := fastServer(t, func(w http.ResponseWriter, r *http.Request) {
		hosts <- r.Host
	}, nil)
	tg := &target.Target{Method: "GET", URL: srv.URL, Header: http.Header{"Host": {"api.example.test"}}}
	wantOK(t, newFastDo(t, Config{}, tg), 200, 0)
	if h := <-hosts; h != "api.example.test" {
		t.Errorf("server saw host %q, want api.example.test", h)
	}
}

func TestFastClientErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	conn := newFast(t, Config{})
	for _, tc := range []struct {
		tg   target.Target
		want string
	}{
		{target.Target{Method: "GET", URL: "http://" + addr}, "refused: dial tcp " + addr + ": connect: connection refused"},
		{target.Target{Method: "GET", URL: "https://example.com"}, `request: unsupported protocol scheme "https" (the fast client speaks plain http)`},
		{target.Target{Method: "GET", URL: "http://x/", Header: http.Header{"Bad Key": {"v"}}}, `request: invalid header field name "Bad Key"`},
		{target.Target{Method: "GET", URL: "http://x/", Header: http.Header{"K": {"a\r\nInjected: 1"}}}, `request: invalid header field value for "K"`},
		{target.Target{Method: "GE T", URL: "http://x/"}, `request: invalid method "GE T"`},
		{target.Target{Method: "GET", URL: "http://x/%zz"}, `request: parse "http://x/%zz": invalid URL escape "%zz"`},
	} {
		if r := fastDo(conn, &tc.tg); r.Error != tc.want {
			t.Errorf("%s %s: error %q, want %q", tc.tg.Method, tc.tg.URL, r.Error, tc.want)
		}
	}
}

func TestNewFastClientRefuses(t *testing.T) {
	defer func(p func(*http.Request) (*url.URL, error)) { fastProxy = p }(fastProxy)
	fastProxy = func(r *http.Request) (*url.URL, error) {
		if r.URL.Host == "proxied.test" {
			return url.Parse("http://user:pw@proxy.test:3128")
		}
		return nil, nil
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"https", Config{Targets: get("https://example.com")}, `fast client: target 1: scheme "https" is not supported, only http`},
		{"h2c", Config{Transport: HTTPConfig{H2C: true}, Targets: get("http://example.com")}, "fast client: HTTP/2 (h2c) is not supported"},
		{"http2 with plain http is served", Config{Transport: HTTPConfig{HTTP2: true}, Targets: get("http://example.com")}, ""},
		{"proxy", Config{Targets: get("http://proxied.test/")}, "fast client: target 1: proxy http://user:xxxxx@proxy.test:3128 is set in the environment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewFastClient(tc.cfg)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
				t.Errorf("got error %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := NewFastClient(Config{Targets: get("http://example.com")}); err != nil {
		t.Errorf("plain http target: %v", err)
	}
}

// FuzzBuildRequest serializes arbitrary requests: a request the fast
// client would send must be one net/http reads back with the same method,
// request URI, Host and body, and one it refuses must say why.
func FuzzBuildRequest(f *testing.F) {
	f.Add("POST", "http://127.0.0.1:8080/p/a%20th?q=1", "x-MiXed", " v2 ", []byte("body"), "", false)
	f.Add("GET", "http://user:pw@example.test/", "Connection", "close", []byte(nil), "virtual.test:8080", true)
	f.Add("PUT", "http://[::1]/x", "Content-Length", "999", []byte(nil), "", false)
	f.Add("GE T", "https://example.test/", "Bad Key", "a\r\nb", []byte("x"), "bad host", false)
	f.Fuzz(func(t *testing.T, method, rawURL, key, val string, body []byte, host string, noKeepAlive bool) {
		u, err := url.Parse(rawURL)
		if err != nil {
			return
		}
		req := buildRequest(method, u, http.Header{key: {val}}, body, host, noKeepAlive)
		if req.err != "" {
			if len(req.raw) != 0 {
				t.Fatalf("error %q with %d bytes to send", req.err, len(req.raw))
			}
			return
		}
		hr, err := http.ReadRequest(bufio.NewReader(strings.NewReader(string(req.raw))))
		if err != nil {
			t.Fatalf("net/http cannot read %q: %v", req.raw, err)
		}
		got, _ := io.ReadAll(hr.Body)
		wantMethod, wantHost := cmp.Or(method, "GET"), cmp.Or(host, u.Host)
		if hr.Method != wantMethod || hr.RequestURI != u.RequestURI() || hr.Host != wantHost || string(got) != string(body) {
			t.Fatalf("%q: net/http reads %s %s host %q body %q; want %s %s host %q body %q",
				req.raw, hr.Method, hr.RequestURI, hr.Host, got, wantMethod, u.RequestURI(), wantHost, body)
		}
		if req.close != (noKeepAlive || hr.Close) {
			t.Fatalf("%q: close %v, net/http reads close %v (no keep-alive %v)", req.raw, req.close, hr.Close, noKeepAlive)
		}
	})
}

// BenchmarkBuildRequest measures serializing a target, as NewFastClient
// does once per target and a redirect once per hop.
func BenchmarkBuildRequest(b *testing.B) {
	u, err := url.Parse("http://127.0.0.1:8080/api/v1/users?page=2")
	if err != nil {
		b.Fatal(err)
	}
	hdr := http.Header{"Authorization": {"Bearer abc.def.ghi"}, "Content-Type": {"application/json"}, "X-Request-Id": {"42"}}
	body := []byte(`{"name":"surge"}`)
	b.ReportAllocs()
	for b.Loop() {
		if req := buildRequest("POST", u, hdr, body, "", false); req.err != "" {
			b.Fatal(req.err)
		}
	}
}
