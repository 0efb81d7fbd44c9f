package analyze

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

const ms = time.Millisecond

// synth feeds a summary with n requests at rate per second, request i
// taking lat(i, intended).
func synth(n int, rate float64, lat func(i int, at time.Duration) time.Duration) *summary.Summary {
	s := summary.New(summary.Options{})
	m := &result.Meta{ID: "synthetic", Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	for i := range n {
		at := time.Duration(float64(i) / rate * float64(time.Second))
		r := result.Result{Seq: uint64(i), Label: "GET /x", Intended: at, Sent: at + 50*time.Microsecond, Latency: lat(i, at), Status: 200}
		s.Add(m, &r)
	}
	return s
}

// The lab's /cold cost, cost(i) = ms + extra·(n − i + 1)/n for 1 ≤ i ≤ n,
// plus uniform noise: the cold phase is n requests long.
func TestColdSynthetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		n, total int
		extra    time.Duration
	}{{300, 1500, 800 * ms}, {100, 3000, 50 * ms}, {2000, 6000, 200 * ms}} {
		s := synth(tc.total, 200, func(i int, _ time.Duration) time.Duration {
			d := 5*ms + time.Duration(rng.Float64()*float64(ms))
			if i < tc.n {
				d += tc.extra * time.Duration(tc.n-i) / time.Duration(tc.n)
			}
			return d
		})
		f := Diagnose(s)
		c := f.Labels[0].Cold
		if c == nil {
			t.Fatalf("n=%d: no cold phase found", tc.n)
		}
		if got := float64(c.Requests); math.Abs(got-float64(tc.n)) > 0.2*float64(tc.n) {
			t.Errorf("n=%d extra=%s: cold phase %d requests, want within 20%% of %d", tc.n, tc.extra, c.Requests, tc.n)
		}
		if f.Labels[0].Steady == nil || f.Labels[0].Steady.P99 > 7*ms {
			t.Errorf("steady state should exclude the cold phase: %+v", f.Labels[0].Steady)
		}
	}
}

// A flat latency with jitter, or with isolated outliers, has no cold phase.
func TestColdNone(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		s := synth(2000, 200, func(i int, _ time.Duration) time.Duration {
			d := 15*ms + time.Duration(rng.Float64()*float64(10*ms))
			if rng.IntN(200) == 0 {
				d += 300 * ms
			}
			return d
		})
		if c := Diagnose(s).Labels[0].Cold; c != nil {
			t.Errorf("seed %d: invented a cold phase: %s", seed, c.Text)
		}
	}
}

// pauseLatency is the lab's /pause with ms of work: a request arriving in
// a window [k·every, k·every+for) waits for its end.
func pauseLatency(at, every, pause, work time.Duration) time.Duration {
	k := at / every
	if k >= 1 && at-k*every < pause {
		return k*every + pause - at + work
	}
	return work
}

func TestSpikesSynthetic(t *testing.T) {
	// every=5s, for=1s over 30s at 100/s: windows [5,6), [10,11) ... [25,26).
	s := synth(3000, 100, func(_ int, at time.Duration) time.Duration {
		return pauseLatency(at, 5*time.Second, time.Second, 5*ms)
	})
	sp := Diagnose(s).Labels[0].Spikes
	if sp == nil || len(sp.Episodes) != 5 {
		t.Fatalf("want 5 episodes, got %+v", sp)
	}
	for i, e := range sp.Episodes {
		if want := time.Duration(i+1) * 5 * time.Second; e.Offset != want {
			t.Errorf("episode %d at %s, want %s", i, e.Offset, want)
		}
	}
	if sp.Period != 5*time.Second || !sp.Regular {
		t.Errorf("period %s regular %v, want 5s", sp.Period, sp.Regular)
	}
	// Clean jittered run: no spikes.
	rng := rand.New(rand.NewPCG(3, 3))
	s = synth(3000, 100, func(int, time.Duration) time.Duration { return 15*ms + time.Duration(rng.Float64()*float64(10*ms)) })
	if sp := Diagnose(s).Labels[0].Spikes; sp == nil || len(sp.Episodes) != 0 {
		t.Errorf("invented spikes: %+v", sp)
	}
}

