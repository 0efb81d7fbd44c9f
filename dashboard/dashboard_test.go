package dashboard

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
)

func TestLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8089", ":8089", "192.0.2.1:8089", "example.com:80"} {
		if _, err := New(Config{Addr: addr}); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("New(%q) error = %v, want ErrNotLoopback", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0", ""} {
		if _, err := New(Config{Addr: addr}); err != nil {
			t.Errorf("New(%q): %v", addr, err)
		}
	}
	if _, err := New(Config{Addr: "0.0.0.0:0", AllowRemote: true}); err != nil {
		t.Errorf("AllowRemote: %v", err)
	}
}

func TestMetricsAndStop(t *testing.T) {
	stopped := make(chan struct{})
	s, err := New(Config{Addr: "127.0.0.1:0", Stop: func() { close(stopped) }, InFlight: func() int64 { return 3 }, Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	s.Observe([]result.Result{
		{Latency: 4 * time.Millisecond, Status: 200},
		{Latency: 40 * time.Millisecond, Status: 500, Sent: 2 * time.Millisecond},
		{Flags: result.NotSent},
	})
	body := get(t, "http://"+addr+"/metrics")
	for _, want := range []string{
		`surge_requests_total{result="ok"} 1`, `surge_requests_total{result="error"} 1`, `surge_requests_total{result="not_sent"} 1`,
		"surge_errors_total 2", "surge_in_flight 3", `surge_latency_seconds_bucket{le="0.005"} 1`, `surge_latency_seconds_bucket{le="0.05"} 2`,
		`surge_latency_seconds_bucket{le="+Inf"} 2`, "surge_latency_seconds_count 2", "surge_send_lag_max_seconds 0.002",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	if !strings.Contains(get(t, "http://"+addr+"/"), "EventSource") {
		t.Error("page has no live script")
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/stop", nil)
	req.Header.Set("X-Surge-Token", s.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("POST /stop with the token: %s, want 202", resp.Status)
	}
	select {
	case <-stopped:
	case <-time.After(time.Second):
		t.Fatal("POST /stop did not call Stop")
	}
	s.Finish([]byte("<html>final</html>"))
	if got := get(t, "http://"+addr+"/report.html"); got != "<html>final</html>" {
		t.Errorf("final report = %q", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRequestsRefused: a cross-origin POST /stop, a request without the
// token, a Host that is not the dashboard's (DNS rebinding) are refused;
// with AllowRemote every request needs the token.
func TestRequestsRefused(t *testing.T) {
	var stops atomic.Int64
	s, err := New(Config{Addr: "127.0.0.1:0", Stop: func() { stops.Add(1) }, Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Finish(nil); s.Close() }()
	_, port, _ := net.SplitHostPort(addr)
	tok := s.Token()
	if len(tok) != 32 {
		t.Fatalf("token %q: want 128 random bits in hex", tok)
	}
	type req struct {
		name, method, path, host string
		header                   map[string]string
		want                     int
	}
	same := "http://" + addr
	for _, tt := range []req{
		{"page", "GET", "/", "", nil, 200},
		{"page as localhost", "GET", "/", "localhost:" + port, nil, 200},
		{"metrics", "GET", "/metrics", "", nil, 200},
		{"rebound name: page", "GET", "/", "evil.example:" + port, nil, 421},
		{"rebound name: events", "GET", "/events", "evil.example:" + port, nil, 421},
		{"rebound name: metrics", "GET", "/metrics", "evil.example:" + port, nil, 421},
		{"rebound name: report", "GET", "/report.html", "evil.example", nil, 421},
		{"rebound name: stop", "POST", "/stop", "evil.example:" + port, map[string]string{"X-Surge-Token": tok}, 421},
		{"other port", "GET", "/metrics", "127.0.0.1:1", nil, 421},
		{"stop from another origin", "POST", "/stop", "", map[string]string{"Origin": "http://evil.example", "X-Surge-Token": tok}, 403},
		{"stop from another site", "POST", "/stop", "", map[string]string{"Sec-Fetch-Site": "cross-site", "X-Surge-Token": tok}, 403},
		{"stop from another port of this host", "POST", "/stop", "", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:1", "X-Surge-Token": tok}, 403},
		{"stop without the token", "POST", "/stop", "", map[string]string{"Origin": same}, 403},
		{"stop with a wrong token", "POST", "/stop", "", map[string]string{"Origin": same, "X-Surge-Token": tok[:31] + "x"}, 403},
		{"stop with a token in the wrong place", "POST", "/stop", "", map[string]string{"Authorization": tok}, 403},
	} {
		if got := status(t, tt.method, "http://"+addr+tt.path, tt.host, tt.header); got != tt.want {
			t.Errorf("%s: %s %s (Host %q, %v): %d, want %d", tt.name, tt.method, tt.path, tt.host, tt.header, got, tt.want)
		}
	}
	if n := stops.Load(); n != 0 {
		t.Fatalf("refused requests stopped the run (%d calls)", n)
	}
	if page := get(t, "http://"+addr+"/"); !strings.Contains(page, `"token":"`+tok+`"`) {
		t.Errorf("the page does not carry the token")
	}
	if got := status(t, "POST", "http://"+addr+"/stop", "", map[string]string{"Origin": same, "Sec-Fetch-Site": "same-origin", "X-Surge-Token": tok}); got != 202 || stops.Load() != 1 {
		t.Errorf("stop from the page: %d, %d calls; want 202 and 1 call", got, stops.Load())
	}
	if got := status(t, "POST", "http://"+addr+"/stop", "", map[string]string{"Authorization": "Bearer " + tok}); got != 202 {
		t.Errorf("stop from curl with the token: %d, want 202", got)
	}

	r, err := New(Config{Addr: "127.0.0.1:0", AllowRemote: true, Stop: func() {}})
	if err != nil {
		t.Fatal(err)
	}
	raddr, err := r.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { r.Finish(nil); r.Close() }()
	for _, tt := range []req{
		{"remote: page", "GET", "/", "", nil, 401},
		{"remote: events", "GET", "/events", "", nil, 401},
		{"remote: metrics", "GET", "/metrics", "", nil, 401},
		{"remote: report", "GET", "/report.html", "", nil, 401},
		{"remote: stop", "POST", "/stop", "", nil, 401},
		{"remote: wrong token", "GET", "/metrics?token=" + tok, "", nil, 401},
		{"remote: page with the token", "GET", "/?token=" + r.Token(), "", nil, 200},
		{"remote: metrics with the token", "GET", "/metrics", "", map[string]string{"Authorization": "Bearer " + r.Token()}, 200},
		{"remote: report with the token", "GET", "/report.html?token=" + r.Token(), "", nil, 200},
		{"remote: stop from another origin", "POST", "/stop?token=" + r.Token(), "", map[string]string{"Origin": "http://evil.example"}, 403},
	} {
		if got := status(t, tt.method, "http://"+raddr+tt.path, tt.host, tt.header); got != tt.want {
			t.Errorf("%s: %s %s (%v): %d, want %d", tt.name, tt.method, tt.path, tt.header, got, tt.want)
		}
	}
}

// status sends one request and returns its status code.
func status(t *testing.T, method, url, host string, header map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func BenchmarkObserve(b *testing.B) {
	s, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]result.Result, 128)
	for i := range batch {
		batch[i] = result.Result{Label: "GET /", Latency: time.Duration(i) * time.Millisecond, Status: 200}
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Observe(batch)
	}
}

// BenchmarkSnapshot is what the dashboard pays once a second, holding the
// lock the run's batches wait for: the page's data (and findings) of a
// 60s run at 1,000 requests/s over two labels.
func BenchmarkSnapshot(b *testing.B) {
	s, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]result.Result, 1000)
	for sec := range 60 {
		for i := range batch {
			at := time.Duration(sec)*time.Second + time.Duration(i)*time.Millisecond
			batch[i] = result.Result{Label: []string{"GET /a", "GET /b"}[i%2], Intended: at, Sent: at,
				Latency: time.Duration(1+i%20) * time.Millisecond, Status: 200}
		}
		s.Observe(batch)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.snapshot(true)
	}
}

// BenchmarkSnapshotSignals is BenchmarkSnapshot with a source of 100
// series read 4 times a second through the run (240 readings, every
// series changing at each).
func BenchmarkSnapshotSignals(b *testing.B) {
	meta := &result.Meta{Start: time.Now()}
	s, err := New(Config{Meta: meta})
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]result.Result, 1000)
	const src = "http://127.0.0.1:9/metrics"
	var series []result.Series
	for i := range 100 {
		kind := result.SignalCounter
		if i%2 == 0 {
			kind = result.SignalGauge
		}
		series = append(series, result.Series{ID: uint32(i + 1), Source: src, Name: fmt.Sprintf("series_%d", i), Kind: kind})
	}
	for sec := range 60 {
		for i := range batch {
			at := time.Duration(sec)*time.Second + time.Duration(i)*time.Millisecond
			batch[i] = result.Result{Label: []string{"GET /a", "GET /b"}[i%2], Intended: at, Sent: at,
				Latency: time.Duration(1+i%20) * time.Millisecond, Status: 200}
		}
		s.AddBatch(meta, batch)
		for q := range 4 {
			sc := result.Scrape{At: time.Duration(sec)*time.Second + time.Duration(q)*250*time.Millisecond, Source: src}
			if sec == 0 && q == 0 {
				sc.New = series
			} else {
				for i := range series {
					sc.Values = append(sc.Values, result.SignalValue{ID: uint32(i + 1), V: float64(1 + (sec*4+q+i)%7)})
				}
			}
			s.AddScrape(meta, &sc)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		s.snapshot(true)
	}
}

// TestSignalsStreamed: server signals handed to the dashboard through the
// run's stream (a result.Tee) reach an open page in the next events, and
// the events stay the same size however many readings came.
func TestSignalsStreamed(t *testing.T) {
	meta := &result.Meta{ID: "live", Start: time.Now()}
	s, err := New(Config{Addr: "127.0.0.1:0", Meta: meta, Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Finish(nil); s.Close() }()
	stream := result.Tee{s}
	const src = "http://127.0.0.1:9/metrics"
	reading := 0
	scrape := func(n int) {
		for range n {
			sc := result.Scrape{At: time.Duration(reading) * time.Second, Source: src, Took: time.Millisecond}
			if reading == 0 {
				sc.New = []result.Series{{ID: 1, Source: src, Name: "surge_lab_pause_seconds_total", Kind: result.SignalCounter},
					{ID: 2, Source: src, Name: "surge_lab_pool_busy", Kind: result.SignalGauge, Initial: 1}}
			} else {
				sc.Values = []result.SignalValue{{ID: 2, V: float64(1 + reading%4)}}
				if reading%3 == 0 {
					sc.Values = append(sc.Values, result.SignalValue{ID: 1, V: 0.2})
				}
			}
			stream.AddScrape(meta, &sc)
			reading++
		}
		stream.AddBatch(meta, []result.Result{{Intended: time.Duration(reading) * time.Second, Latency: time.Millisecond, Status: 200}})
	}

	resp, err := http.Get("http://" + addr + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := bufio.NewReader(resp.Body)
	// next returns the first event whose pause series reaches the last
	// reading, its steps and the event's size.
	next := func() (steps, size int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			line, err := events.ReadString('\n')
			if err != nil {
				t.Fatalf("events: %v", err)
			}
			js, ok := strings.CutPrefix(line, "data: ")
			if !ok {
				continue
			}
			var d struct {
				Runs []struct {
					Signals *struct {
						Series []struct {
							Name string    `json:"name"`
							T    []float64 `json:"t"`
						} `json:"series"`
					} `json:"signals"`
				} `json:"runs"`
			}
			if err := json.Unmarshal([]byte(js), &d); err != nil {
				t.Fatalf("event: %v", err)
			}
			if len(d.Runs) == 0 || d.Runs[0].Signals == nil {
				continue
			}
			for _, sr := range d.Runs[0].Signals.Series {
				if n := len(sr.T); sr.Name == "surge_lab_pause_seconds_total" && n > 0 && sr.T[n-1] >= float64(reading-1) {
					return len(sr.T), len(js)
				}
			}
		}
		t.Fatalf("no event with the pause series up to reading %d in 10s", reading)
		return 0, 0
	}
	scrape(10)
	first, _ := next()
	scrape(10)
	if second, _ := next(); second <= first {
		t.Errorf("pause series: %d steps, then %d: the page was not sent the new readings", first, second)
	}
	scrape(10_000)
	_, small := next()
	scrape(90_000)
	_, large := next()
	if large > 2*small+1000 {
		t.Errorf("an event after 100,000 readings is %d bytes, after 10,000 %d: the dashboard's memory grows with the run", large, small)
	}
	t.Logf("event size: %d bytes after 10,000 readings, %d after 100,000", small, large)
}
