package analyze

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// simStage is a stretch of a simulated open-model schedule: rate
// requests/s for d.
type simStage struct {
	rate float64
	d    time.Duration
}

// simPool is a simulated server of slots requests served at once, FIFO
// behind them, and a client of conns connections (0: unlimited); service
// gives request i's service time. Its runs start at run0.
type simPool struct {
	slots, conns int
	// stageLabels labels each stage's results "GET /pool [RATE/s]", as
	// surge attack -rate a,b,c does.
	stageLabels bool
	service     func(i int, waiting int) time.Duration
	// lag is every request's send lag when a connection is free: the
	// engine's own, small and never 0 on a real run; requests due from
	// lateFrom on (if set) go out lateBy later still.
	lag              time.Duration
	lateFrom, lateBy time.Duration
}

var run0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// times is a min-heap of instants (when slots or connections free up).
type times []time.Duration

func (h times) Len() int           { return len(h) }
func (h times) Less(i, j int) bool { return h[i] < h[j] }
func (h times) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *times) Push(x any)        { *h = append(*h, x.(time.Duration)) }
func (h *times) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// run simulates the stages as one run and returns its summary: each
// request is due at its intended time, goes out when a connection is
// free, waits for a slot in arrival order and holds it for its service
// time.
func (p simPool) run(stages ...simStage) *summary.Summary {
	s := summary.New(summary.Options{})
	p.add(s, &result.Meta{ID: "sim", Start: run0}, stages)
	return s
}

func (p simPool) add(s *summary.Summary, m *result.Meta, stages []simStage) {
	slots := &times{}
	for range p.slots {
		heap.Push(slots, time.Duration(0))
	}
	conns := &times{}
	for range p.conns {
		heap.Push(conns, time.Duration(0))
	}
	var from time.Duration
	seq := 0
	var ends []time.Duration // finish times of admitted requests, for the waiting count
	for _, st := range stages {
		n := int(math.Round(st.rate * st.d.Seconds()))
		for k := range n {
			at := from + time.Duration(float64(k)/st.rate*float64(time.Second))
			sent := at + p.lag
			if p.lateFrom > 0 && at >= p.lateFrom {
				sent += p.lateBy
			}
			if p.conns > 0 {
				sent = max(sent, heap.Pop(conns).(time.Duration))
			}
			free := heap.Pop(slots).(time.Duration)
			start := max(sent, free)
			waiting := 0
			for _, e := range ends {
				if e > sent {
					waiting++
				}
			}
			waiting = max(waiting-p.slots, 0)
			end := start + p.service(seq, waiting)
			heap.Push(slots, end)
			if p.conns > 0 {
				heap.Push(conns, end)
			}
			ends = append(ends, end)
			if len(ends) > 4096 {
				ends = ends[len(ends)-4096:]
			}
			label := "GET /pool"
			if p.stageLabels {
				label += fmt.Sprintf(" [%g/1s]", st.rate)
			}
			s.Add(m, &result.Result{Seq: uint64(seq), Label: label, Intended: at, Sent: sent, Latency: end - at, Status: 200})
			seq++
		}
		from += st.d
	}
}

func fixedService(d time.Duration) func(int, int) time.Duration {
	return func(int, int) time.Duration { return d }
}

// ramp is the stages of the lab test's ramp for a capacity c: half of it,
// then 1.3× and 1.6× it, each for d.
func ramp(c float64, d time.Duration) []simStage {
	return []simStage{{0.5 * c, d}, {1.3 * c, d}, {1.6 * c, d}}
}

// A pool of N slots of S each, ramped through and past its capacity N/S:
// the ceiling is N, found from the low-load service time and the plateau's
// throughput, and the requests in the server under congestion (queued
// included) are many more than N.
func TestCeilingPoolRamp(t *testing.T) {
	for _, n := range []int{1, 4, 8, 16, 64} {
		for _, svc := range []time.Duration{20 * ms, 50 * ms} {
			t.Run(fmt.Sprintf("size=%d,ms=%d", n, svc/ms), func(t *testing.T) {
				c := float64(n) / svc.Seconds()
				s := simPool{slots: n, service: fixedService(svc), lag: 50 * time.Microsecond}.run(ramp(c, 3*time.Second)...)
				ce := Diagnose(s).Labels[0].Ceiling
				if ce == nil || !ce.Detected {
					t.Fatalf("no ceiling: %+v", ce)
				}
				t.Logf("truth %d: ceiling %.3f (%.1f/s × %s), %.1f in the server under congestion", n, ce.Concurrency, ce.Throughput, ce.Service, ce.InSystem)
				if math.Abs(ce.Concurrency-float64(n)) > 0.01*float64(n) {
					t.Errorf("ceiling %.2f, want %d ± 1%%: %s", ce.Concurrency, n, ce.Text)
				}
				if ce.ServiceFrom != "low_load" || ce.LowWindows < 2 || ce.Windows < 4 {
					t.Errorf("service from %q over %d low windows, plateau of %d windows; want low_load, ≥ 2, ≥ 4", ce.ServiceFrom, ce.LowWindows, ce.Windows)
				}
				if ce.InSystem < 2*float64(n) {
					t.Errorf("in system %.1f under congestion, want well over the %d in service", ce.InSystem, n)
				}
				want := fmt.Sprintf("at most ~%d requests at once", n)
				if !strings.Contains(ce.Text, want) || !strings.Contains(ce.Text, fmt.Sprintf("limit of %d.", n)) {
					t.Errorf("sentence lacks %q: %s", want, ce.Text)
				}
			})
		}
	}
}

