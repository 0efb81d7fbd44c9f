package analyze

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
)

// signalTrials is how many synthetic runs each case of
// TestSignalTestCalibration makes; docs/methods.md quotes -signals.trials 4000.
var signalTrials = flag.Int("signals.trials", 300, "synthetic runs per case of TestSignalTestCalibration")

// ar1 returns n values of an AR(1) process x[t] = φ·x[t−1] + ε, ε ~ N(0,1),
// after a burn-in.
func ar1(rng *rand.Rand, n int, phi float64) []float64 {
	x := make([]float64, n)
	v := rng.NormFloat64()
	for i := -50; i < n; i++ {
		v = phi*v + rng.NormFloat64()
		if i >= 0 {
			x[i] = v
		}
	}
	return x
}

// spiky returns n values that are 0 except, with probability q each, a
// spike of 1 to 3.
func spiky(rng *rand.Rand, n int, q float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		if rng.Float64() < q {
			x[i] = 1 + 2*rng.Float64()
		}
	}
	return x
}

// synthLatency makes a latency series (ms) from a shape: p99 = 10 + 5·shape
// (floored at 1), mean a third of it, in 1 s windows.
func synthLatency(shape []float64) latencySeries {
	t0 := time.Unix(1000, 0)
	ls := latencySeries{width: time.Second, n: len(shape)}
	for i, v := range shape {
		p := max(1, 10+5*v) * 1e6
		ls.from = append(ls.from, t0.Add(time.Duration(i)*time.Second))
		ls.p99, ls.mean = append(ls.p99, p), append(ls.mean, p/3)
	}
	return ls
}

// synthSeries is a gauge read once per window of ls.
func synthSeries(name string, x []float64, ls latencySeries) signalSeries {
	s := signalSeries{Series: result.Series{Name: name, Kind: result.SignalGauge, Source: "http://127.0.0.1:1/metrics"}, x: x, y99: ls.p99, ymean: ls.mean}
	for _, f := range ls.from {
		s.at = append(s.at, interval{f, f.Add(ls.width)})
	}
	return s
}

// TestSignalTestCalibration measures the test's error rates on synthetic
// series with known truth. Null: one test (lag 0, rank correlation on the
// corrected sample size) between independent series, AR(1) with φ up to
// 0.95 or spiky, must reject at most at its nominal 5 % (within two
// standard errors of the estimate); a whole family of 100 independent
// series × 2 figures × 5 lags must name one in at most SignalFDR of runs.
// Power: one series driving the latency among 99 that do not is named.
func TestSignalTestCalibration(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	trials := *signalTrials
	se := func(p float64) float64 { return 2 * math.Sqrt(p*(1-p)/float64(trials)) }
	for _, n := range []int{10, 30, 60} {
		for _, c := range []struct {
			name string
			gen  func() []float64
		}{
			{"white", func() []float64 { return ar1(rng, n, 0) }},
			{"AR(1) φ=0.5", func() []float64 { return ar1(rng, n, 0.5) }},
			{"AR(1) φ=0.9", func() []float64 { return ar1(rng, n, 0.9) }},
			{"AR(1) φ=0.95", func() []float64 { return ar1(rng, n, 0.95) }},
			{"spiky q=0.1", func() []float64 { return spiky(rng, n, 0.1) }},
		} {
			rej := 0
			for range trials {
				x, y := c.gen(), c.gen()
				if _, p, _ := lagCorr(x, y, 0); p < 0.05 {
					rej++
				}
			}
			rate := float64(rej) / float64(trials)
			t.Logf("null, %d windows, %s: one test rejects %.3f at 5%%", n, c.name, rate)
			if rate > 0.05+se(0.05) {
				t.Errorf("null, %d windows, %s: false-positive rate %.3f over the nominal 5%%", n, c.name, rate)
			}
		}
	}
	runs := max(trials/10, 30)
	// A family: 1 driving series (or none) among 99 independent AR(1)
	// series with φ = 0.8, 30 windows.
	family := func(n int, effect float64, drive bool) (named, falseNamed int) {
		for range runs {
			cause := spiky(rng, n, 0.15)
			noise := ar1(rng, n, 0.8)
			shape := make([]float64, n)
			for i := range shape {
				shape[i] = 0.3 * noise[i]
				if drive {
					shape[i] += effect * cause[i]
				}
			}
			ls := synthLatency(shape)
			sigs := []signalSeries{synthSeries("cause", cause, ls)}
			for range 99 {
				sigs = append(sigs, synthSeries("noise", ar1(rng, n, 0.8), ls))
			}
			f := correlateSignals(ls, sigs, nil)
			for _, m := range f.Matches {
				if m.Name == "cause" && drive {
					named++
				} else {
					falseNamed++
				}
			}
		}
		return named, falseNamed
	}
	sizes := []int{60}
	if trials > 300 {
		sizes = []int{30, 60}
	}
	for _, n := range sizes {
		_, fp := family(n, 0, false)
		t.Logf("family of 100 unrelated series, %d windows: %d false names in %d runs", n, fp, runs)
		if rate := float64(fp) / float64(runs); rate > SignalFDR+se(SignalFDR)*math.Sqrt(6) {
			t.Errorf("family of 100 unrelated series, %d windows: %d false names in %d runs (%.3f), over %.2f", n, fp, runs, rate, SignalFDR)
		}
		for _, effect := range []float64{0.5, 1, 2} {
			hit, fp := family(n, effect, true)
			t.Logf("family, 1 cause (latency +%.1f×5ms per unit of a spiky series) among 99 AR(1) φ=0.8, %d windows: named in %d of %d runs, %d other series named",
				effect, n, hit, runs, fp)
			if n == 60 && effect >= 2 && hit < runs*6/10 {
				t.Errorf("power at effect %.1f, %d windows: named in %d of %d runs, want 60 %%", effect, n, hit, runs)
			}
		}
	}
}

