package attack

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/target"
)

// startNginx runs Debian's nginx on a loopback port with server as its
// server block's body and files under its root, for as long as the test. A
// test that needs nginx fails when it is missing: .ci/run installs it.
func startNginx(t *testing.T, server string, files map[string]string) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			t.Fatal("nginx is not installed (apt-get install nginx-light); .ci/run installs it")
		}
		bin = "/usr/sbin/nginx"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	www := filepath.Join(dir, "www")
	if err := os.Mkdir(www, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(www, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	server = "    root " + www + ";\n" + server
	var temps strings.Builder
	for _, k := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&temps, "  %s_temp_path %s;\n", k, filepath.Join(dir, k))
	}
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %s/nginx.pid;
error_log %s/error.log;
events { worker_connections 512; }
http {
  access_log off;
%s  server {
    listen %s;
%s
  }
}
`, dir, dir, temps.String(), addr, server)
	cf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", cf, "-p", dir, "-e", filepath.Join(dir, "error.log"))
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx did not listen on %s: %s %s", addr, out, b)
		}
	}
}

// TestNginx checks the clients against a production server where its
// behaviour differs from Go's: nginx closes a keep-alive connection after
// keepalive_requests (here 10) responses, so a client must notice and
// reconnect without losing or failing a request; it compresses on request
// with chunked encoding; it answers HEAD with a length but no body.
func TestNginx(t *testing.T) {
	base := startNginx(t, `    keepalive_requests 10;
    gzip on; gzip_min_length 1; gzip_types text/plain;
    location /ok { default_type text/plain; return 200 "ok"; }
    location /big.txt { default_type text/plain; }`, map[string]string{"big.txt": strings.Repeat("surge ", 2000)})
	gz := http.Header{"Accept-Encoding": {"gzip"}}
	cases := []struct {
		name string
		t    target.Target
		in   int64 // body bytes; -1: the same for every client, unknown
	}{
		{"keep-alive limit", target.Target{Method: "GET", URL: base + "/ok"}, 2},
		{"HEAD", target.Target{Method: "HEAD", URL: base + "/ok"}, 0},
		{"gzip chunked", target.Target{Method: "GET", URL: base + "/big.txt", Header: gz}, -1},
		{"static file", target.Target{Method: "GET", URL: base + "/big.txt"}, 12000},
	}
	clients := map[string]func(Config) Config{
		"loop":    func(c Config) Config { return withFast(t, c, false) },
		"workers": func(c Config) Config { return withFast(t, c, true) },
		"net/http": func(c Config) Config {
			setHTTP(&c, func(h *HTTPConfig) { h.NoEventLoop = true })
			return c
		},
	}
	// At max rate, and at 2,000/s, where the event loop reads responses
	// when it wakes for the next tick.
	for _, rate := range []schedule.Rate{{}, {Freq: 2000, Per: time.Second}} {
		for _, tc := range cases {
			sizes := map[string]int64{}
			for name, mk := range clients {
				t.Run(tc.name+"/"+name+"/"+rate.String(), func(t *testing.T) {
					cfg := mk(Config{Targets: []target.Target{tc.t}, Count: 300, Connections: 4, Transport: HTTPConfig{Redirects: -1}, Rate: rate})
					rs := collect(t, context.Background(), cfg)
					checkSeqs(t, rs, 300)
					for _, r := range rs {
						if !r.OK() || r.Status != 200 || tc.in >= 0 && r.BytesIn != tc.in {
							t.Fatalf("result %+v: want 200 with %d body bytes", r, tc.in)
						}
					}
					sizes[name] = rs[0].BytesIn
					checkAllSame(t, rs)
					if tc.name == "keep-alive limit" {
						// nginx closes each connection after 10 responses: 30
						// new connections for 300 requests. net/http may dial
						// for one request and hand the connection to another,
						// whose result then has no connect time: allow a few.
						var dials int
						for _, r := range rs {
							if r.Connect > 0 {
								dials++
							}
						}
						if dials < 25 {
							t.Errorf("%d new connections for 300 requests with keepalive_requests 10; want about 30", dials)
						}
					}
				})
			}
			if tc.in < 0 && (sizes["loop"] != sizes["net/http"] || sizes["workers"] != sizes["net/http"] || sizes["loop"] == 0) {
				t.Errorf("%s: body sizes differ between clients: %v", tc.name, sizes)
			}
		}
	}
}

func withFast(t *testing.T, cfg Config, noLoop bool) Config {
	t.Helper()
	setHTTP(&cfg, func(h *HTTPConfig) { h.NoEventLoop = noLoop })
	c, err := NewFastClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Client = c
	return cfg
}

func checkAllSame(t *testing.T, rs []result.Result) {
	t.Helper()
	for _, r := range rs {
		if r.BytesIn != rs[0].BytesIn {
			t.Fatalf("bytes in vary between identical requests: %d and %d", r.BytesIn, rs[0].BytesIn)
		}
	}
}