// Service times spread uniformly over ±50 % of their mean: the ceiling
// rests on the mean (Little's law), so it stays the slot count.
func TestCeilingVariableService(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	svc := func(int, int) time.Duration { return time.Duration((0.5 + rng.Float64()) * float64(40*ms)) }
	s := simPool{slots: 8, service: svc, lag: 50 * time.Microsecond}.run(ramp(200, 3*time.Second)...)
	ce := Diagnose(s).Labels[0].Ceiling
	if ce == nil || !ce.Detected || math.Abs(ce.Concurrency-8) > 0.8 {
		t.Fatalf("want a ceiling of 8 ± 10%%, got %+v", ce)
	}
}

// One run at 1.5× the capacity from its start: no window ran under
// capacity, so the service time is the fastest request's, and the
// sentence says so.
func TestCeilingSingleOverloadedRun(t *testing.T) {
	s := simPool{slots: 4, service: fixedService(50 * ms), lag: 50 * time.Microsecond}.run(simStage{120, 8 * time.Second})
	ce := Diagnose(s).Labels[0].Ceiling
	if ce == nil || !ce.Detected {
		t.Fatalf("no ceiling: %+v", ce)
	}
	if ce.ServiceFrom != "fastest" || ce.LowWindows != 0 || math.Abs(ce.Concurrency-4) > 0.2 {
		t.Errorf("want 4 from the fastest request, got %.2f from %q (%d low windows)", ce.Concurrency, ce.ServiceFrom, ce.LowWindows)
	}
	if !strings.Contains(ce.Text, "no window ran under capacity") {
		t.Errorf("sentence does not say where the service time came from: %s", ce.Text)
	}
}

// No limit in the server (a slot per request) and a ramp to 150/s: the
// server keeps up, nothing is claimed and nothing is left unjudged.
func TestCeilingCleanRamp(t *testing.T) {
	s := simPool{slots: 10000, service: fixedService(20 * ms), lag: 50 * time.Microsecond}.run(
		simStage{50, 3 * time.Second}, simStage{100, 3 * time.Second}, simStage{150, 3 * time.Second})
	lf := Diagnose(s).Labels[0]
	ce := lf.Ceiling
	if ce == nil || ce.Detected || ce.Unjudged != "" || ce.Windows != 0 {
		t.Fatalf("want no ceiling and nothing unjudged, got %+v", ce)
	}
	if !strings.Contains(strings.Join(lf.Judged, ","), "ceiling") {
		t.Errorf("judged %v lacks the ceiling", lf.Judged)
	}
}

// The client has 4 connections and the server no limit: requests wait in
// surge (send lag), not in the server. That is the generator's limit, and
// the ceiling is left unjudged with the reason.
func TestCeilingGeneratorBound(t *testing.T) {
	s := simPool{slots: 10000, conns: 4, service: fixedService(50 * ms), lag: 50 * time.Microsecond}.run(ramp(80, 3*time.Second)...)
	ce := Diagnose(s).Labels[0].Ceiling
	if ce == nil || ce.Detected || !strings.Contains(ce.Unjudged, "generator") {
		t.Fatalf("want the ceiling unjudged for the generator, got %+v", ce)
	}
	if !strings.HasPrefix(ce.Text, "concurrency ceiling not judged: ") {
		t.Errorf("sentence: %s", ce.Text)
	}
}

// Two windows past the capacity are too few to call a plateau.
func TestCeilingTooFewWindows(t *testing.T) {
	s := simPool{slots: 4, service: fixedService(50 * ms), lag: 50 * time.Microsecond}.run(
		simStage{40, 4 * time.Second}, simStage{120, 2 * time.Second}, simStage{10, 3 * time.Second})
	ce := Diagnose(s).Labels[0].Ceiling
	if ce == nil || ce.Detected || !strings.Contains(ce.Unjudged, "at least 3") {
		t.Fatalf("want the ceiling unjudged for too few windows, got %+v", ce)
	}
}