// A pool of capacity mu served FIFO (deterministic service) under a linear
// ramp of the offered rate: throughput stops following at mu.
func TestSaturationSynthetic(t *testing.T) {
	const mu = 80.0
	s := summary.New(summary.Options{})
	m := &result.Meta{Start: time.Unix(0, 0)}
	free := time.Duration(0) // when the single virtual server (rate mu) is next free
	svc := time.Duration(float64(time.Second) / mu)
	// Rate from 40 to 120/s over 10s: seq k is due at t with 40t + 4t² = k.
	for k := 0; ; k++ {
		tt := (-40 + math.Sqrt(1600+16*float64(k))) / 8
		if tt >= 10 {
			break
		}
		at := time.Duration(tt * float64(time.Second))
		start := max(at, free)
		free = start + svc
		s.Add(m, &result.Result{Seq: uint64(k), Intended: at, Sent: at + 50*time.Microsecond, Latency: free - at + 50*ms - svc, Status: 200})
	}
	sat := DetectSaturation(s.Total.Series, nil)
	if sat == nil || !sat.Detected {
		t.Fatalf("no saturation: %+v", sat)
	}
	if math.Abs(sat.Capacity-mu) > 0.1*mu {
		t.Errorf("knee %.1f/s, want %.0f ± 10%%", sat.Capacity, mu)
	}
	if sat.FirstBehind < mu || sat.FirstBehind > 1.25*mu {
		t.Errorf("first behind at %.1f/s offered, want just above %.0f", sat.FirstBehind, mu)
	}
}

func TestGeneratorHealth(t *testing.T) {
	s := summary.New(summary.Options{})
	m := &result.Meta{Attrs: map[string]string{result.AttrCPUSeconds: "1.9", result.AttrCPUs: "2"}, Duration: time.Second}
	for i := range 100 {
		at := time.Duration(i) * 10 * ms
		s.Add(m, &result.Result{Seq: uint64(i), Intended: at, Sent: at, Latency: ms, Status: 200})
	}
	s.Add(m, &result.Result{Seq: 100, Intended: time.Second, Sent: time.Second, Latency: 5 * ms, Error: "Get: context deadline exceeded (Client.Timeout exceeded)"})
	g := GeneratorHealth(s)
	if !g.Limited || g.CPU < 0.9 || g.ClientErrors != 1 || g.Timeouts != 1 {
		t.Errorf("got %+v, want limited by CPU 95%%, 1 client error that timed out", g)
	}
}

// side draws runs of a synthetic service: blocks of 100 ms at rate/s, the
// latency lognormal around median, with a slow period every few seconds
// shared by neighbouring requests (dependence inside a run).
func side(rng *rand.Rand, runs int, rate float64, dur time.Duration, median time.Duration) *summary.Blocks {
	sd := summary.NewBlocks(0)
	for r := range runs {
		m := &result.Meta{ID: string(rune('a' + r))}
		n := int(rate * dur.Seconds())
		slow := 1.0
		for i := range n {
			at := time.Duration(float64(i) / rate * float64(time.Second))
			if i%int(rate/4) == 0 { // the server's state changes every 250 ms
				slow = 1 + 0.3*rng.Float64()
			}
			l := time.Duration(float64(median) * slow * math.Exp(0.3*rng.NormFloat64()))
			res := result.Result{Seq: uint64(i), Intended: at, Sent: at, Latency: l, Status: 200}
			if rng.IntN(100) == 0 {
				res.Status = 500
			}
			sd.Add(m, &res)
		}
	}
	return sd
}

func verdicts(c *Comparison) map[string]string {
	v := map[string]string{}
	for _, m := range c.Labels[0].Metrics {
		v[m.Name] = m.Verdict
	}
	return v
}

