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

// synthLag feeds a summary with n requests at rate per second, request i
// taking latency lat and having waited lag of it in the generator's queue.
func synthLag(n int, rate float64, f func(i int, at time.Duration) (lat, lag time.Duration)) *summary.Summary {
	s := summary.New(summary.Options{})
	m := &result.Meta{ID: "synthetic", Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	for i := range n {
		at := time.Duration(float64(i) / rate * float64(time.Second))
		lat, lag := f(i, at)
		r := result.Result{Seq: uint64(i), Label: "GET /x", Intended: at, Sent: at + lag, Latency: lat, Status: 200}
		s.Add(m, &r)
	}
	return s
}

// TestColdSendLagIsNot: the first 300 requests waited up to 144ms in the
// generator's own send queue, then took 5ms at the server. Their latency
// decays like a cold phase, but server time is flat: no cold phase. The
// same latencies with no send lag are one.
func TestColdSendLagIsNot(t *testing.T) {
	for _, lagged := range []bool{true, false} {
		rng := rand.New(rand.NewPCG(3, 4))
		s := synthLag(3000, 200, func(i int, _ time.Duration) (time.Duration, time.Duration) {
			var lag time.Duration
			if i < 300 {
				lag = 144 * ms * time.Duration(300-i) / 300
			}
			lat := lag + 5*ms + time.Duration(rng.Float64()*float64(ms))
			if !lagged {
				lag = 0
			}
			return lat, lag
		})
		lf := Diagnose(s).Labels[0]
		switch {
		case lagged && lf.Cold != nil:
			t.Errorf("send lag at the start called a cold phase: %s", lf.Cold.Text)
		case lagged && lf.Stall != nil:
			t.Errorf("send lag at the start called a stall: %s", lf.Stall.Text)
		case !lagged && (lf.Cold == nil || math.Abs(float64(lf.Cold.Requests)-300) > 60):
			t.Errorf("the same latencies as server time: cold phase %+v, want 300 ± 20%% requests", lf.Cold)
		}
	}
}

// TestColdShortInLongRun: a JVM at max rate, 50 connections: its first 48
// requests took 1.9–3.0 s, then 1.2ms at 833/s for 60,000 requests. The
// request-order series is 64 requests a bucket by then, so the cold phase
// is less than one bucket: it is found in the series' head, 48 ± 20 %.
// At max rate a request is due when a connection is free: the first 50 at
// once, the rest from when the first ones ended, 1.9 s on.
func TestColdShortInLongRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	s := summary.New(summary.Options{})
	m := &result.Meta{ID: "synthetic", Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	for i := range 60000 {
		at := 1900*ms + time.Duration(float64(i-50)/833*float64(time.Second))
		lat := 1200*time.Microsecond + time.Duration(rng.Float64()*float64(200*time.Microsecond))
		if i < 50 {
			at = 0
		}
		if i < 48 {
			lat = 1900*ms + time.Duration(rng.Float64()*float64(1100*ms))
		}
		r := result.Result{Seq: uint64(i), Label: "GET /x", Intended: at, Sent: at, Latency: lat, Status: 200}
		s.Add(m, &r)
	}
	c := Diagnose(s).Labels[0].Cold
	if c == nil || math.Abs(float64(c.Requests)-48) > 0.2*48 {
		t.Fatalf("cold phase %+v, want 48 ± 20%% requests", c)
	}
}

// TestColdShorterCut: 20 requests at 200ms, then a plateau at 12ms to
// request 1,500, then 10ms. MSER's cut lands at the plateau's end, 1,500
// requests in, and fails the threshold (12ms against 10ms + 50 %); the
// shorter cut, 20 requests, is the cold phase.
func TestColdShorterCut(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	s := synthLag(4000, 200, func(i int, _ time.Duration) (time.Duration, time.Duration) {
		d := time.Duration(rng.Float64() * float64(500*time.Microsecond))
		switch {
		case i < 20:
			return 200*ms + d, 0
		case i < 1500:
			return 12*ms + d, 0
		}
		return 10*ms + d, 0
	})
	seq := s.Labels()[0].Sequence
	bs := batches(seq.Buckets)
	if d := argmin(mserErrors(bs), len(bs)/2); span(bs[:d]).n < 1000 {
		t.Logf("MSER's own cut is %d requests in; the test wants it long", span(bs[:d]).n)
	}
	c := Diagnose(s).Labels[0].Cold
	if c == nil || math.Abs(float64(c.Requests)-20) > 4 {
		t.Fatalf("cold phase %+v, want 20 ± 20%% requests", c)
	}
}

// TestColdStallIsNot: a 400 s soak at 500/s whose server stopped from 60 s
// to 180 s: the requests due then waited for its end. It starts at the
// steady level, so it is a stall of 120 s at +60 s, not a cold phase.
func TestColdStallIsNot(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	s := synthLag(200000, 500, func(_ int, at time.Duration) (time.Duration, time.Duration) {
		d := 5*ms + time.Duration(rng.Float64()*float64(ms))
		if at >= 60*time.Second && at < 180*time.Second {
			d += 180*time.Second - at
		}
		return d, 0
	})
	lf := Diagnose(s).Labels[0]
	if lf.Cold != nil {
		t.Errorf("a stall called a cold phase: %s", lf.Cold.Text)
	}
	st := lf.Stall
	if st == nil {
		t.Fatal("no stall found")
	}
	t.Log(st.Text)
	if d := st.Start - 60*time.Second; d < -2*time.Second || d > 2*time.Second {
		t.Errorf("stall at +%s, want +60s ± 2s", st.Start)
	}
	if d := st.Duration - 120*time.Second; d < -12*time.Second || d > 12*time.Second {
		t.Errorf("stall of %s, want 120s ± 10%%", st.Duration)
	}
}

// TestColdWholeRun: a 0.7 s run whose first 30 requests are slow has a
// cold phase and no steady state left: one sentence says both, and none
// says the steady state excludes it.
func TestColdWholeRun(t *testing.T) {
	s := synthLag(70, 100, func(i int, _ time.Duration) (time.Duration, time.Duration) {
		if i < 30 {
			return 200 * ms, 0
		}
		return 5 * ms, 0
	})
	lf := Diagnose(s).Labels[0]
	if lf.Cold == nil {
		t.Fatal("no cold phase found")
	}
	if lf.Steady != nil {
		t.Errorf("a steady state from no window: %s", lf.Steady.Text)
	}
	if strings.Contains(lf.Cold.Text, "exclude") || !strings.Contains(lf.Cold.Text, "no steady state") {
		t.Errorf("cold phase text contradicts itself or hides the missing steady state: %s", lf.Cold.Text)
	}
}

// TestColdUnjudgedWhenLimited: a run whose send lag says the generator
// limited it. A start at 20ms in server time against 5ms, under the
// slowest steady latency (35ms with the 30ms lag), is printed as not
// judged, with the reason, and nothing is cut; a start at 200ms, over it,
// is still judged.
func TestColdUnjudgedWhenLimited(t *testing.T) {
	for _, cold := range []time.Duration{20 * ms, 200 * ms} {
		s := synthLag(3000, 200, func(i int, _ time.Duration) (time.Duration, time.Duration) {
			lag := 30 * ms
			if i < 300 {
				return lag + cold, lag
			}
			return lag + 5*ms, lag
		})
		f := Diagnose(s)
		if !f.Generator.Limited {
			t.Fatalf("generator not limited: %s", f.Generator.Text)
		}
		lf := f.Labels[0]
		switch {
		case lf.Cold == nil:
			t.Errorf("cold %s: no cold phase", cold)
		case cold == 20*ms && (lf.Cold.Unjudged == "" || !strings.HasPrefix(lf.Cold.Text, "cold phase not judged") || lf.Steady != nil):
			t.Errorf("cold %s: %s; want not judged and no steady state", cold, lf.Cold.Text)
		case cold == 200*ms && (lf.Cold.Unjudged != "" || lf.Steady == nil || !strings.Contains(lf.Cold.Text, "busy")):
			t.Errorf("cold %s: %s; want judged, saying the machine was busy", cold, lf.Cold.Text)
		}
	}
}
