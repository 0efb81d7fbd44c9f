package dashboard

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/surge-dev/surge/result"
)

// metricBounds are the upper bounds, in seconds, of the latency and send
// lag histograms at /metrics (Prometheus' defaults, extended to 30s).
var metricBounds = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// metrics are the generator's figures since the start, kept under
// Server.mu.
type metrics struct {
	requests [3]int64 // by class: ok, error, not sent
	sent     int64
	bytesIn  int64
	bytesOut int64
	latency  histogram
	sendLag  histogram
	maxLag   time.Duration
}

type histogram struct {
	bounds []time.Duration
	counts []int64 // counts[i]: values <= bounds[i]; last: +Inf (non-cumulative here)
	sum    time.Duration
	n      int64
}

func (m *metrics) init() {
	bs := make([]time.Duration, len(metricBounds))
	for i, b := range metricBounds {
		bs[i] = time.Duration(b * float64(time.Second))
	}
	m.latency = histogram{bounds: bs, counts: make([]int64, len(bs)+1)}
	m.sendLag = histogram{bounds: bs, counts: make([]int64, len(bs)+1)}
}

func (h *histogram) record(d time.Duration) {
	i := 0
	for i < len(h.bounds) && d > h.bounds[i] {
		i++
	}
	h.counts[i]++
	h.sum += d
	h.n++
}

func (m *metrics) observe(r *result.Result) {
	switch {
	case r.Flags&result.NotSent != 0:
		m.requests[2]++
		return
	case r.OK():
		m.requests[0]++
	default:
		m.requests[1]++
	}
	m.sent++
	m.bytesIn += r.BytesIn
	m.bytesOut += r.BytesOut
	m.latency.record(r.Latency)
	lag := r.SendLag()
	m.sendLag.record(lag)
	m.maxLag = max(m.maxLag, lag)
}

func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m := s.metrics
	m.latency.counts = append([]int64(nil), m.latency.counts...)
	m.sendLag.counts = append([]int64(nil), m.sendLag.counts...)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	help := func(name, typ, text string) {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, typ)
	}
	help("surge_requests_total", "counter", "Requests scheduled by surge, by outcome (ok, error, not_sent).")
	for i, c := range []string{"ok", "error", "not_sent"} {
		fmt.Fprintf(bw, "surge_requests_total{result=%q} %d\n", c, m.requests[i])
	}
	help("surge_errors_total", "counter", "Requests that failed: an error, a status outside 200-399, or never sent.")
	fmt.Fprintf(bw, "surge_errors_total %d\n", m.requests[1]+m.requests[2])
	help("surge_sent_total", "counter", "Requests that went out.")
	fmt.Fprintf(bw, "surge_sent_total %d\n", m.sent)
	help("surge_received_bytes_total", "counter", "Response body bytes received.")
	fmt.Fprintf(bw, "surge_received_bytes_total %d\n", m.bytesIn)
	help("surge_sent_bytes_total", "counter", "Request body bytes sent.")
	fmt.Fprintf(bw, "surge_sent_bytes_total %d\n", m.bytesOut)
	if s.cfg.InFlight != nil {
		help("surge_in_flight", "gauge", "Requests in flight now.")
		fmt.Fprintf(bw, "surge_in_flight %d\n", s.cfg.InFlight())
	}
	writeHist(bw, help, "surge_latency_seconds", "Response time from the intended send time (includes send lag).", &m.latency)
	writeHist(bw, help, "surge_send_lag_seconds", "How late requests went out: time queued inside the generator.", &m.sendLag)
	help("surge_send_lag_max_seconds", "gauge", "Largest send lag so far.")
	fmt.Fprintf(bw, "surge_send_lag_max_seconds %s\n", seconds(m.maxLag))
}

func writeHist(bw *bufio.Writer, help func(string, string, string), name, text string, h *histogram) {
	help(name, "histogram", text)
	var cum int64
	for i, b := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(bw, "%s_bucket{le=%q} %d\n", name, strconv.FormatFloat(b.Seconds(), 'g', -1, 64), cum)
	}
	fmt.Fprintf(bw, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %s\n%s_count %d\n", name, h.n, name, seconds(h.sum), name, h.n)
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'g', -1, 64) }