func TestCorrPKnown(t *testing.T) {
	// Reference values by Simpson integration of Student's t density and
	// the binomial sum, computed apart (python, 200,000 steps).
	for _, c := range []struct{ r, n, want float64 }{
		{0.5, 12, 0.0978546},  // t = 1.8257, df 10
		{0.9, 8, 0.0023162},   // t = 5.0587, df 6
		{0.1, 102, 0.3173044}, // t = 1.0050, df 100
	} {
		if got := corrP(c.r, c.n); math.Abs(got-c.want) > 1e-5*max(1, c.want*10) {
			t.Errorf("corrP(%v, %v) = %.7f, want %.7f", c.r, c.n, got, c.want)
		}
	}
	if got := binomTail(7, 9, 0.3); math.Abs(got-0.0042909) > 1e-6 {
		t.Errorf("binomTail(7, 9, 0.3) = %.7f, want 0.0042909", got)
	}
}

func TestBenjaminiHochberg(t *testing.T) {
	// m = 5, q = 0.05: thresholds 0.01, 0.02, 0.03, 0.04, 0.05; the
	// largest k with p(k) ≤ qk/m is 3 (0.029 ≤ 0.03), so 0.001, 0.02 and
	// 0.029 pass although 0.02 > 0.01 alone.
	got := benjaminiHochberg([]float64{0.2, 0.029, 0.001, 0.02, 0.5}, 0.05)
	want := []bool{false, true, true, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("benjaminiHochberg = %v, want %v", got, want)
		}
	}
}

func TestRanksTies(t *testing.T) {
	got := ranks([]float64{0, 3, 0, 1, 0})
	want := []float64{2, 5, 2, 4, 2}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ranks = %v, want %v", got, want)
		}
	}
}