// A server that slows as its queue grows (each waiting request adds 2 %
// to the service time: thrashing) has no plateau: throughput keeps
// falling, and no ceiling is named.
func TestCeilingNoPlateau(t *testing.T) {
	svc := func(_ int, waiting int) time.Duration {
		return time.Duration(float64(50*ms) * (1 + 0.02*float64(waiting)))
	}
	s := simPool{slots: 4, service: svc, lag: 50 * time.Microsecond}.run(ramp(80, 3*time.Second)...)
	ce := Diagnose(s).Labels[0].Ceiling
	if ce == nil || ce.Detected || !strings.Contains(ce.Unjudged, "did not level off") {
		t.Fatalf("want no plateau, got %+v", ce)
	}
}

// A run with no offered rate (every request sent when due) has no
// schedule to fall behind: the ceiling, like saturation, is not judged.
func TestCeilingUnscheduled(t *testing.T) {
	s := simPool{slots: 4, service: fixedService(50 * ms)}.run(ramp(80, 3*time.Second)...)
	lf := Diagnose(s).Labels[0]
	if lf.Ceiling != nil {
		t.Fatalf("want nil for a run without an offered rate, got %+v", lf.Ceiling)
	}
}

// poolTracks are a scrape's readings, once a second, of a pool of size
// slots that is full (and has waiting work, rising) from fullAt on, and
// idle-ish before: busy at half its size, nothing waiting.
func poolTracks(run int, busyName, sizeName, waitName, labels string, size float64, fullAt, end time.Duration) []*signalTrack {
	busy := &signalTrack{Series: result.Series{Name: busyName, Labels: labels, Kind: result.SignalGauge}, Run: run}
	var sz, wait *signalTrack
	if sizeName != "" {
		sz = &signalTrack{Series: result.Series{Name: sizeName, Labels: labels, Kind: result.SignalGauge, Initial: size}, Run: run}
	}
	if waitName != "" {
		wait = &signalTrack{Series: result.Series{Name: waitName, Labels: labels, Kind: result.SignalGauge}, Run: run}
	}
	for at := 500 * ms; at < end; at += time.Second {
		b, w := size/2, 0.0
		if at >= fullAt {
			b, w = size, 10*(at-fullAt).Seconds()+3
		}
		busy.Points = append(busy.Points, signalPoint{At: at, Span: time.Second, V: b, Max: b})
		if wait != nil {
			wait.Points = append(wait.Points, signalPoint{At: at, Span: time.Second, V: w, Max: w})
		}
	}
	out := []*signalTrack{busy}
	for _, tr := range []*signalTrack{sz, wait} {
		if tr != nil {
			out = append(out, tr)
		}
	}
	return out
}

// The lab's pool gauges confirm a ceiling of 4 when busy sits at the size
// and waiting rises over the plateau; a pool of 16 that is full too is
// named as not the limit; a busy gauge under its size confirms nothing;
// without a size gauge, busy's own maximum stands in.
func TestCeilingGaugeConfirms(t *testing.T) {
	s := simPool{slots: 4, service: fixedService(50 * ms), lag: 50 * time.Microsecond}.run(ramp(80, 3*time.Second)...)
	st := s.Labels()[0]
	fresh := func() *Ceiling {
		c := DetectCeiling(st, nil, GeneratorHealth(s))
		if c == nil || !c.Detected {
			t.Fatalf("no ceiling to confirm: %+v", c)
		}
		return c
	}
	end := 9 * time.Second
	for _, tc := range []struct {
		name              string
		tracks            []*signalTrack
		confirmed, agrees bool
		says              string
	}{
		{"lab pool of 4", poolTracks(0, "surge_lab_pool_busy", "surge_lab_pool_size", "surge_lab_pool_waiting", "", 4, 3*time.Second, end),
			true, true, "the scrape confirms it: surge_lab_pool_busy was at 4 (surge_lab_pool_size) in 5 of the 5 plateau windows the scrape covered, and surge_lab_pool_waiting was above 0 in 5 (rising"},
		{"hikari without its max", poolTracks(0, "hikaricp_connections_active", "", "hikaricp_connections_pending", `{pool="HikariPool-1"}`, 4, 3*time.Second, end),
			true, true, `hikaricp_connections_active{pool="HikariPool-1"} was at 4 (its own maximum over the run)`},
		{"a full pool of 16 is not the limit", poolTracks(0, "surge_lab_pool_busy", "surge_lab_pool_size", "surge_lab_pool_waiting", "", 16, 3*time.Second, end),
			true, false, "full but not as the limit"},
		{"pool never full", poolTracks(0, "tomcat_threads_busy_threads", "tomcat_threads_config_max_threads", "", `{name="http-nio-8080"}`, 4, time.Hour, end),
			false, false, "the scrape does not show Tomcat's request threads full"},
		{"labels must match", append(poolTracks(0, "surge_lab_pool_busy", "surge_lab_pool_size", "", `{set="a"}`, 4, 3*time.Second, end),
			poolTracks(0, "surge_lab_pool_waiting", "", "", `{set="b"}`, 0, time.Hour, end)...),
			true, true, "surge_lab_pool_busy{set=\"a\"} was at 4 (surge_lab_pool_size{set=\"a\"}) in 5 of the 5 plateau windows the scrape covered: the lab's /pool of 4 is full"},
		{"another run's gauges", poolTracks(1, "surge_lab_pool_busy", "surge_lab_pool_size", "surge_lab_pool_waiting", "", 4, 3*time.Second, end),
			false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fresh()
			confirmCeiling(c, st.Series, s.Runs, tc.tracks)
			if tc.says == "" {
				if c.Gauge != nil {
					t.Fatalf("want no gauge, got %+v", c.Gauge)
				}
				return
			}
			g := c.Gauge
			if g == nil {
				t.Fatalf("no gauge read; text %s", c.Text)
			}
			if g.Confirmed != tc.confirmed || g.Agrees != tc.agrees {
				t.Errorf("confirmed %v, agrees %v; want %v, %v: %+v", g.Confirmed, g.Agrees, tc.confirmed, tc.agrees, g)
			}
			if !strings.Contains(c.Text, tc.says) {
				t.Errorf("text lacks %q:\n%s", tc.says, c.Text)
			}
		})
	}
}