// /fixed?ms=20 → ms=15 in synthetic form, 3 runs a side: every latency
// figure improves. (With one run a side the tails are not called: a −25 %
// p90 is within SingleRunMin's 30 %.)
func TestCompareImproved(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	c := Compare(side(rng, 3, 200, 10*time.Second, 20*ms), side(rng, 3, 200, 10*time.Second, 15*ms), CompareOptions{Warmup: 0})
	v := verdicts(c)
	for _, name := range []string{MetricMean, MetricP50, MetricP90, MetricP99} {
		if v[name] != Improved {
			t.Errorf("%s: %s, want improved", name, v[name])
		}
	}
	if v[MetricCount] != NotJudged || v[MetricMax] != NotJudged {
		t.Errorf("count and max should not be judged: %v", v)
	}
	if r := c.Regressions(0.05, nil); len(r) != 0 {
		t.Errorf("regressions reported for an improvement: %+v", r)
	}
	// And the other way round, a regression beyond 5 % fails the gate.
	c = Compare(side(rng, 1, 200, 10*time.Second, 15*ms), side(rng, 1, 200, 10*time.Second, 20*ms), CompareOptions{Warmup: 0})
	if r := c.Regressions(0.05, []string{MetricP50}); len(r) != 1 {
		t.Errorf("a 33%% slower p50 should fail a 5%% gate: %+v", r)
	}
}

// Same versus same, many times: the share of "significant" verdicts per
// metric is the false-positive rate, which should be near 1 − confidence
// (5 %). The synthetic runs have dependence inside a run (slow periods of
// 250 ms), which a bootstrap over single requests would miss.
func TestCompareFalsePositiveRate(t *testing.T) {
	const trials = 150
	rng := rand.New(rand.NewPCG(11, 13))
	fp := map[string]int{}
	judged := []string{MetricErrors, MetricMean, MetricP50, MetricP90, MetricP99}
	for i := range trials {
		c := Compare(side(rng, 1, 100, 6*time.Second, 20*ms), side(rng, 1, 100, 6*time.Second, 20*ms),
			CompareOptions{Warmup: 0, Resamples: 300, Seed: uint64(i), MinChange: -1})
		v := verdicts(c)
		for _, name := range judged {
			if v[name] != NoChange {
				fp[name]++
			}
		}
	}
	for _, name := range judged {
		rate := float64(fp[name]) / trials
		t.Logf("%s: false-positive rate %.1f%% (%d of %d same-vs-same comparisons)", name, 100*rate, fp[name], trials)
		if rate > 0.12 {
			t.Errorf("%s: false-positive rate %.1f%%, want near 5%%", name, 100*rate)
		}
	}
}

// TestClientErrorsAddUp: timeouts after the status line are responses cut
// off, counted among the client's errors, so the finding's numbers agree
// (it once said "211 requests got no HTTP response (500 timeouts)").
func TestClientErrorsAddUp(t *testing.T) {
	s := summary.New(summary.Options{})
	m := &result.Meta{}
	for i := range 1000 {
		at := time.Duration(i) * ms
		r := result.Result{Seq: uint64(i), Intended: at, Sent: at, Latency: ms, Status: 200}
		switch {
		case i < 211:
			r.Status, r.Error = 0, "refused: dial tcp 127.0.0.1:8080: connect: connection refused"
		case i < 711:
			r.Error = "timeout: net/http: request canceled (Client.Timeout exceeded while reading body)"
		case i < 720:
			r.Status = 504 // a response: the server's timeout, not the client's
		}
		s.Add(m, &r)
	}
	g := GeneratorHealth(s)
	if g.NoResponse != 211 || g.CutOff != 500 || g.ClientErrors != 711 || g.Timeouts != 500 {
		t.Errorf("no response %d, cut off %d, client errors %d, timeouts %d; want 211, 500, 711, 500", g.NoResponse, g.CutOff, g.ClientErrors, g.Timeouts)
	}
	want := "; 711 requests failed in the client: 211 got no HTTP response, 500 were cut off after the status line (500 of the 711 timed out): "
	if !strings.Contains(g.Text, want) {
		t.Errorf("finding %q\nlacks %q", g.Text, want)
	}
}

