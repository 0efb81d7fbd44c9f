package run

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/signals"
	"github.com/surge-dev/surge/target"
)

// signalLog is a consumer of the whole stream that checks it is never
// called from two goroutines at once and folds the server signals it is
// handed into each series' total.
type signalLog struct {
	busy     atomic.Bool
	overlap  atomic.Bool
	results  int
	scrapes  []result.Scrape
	series   map[uint32]result.Series
	totals   map[string]float64 // by source and name
	lastAt   map[string]time.Duration
	backward bool
}

func (l *signalLog) enter() {
	if !l.busy.CompareAndSwap(false, true) {
		l.overlap.Store(true)
	}
	// Widen the window in which an unserialized call would overlap.
	time.Sleep(50 * time.Microsecond)
}
func (l *signalLog) leave() { l.busy.Store(false) }

func (l *signalLog) Add(*result.Meta, *result.Result) { l.enter(); l.results++; l.leave() }
func (l *signalLog) AddBatch(_ *result.Meta, b []result.Result) {
	l.enter()
	l.results += len(b)
	l.leave()
}
func (l *signalLog) AddMarker(*result.Meta, result.Marker) { l.enter(); l.leave() }
func (l *signalLog) AddScrape(_ *result.Meta, s *result.Scrape) {
	l.enter()
	defer l.leave()
	if l.series == nil {
		l.series, l.totals, l.lastAt = map[uint32]result.Series{}, map[string]float64{}, map[string]time.Duration{}
	}
	if s.At < l.lastAt[s.Source] {
		l.backward = true
	}
	l.lastAt[s.Source] = s.At
	c := *s
	c.New, c.Values = nil, nil
	l.scrapes = append(l.scrapes, c)
	for _, se := range s.New {
		if _, dup := l.series[se.ID]; dup {
			l.backward = true
		}
		l.series[se.ID] = se
		l.totals[se.Source+" "+se.Name+se.Labels] = se.Initial
	}
	for _, v := range s.Values {
		se := l.series[v.ID]
		k := se.Source + " " + se.Name + se.Labels
		if se.Kind == result.SignalCounter {
			l.totals[k] += v.V
		} else {
			l.totals[k] = v.V
		}
	}
}

// TestDoSignals runs a plan with a scrape of the target's own counter of
// the requests it served: the readings reach the consumer serialized with
// the results (run with -race), on the results' time axis, the last one
// at the end, and the counter's increases add up to the requests the
// server counted; the generator's health rides along.
func TestDoSignals(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			fmt.Fprintf(w, "# TYPE served_total counter\nserved_total{path=\"/x\"} %d\n", served.Load())
			return
		}
		served.Add(1)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	cfg := attack.Config{Targets: []target.Target{{Method: "GET", URL: srv.URL + "/x"}}, Rate: schedule.Rate{Freq: 200, Per: time.Second},
		Duration: 600 * time.Millisecond, Connections: 4}
	p := Plan{Config: cfg, Meta: NewMeta(cfg, nil), Scrape: []string{srv.URL + "/metrics?token=s3cret"}, ScrapeInterval: 50 * time.Millisecond}
	log := &signalLog{}
	o, err := Do(context.Background(), p, Outputs{Consumers: []result.Consumer{log}})
	if err != nil {
		t.Fatal(err)
	}
	if log.overlap.Load() {
		t.Error("a consumer was called from two goroutines at once")
	}
	if log.backward {
		t.Error("a source's readings went back in time, or a series ID came twice")
	}
	src := srv.URL + "/metrics?token=" + target.Redacted
	if got, want := log.totals[src+` served_total{path="/x"}`], float64(served.Load()); got != want || want < 50 {
		t.Errorf("served_total from the readings %v, the server's own count %v (of %d results); want equal, at least 50", got, want, log.results)
	}
	if got := log.totals[HealthSource+" surge_sent_total"]; got != float64(o.Stats.Sent.Load()) {
		t.Errorf("surge_sent_total %v, the engine sent %d", got, o.Stats.Sent.Load())
	}
	var n int
	for _, s := range log.scrapes {
		if strings.Contains(s.Source, "s3cret") {
			t.Errorf("the scrape URL's token reached a reading: %q", s.Source)
		}
		if s.At < 0 || s.At > o.Elapsed {
			t.Errorf("reading of %s at %v, outside the run's 0..%v", s.Source, s.At, o.Elapsed)
		}
		if s.Source == src {
			n++
		}
	}
	// 600ms at 50ms: a dozen readings, fewer when the machine is busy
	// and timer ticks are skipped, but the first and the last always.
	if n < 3 || n > 15 {
		t.Errorf("%d readings of the endpoint in 600ms at 50ms; want 3 to 15", n)
	}
	if last := log.lastAt[src]; last < cfg.Duration-10*time.Millisecond {
		t.Errorf("last reading at %v; want one at the end of the %v run", last, cfg.Duration)
	}
}