// TestPlaceCounter: a counter read every second at +0.5 s that rose by
// 0.4 over the reading of +3.5 s has a rate of 0.4/s in that reading,
// whose span [2.5 s, 3.5 s) overlaps windows 2 and 3: its p99 is theirs,
// the larger.
func TestPlaceCounter(t *testing.T) {
	start := time.Unix(1000, 0)
	ls := synthLatency([]float64{0, 0, 1, 3, 0, 0, 0, 0})
	r := recorded{Series: result.Series{Name: "x_seconds_total", Kind: result.SignalCounter, Source: "s"}, Start: start}
	for k := 0; k < 8; k++ {
		at := time.Duration(k)*time.Second + 500*time.Millisecond
		v := 0.0
		if k == 3 {
			v = 0.4
		}
		span := time.Second
		if k == 0 {
			span = 0
		}
		r.Points = append(r.Points, recPoint{At: at, Span: span, V: v})
	}
	s := placeSignals([]recorded{r}, ls)[0]
	for j, want := range []float64{0, 0, 0.4, 0, 0, 0, 0} {
		if math.Abs(s.x[j]-want) > 1e-9 {
			t.Errorf("reading %d: %v, want %v (all %v)", j, s.x[j], want, s.x)
		}
	}
	if s.y99[2] != 25e6 || s.y99[1] != 15e6 {
		t.Errorf("y99 %v: want reading 2 to carry window 3's 25ms and reading 1 window 2's 15ms", s.y99)
	}
	if len(s.events) != 1 || !s.events[0].from.Equal(start.Add(2500*time.Millisecond)) {
		t.Errorf("events %v, want one from +2.5s", s.events)
	}
	if !strings.Contains(s.event, "in which it increased") {
		t.Errorf("event rule %q", s.event)
	}
}

const pauseWindows = 120

// pauseRun is a synthetic 120 s run in 1 s windows with a 500 ms pause
// every 6 s from +6 s: p99 5ms, 500ms in pause windows; a pause counter
// read every second at +0.3 s; noise counters; and the generator's lag.
func pauseRun(genStall bool) (latencySeries, []recorded, *Spikes) {
	rng := rand.New(rand.NewPCG(7, 7))
	start := time.Unix(1000, 0)
	shape := make([]float64, pauseWindows)
	paused := func(i int) bool { return i > 0 && i%6 == 0 }
	for i := range shape {
		shape[i] = rng.Float64() * 0.2
		if paused(i) {
			shape[i] = 100
		}
	}
	ls := synthLatency(shape)
	counter := func(name, source string, inc func(k int) float64) recorded {
		r := recorded{Series: result.Series{Name: name, Kind: result.SignalCounter, Source: source}, Start: start}
		for k := 0; k < pauseWindows; k++ {
			span := time.Second
			if k == 0 {
				span = 0
			}
			if v := inc(k); v != 0 || k == 0 {
				r.Points = append(r.Points, recPoint{At: time.Duration(k)*time.Second + 300*time.Millisecond, Span: span, V: v})
			}
		}
		return r
	}
	recs := []recorded{
		// The pause [6k, 6k+0.5) is read at 6k+0.3 (0.3 s) and 6k+1.3 (0.2 s).
		counter("surge_lab_pause_seconds_total", "http://127.0.0.1:1/metrics", func(k int) float64 {
			switch {
			case paused(k):
				return 0.3
			case paused(k - 1):
				return 0.2
			}
			return 0
		}),
	}
	for j := range 30 {
		recs = append(recs, counter(fmt.Sprintf("noise_%d_total", j), "http://127.0.0.1:1/metrics", func(int) float64 { return 1 + rng.Float64() }))
	}
	if genStall {
		recs = append(recs, counter("surge_not_sent_total", GeneratorSource, func(k int) float64 {
			if paused(k) || paused(k-1) {
				return 0.9
			}
			return 0.1 + 0.01*rng.Float64()
		}))
	}
	sp := &Spikes{}
	for i := 6; i < pauseWindows; i += 6 {
		sp.Episodes = append(sp.Episodes, Episode{Start: ls.from[i], End: ls.from[i].Add(time.Second), Offset: time.Duration(i) * time.Second})
	}
	return ls, recs, sp
}