// A generator that lags 30ms under overload only (the lab's run of
// size=8,ms=20 beside a CPU hog): the ceiling is left unjudged, and the
// service time, from the low-load windows alone, is still right (the
// label's mean send lag, subtracted from it, made 35µs of 20ms).
func TestCeilingLagUnderOverload(t *testing.T) {
	s := simPool{slots: 8, service: fixedService(20 * ms), lag: 50 * time.Microsecond, lateFrom: 3 * time.Second, lateBy: 30 * ms}.run(ramp(400, 3*time.Second)...)
	ce := Diagnose(s).Labels[0].Ceiling
	if ce == nil || ce.Detected || ce.Unjudged == "" {
		t.Fatalf("want the ceiling unjudged for the generator's lag, got %+v", ce)
	}
	if math.Abs(ce.Service.Seconds()-0.020) > 0.001 || math.Abs(ce.Concurrency-8) > 0.4 {
		t.Errorf("service %s, ceiling %.2f; want 20ms and 8 even unjudged", ce.Service, ce.Concurrency)
	}
}

// surge attack -rate 40,104,128 labels each rate's results apart: no
// label holds the ramp, so the ceiling is judged on the stages together.
// Labels of two targets are not one target's stages.
func TestCeilingStages(t *testing.T) {
	s := simPool{slots: 4, service: fixedService(50 * ms), lag: 50 * time.Microsecond, stageLabels: true}.run(
		simStage{40, 3 * time.Second}, simStage{104, 3 * time.Second}, simStage{128, 3 * time.Second})
	f := Diagnose(s)
	if len(f.Labels) != 3 || f.Stages == nil {
		t.Fatalf("want 3 stage labels judged together, got %d labels, stages %+v", len(f.Labels), f.Stages)
	}
	c := f.Stages.Ceiling
	if f.Stages.Target != "GET /pool" || c == nil || !c.Detected || math.Abs(c.Concurrency-4) > 0.2 {
		t.Fatalf("want a ceiling of 4 on GET /pool's stages, got %q %+v", f.Stages.Target, c)
	}
	s.Add(&s.Runs[0], &result.Result{Seq: 9999, Label: "GET /other [40/1s]", Intended: time.Second, Sent: time.Second, Latency: ms, Status: 200})
	if f := Diagnose(s); f.Stages != nil {
		t.Errorf("two targets' stages judged as one: %+v", f.Stages)
	}
}

// Several runs at rising rates in one summary (surge report a.srg b.srg
// c.srg): the low-load run gives the service time, the overloaded ones the
// plateau.
func TestCeilingSeveralRuns(t *testing.T) {
	s := summary.New(summary.Options{})
	p := simPool{slots: 4, service: fixedService(50 * ms), lag: 50 * time.Microsecond}
	for i, rate := range []float64{40, 104, 128} {
		m := &result.Meta{ID: fmt.Sprint("run", i), Start: run0.Add(time.Duration(i) * 20 * time.Second)}
		p.add(s, m, []simStage{{rate, 4 * time.Second}})
	}
	ce := Diagnose(s).Labels[0].Ceiling
	if ce == nil || !ce.Detected || math.Abs(ce.Concurrency-4) > 0.04 || ce.ServiceFrom != "low_load" {
		t.Fatalf("want a ceiling of 4 from three runs, got %+v", ce)
	}
}