// TestDoSignalsRefused: a bad scrape URL or a PID that does not run is
// an error of Do before anything is sent.
func TestDoSignalsRefused(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	cfg := attack.Config{Targets: []target.Target{{Method: "GET", URL: srv.URL}}, Count: 5}
	for _, p := range []Plan{
		{Config: cfg, Scrape: []string{"ftp://127.0.0.1/metrics"}},
		{Config: cfg, Watch: []int{1 << 30}},
		{Config: cfg, Scrape: []string{srv.URL}, ScrapeInterval: -time.Second},
	} {
		if err := p.CheckSignals(); err == nil {
			t.Errorf("CheckSignals(%v %v %v) = nil", p.Scrape, p.Watch, p.ScrapeInterval)
		}
		if _, err := Do(context.Background(), p, Outputs{}); err == nil {
			t.Errorf("Do with scrape %v, watch %v, interval %v: no error", p.Scrape, p.Watch, p.ScrapeInterval)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests sent by refused plans", hits.Load())
	}
}

// TestDoSignalsMemory: two runs sharing a SignalMemory and one consumer
// through Shifted (as capacity trials share a file) announce each series
// once, keep its ID, and the counter's increases over both add up to the
// server's count; the second run's readings are on the shared time line.
func TestDoSignalsMemory(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			fmt.Fprintf(w, "# TYPE served_total counter\nserved_total %d\n", served.Load())
			return
		}
		served.Add(1)
	}))
	defer srv.Close()
	cfg := attack.Config{Targets: []target.Target{{Method: "GET", URL: srv.URL + "/x"}}, Rate: schedule.Rate{Freq: 100, Per: time.Second},
		Duration: 300 * time.Millisecond, Connections: 2}
	mem := &signals.Memory{}
	log := &signalLog{}
	shift := time.Hour
	for i := range 2 {
		p := Plan{Config: cfg, Scrape: []string{srv.URL + "/metrics"}, ScrapeInterval: 50 * time.Millisecond, SignalMemory: mem}
		if _, err := Do(context.Background(), p, Outputs{Consumers: []result.Consumer{Shifted(log, 0, time.Duration(i)*shift)}}); err != nil {
			t.Fatal(err)
		}
	}
	if log.backward {
		t.Error("a series was announced twice, or readings went back in time")
	}
	if got, want := log.totals[srv.URL+"/metrics served_total"], float64(served.Load()); got != want || want < 40 {
		t.Errorf("served_total over both runs %v, the server's count %v; want equal, at least 40", got, want)
	}
	if n := len(log.series); n != 6 { // served_total and the five of the generator's health
		t.Errorf("%d series over two runs, want 6: %v", n, log.series)
	}
	if last := log.lastAt[srv.URL+"/metrics"]; last < shift {
		t.Errorf("the second run's last reading at %v, not shifted by %v", last, shift)
	}
}
