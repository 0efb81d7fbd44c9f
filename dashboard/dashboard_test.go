package dashboard

import (
	"errors"
	"io"
	"net/http"
	"strings"
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
	resp, err := http.Post("http://"+addr+"/stop", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
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