func TestSignalsPauseSynthetic(t *testing.T) {
	ls, recs, sp := pauseRun(false)
	f := correlateSignals(ls, placeSignals(recs, ls), sp)
	t.Log(f.Text)
	if len(f.Matches) == 0 || f.Matches[0].Name != "surge_lab_pause_seconds_total" {
		t.Fatalf("want the pause counter named first, got %+v", f.Matches)
	}
	m := f.Matches[0]
	t.Log(m.Text)
	if m.Matched != 19 || m.Episodes != 19 {
		t.Errorf("episodes matched %d of %d, want 19 of 19", m.Matched, m.Episodes)
	}
	for _, want := range []string{"p99 spikes at +6s, +12s, +18s, +24s, …", "19 of 19 episodes", "in which it increased", "r = 0.", "stop-the-world pauses"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q: %s", want, m.Text)
		}
	}
	for _, o := range f.Matches[1:] {
		t.Errorf("a noise series named: %s", o.Text)
	}
	if f.Series != 31 || f.Tests != 31*2*5 {
		t.Errorf("series %d, tests %d; want 31, 310", f.Series, f.Tests)
	}
}

// TestSignalsGeneratorStall: when the generator's own CPU rose in the slow
// windows, no server signal is named.
func TestSignalsGeneratorStall(t *testing.T) {
	ls, recs, sp := pauseRun(true)
	f := correlateSignals(ls, placeSignals(recs, ls), sp)
	t.Log(f.Text)
	if !f.Generator {
		t.Fatalf("generator not named: %s", f.Text)
	}
	for _, m := range f.Matches {
		if !m.Generator {
			t.Errorf("a server signal named beside the generator's: %s", m.Text)
		}
	}
	if !strings.Contains(f.Text, "generator's own surge_not_sent_total") || !strings.Contains(f.Text, "none named") {
		t.Errorf("text: %s", f.Text)
	}
}

// TestSignalsSteadyNamesNothing: a series that correlates with a latency
// that never moved is not named.
func TestSignalsSteadyNamesNothing(t *testing.T) {
	ls, recs, _ := pauseRun(false)
	for i := range ls.p99 {
		if ls.p99[i] > 50e6 {
			ls.p99[i], ls.mean[i] = 11e6, 11e6/3
		}
	}
	f := correlateSignals(ls, placeSignals(recs, ls), nil)
	if len(f.Matches) != 0 || f.Moved || !strings.Contains(f.Text, "held steady") {
		t.Errorf("steady latency, want nothing named: %s", f.Text)
	}
}

// BenchmarkCorrelateSignals is the analysis of one label against 100
// recorded series over 300 readings (a 5-minute run read every second):
// what Diagnose adds per label when a run scraped a typical endpoint,
// and the dashboard pays at each snapshot.
func BenchmarkCorrelateSignals(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	ls := synthLatency(ar1(rng, 300, 0.5))
	sigs := make([]signalSeries, 100)
	for i := range sigs {
		sigs[i] = synthSeries(fmt.Sprintf("s%d", i), ar1(rng, 300, 0.8), ls)
	}
	b.ReportAllocs()
	for b.Loop() {
		correlateSignals(ls, sigs, nil)
	}
}

// TestMatchSentenceFewEpisodes: a series that moved with the latency but
// started only 2 of 9 episodes is not said to coincide with them.
func TestMatchSentenceFewEpisodes(t *testing.T) {
	eps := make([]Episode, 9)
	m := SignalMatch{Name: "x_total", Stat: "p99", R: 0.7, P: 1e-6, Episodes: 9, Matched: 2, Event: "a reading in which it increased"}
	s := m.sentence(eps, time.Second)
	if strings.Contains(s, "coincide") || !strings.Contains(s, "2 of 9 episodes") {
		t.Errorf("sentence: %s", s)
	}
	m.Matched = 8
	if s := m.sentence(eps, time.Second); !strings.Contains(s, "coincide") {
		t.Errorf("8 of 9: %s", s)
	}
}

// TestMatchSentenceBucket: a histogram bucket's rate is a count, and the
// sentence says so beside the preset's meaning.
func TestMatchSentenceBucket(t *testing.T) {
	m := SignalMatch{Name: "go_sched_latencies_seconds_bucket", Labels: `{le="0.001"}`, Kind: result.SignalCounter, Stat: "mean", R: -0.6, P: 1e-6}
	m.Meaning, _ = meaningOf(m.Name)
	if s := m.sentence(nil, time.Second); !strings.Contains(s, "falls as") || !strings.Contains(s, "a count of observations") {
		t.Errorf("sentence: %s", s)
	}
}