// A run whose requests went out 50 ms late is the generator's, not the
// server's: it is named and left out, so 3 runs against 4 where one
// after-run was limited compare 3 with 3; -include-limited judges it.
func TestCompareLeavesOutLimited(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	before := side(rng, 3, 100, 4*time.Second, 20*ms)
	after := side(rng, 3, 100, 4*time.Second, 20*ms)
	m := &result.Meta{ID: "late"}
	for i := range 400 {
		at := time.Duration(i) * 10 * ms
		r := result.Result{Seq: uint64(i), Intended: at, Sent: at + 50*ms, Latency: 70 * ms, Status: 200}
		after.Add(m, &r)
	}
	c := Compare(before, after, CompareOptions{Warmup: 0, Resamples: 200})
	if len(c.Limited) != 1 || c.Limited[0].Side != "after" || c.Limited[0].Run != 4 || c.Limited[0].Included ||
		!strings.Contains(c.Limited[0].Why, "send lag p99 was 50ms") {
		t.Fatalf("limited %+v, want after run 4 named for its send lag", c.Limited)
	}
	if c.BeforeJudged != 3 || c.AfterJudged != 3 || c.AfterRuns != 4 || !c.Hierarchical {
		t.Errorf("%d runs judged before, %d of %d after, hierarchical %v; want 3, 3 of 4, true", c.BeforeJudged, c.AfterJudged, c.AfterRuns, c.Hierarchical)
	}
	if v := verdicts(c); v[MetricP50] == Regressed || v[MetricMean] == Regressed {
		t.Errorf("the limited run's latencies were judged: %v", v)
	}
	c = Compare(before, after, CompareOptions{Warmup: 0, Resamples: 200, IncludeLimited: true})
	if c.AfterJudged != 4 || len(c.Limited) != 1 || !c.Limited[0].Included {
		t.Errorf("-include-limited: %d runs judged after, limited %+v; want 4, included", c.AfterJudged, c.Limited)
	}
}

// One run a side: the drift between runs cannot be measured, so a change
// inside SingleRunMin is not called however narrow the interval, and the
// comparison says why.
// With 2 runs a side the runs are not resampled either (MinRuns).
func TestCompareSingleRunMinimum(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	c := Compare(side(rng, 1, 200, 10*time.Second, 20*ms), side(rng, 1, 200, 10*time.Second, 21*ms), CompareOptions{Warmup: 0})
	if c.Hierarchical || !strings.Contains(c.Noise, "one run on a side") {
		t.Errorf("hierarchical %v, noise %q; want the one-run caveat", c.Hierarchical, c.Noise)
	}
	for _, m := range c.Labels[0].Metrics {
		if m.Name == MetricP50 && (m.Verdict != NoChange || m.Min != SingleRunMin[3]) {
			t.Errorf("p50 %+.1f%% [%+.1f%%, %+.1f%%] %s, min %.2f; want a 5%% change not called under the single-run minimum",
				100*m.Change, 100*m.Low, 100*m.High, m.Verdict, m.Min)
		}
	}
	c = Compare(side(rng, 2, 200, 5*time.Second, 20*ms), side(rng, 2, 200, 5*time.Second, 21*ms), CompareOptions{Warmup: 0})
	if c.Hierarchical || !strings.Contains(c.Noise, "too few to measure the drift") {
		t.Errorf("2 runs a side: hierarchical %v, noise %q; want the too-few caveat", c.Hierarchical, c.Noise)
	}
}

// Widening a relative interval keeps its bounds above −100 %.
func TestWidened(t *testing.T) {
	lo, hi := widened(-0.9, -0.95, -0.5, 3, true)
	if lo <= -1 || lo >= -0.95 || hi <= -0.5 {
		t.Errorf("widened(−90%% in [−95%%, −50%%], ×3) = [%+.1f%%, %+.1f%%]; want a wider interval above −100%%", 100*lo, 100*hi)
	}
}
