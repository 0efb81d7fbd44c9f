package capacity

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
)

// poolTrial simulates one 5 s trial (1 s warm-up) at rate requests/s
// against a pool of size slots holding each request for hold (the lab's
// /pool: FIFO, deterministic), and judges it against slo. When stall > 0
// the generator stalls for stall at the start of every period of the
// trial's second half (as when a CPU-bound process starts mid-trial):
// the requests due in a stall are sent together at its end, which is
// their send lag; every other request is sent 200µs late.
func poolTrial(t *testing.T, slo string, n int, rate float64, size int, hold, stall, period time.Duration) Trial {
	t.Helper()
	const length, warmup = 5 * time.Second, time.Second
	rec := NewRecorder(warmup, length)
	rec.InTime = 500 * time.Millisecond
	free := make([]time.Duration, size) // when each slot is free again
	for i := 0; ; i++ {
		due := time.Duration(float64(i) / rate * float64(time.Second))
		if due >= length {
			break
		}
		sent := due + 200*time.Microsecond
		if since := due - 3*time.Second; stall > 0 && since >= 0 && since%period < stall {
			sent = due - since%period + stall
		}
		slot := 0
		for k := range free {
			if free[k] < free[slot] {
				slot = k
			}
		}
		end := max(sent, free[slot]) + hold
		free[slot] = end
		rec.Add(nil, &result.Result{Seq: uint64(i), Intended: due, Sent: sent, Latency: end - due, Status: 200})
	}
	return rec.Judge(n, rate, mustSLO(t, slo))
}

// TestJudgeGeneratorBursts replays the first of the two misses of the
// lab table (docs/methods.md): /pool?size=4&ms=20 (200/s) at 150/s, a
// trial whose generator sent in bursts (send lag p99 91ms, under the
// 125ms bound of p95<500ms) failed on latency rising to a server p50 of
// 52ms, which bounded the search at 143.8/s with a 4 % margin. Here the
// bursts of 100ms give send lag p99 and max 100ms and lift the second
// half's p50 from 20ms to over 40ms. Before, the trial failed as the
// server's; such a failure, which the figure less the longest send lag
// would have passed, is unreliable. A pool over its capacity still fails beside
// the same bursts, and a trial without them is judged as before.
//
// The second miss, /pool?size=16&ms=20 (800/s) answered 675/s because
// 700/s failed with send lag p99 28ms, is the second case: bursts of 28ms
// every 60ms.
func TestJudgeGeneratorBursts(t *testing.T) {
	const slo = "p95<500ms,errors<1%"
	for _, c := range []struct {
		size                int
		rate, over          float64
		stall, period, rise time.Duration
	}{
		{4, 150, 220, 100 * time.Millisecond, 300 * time.Millisecond, 40 * time.Millisecond},
		{16, 700, 880, 28 * time.Millisecond, 60 * time.Millisecond, 26 * time.Millisecond},
	} {
		truth := float64(c.size) / 0.020
		tr := poolTrial(t, slo, 1, c.rate, c.size, 20*time.Millisecond, c.stall, c.period)
		t.Logf("%.0f/s on a %.0f/s pool, stalls of %s: send lag p99 %s, max %s; %s", c.rate, truth, c.stall, tr.SendLagP99, tr.SendLagMax, tr.Why)
		if tr.SendLagP99 > LagBound(mustSLO(t, slo)) || tr.SecondP50 < c.rise {
			t.Fatalf("the simulation should give a send lag under the bound and a rising p50: %+v", tr)
		}
		if tr.Pass || !tr.Unreliable || !strings.HasPrefix(tr.Why, "generator bursts: ") {
			t.Errorf("%.0f/s on a %.0f/s pool with bursts of send lag: pass %v, unreliable %v, why %q; want unreliable, generator bursts",
				c.rate, truth, tr.Pass, tr.Unreliable, tr.Why)
		}
		if tr := poolTrial(t, slo, 1, c.rate, c.size, 20*time.Millisecond, 0, c.period); !tr.Pass {
			t.Errorf("%.0f/s on a %.0f/s pool without bursts: %+v, want a pass", c.rate, truth, tr)
		}
		// 10 % over the capacity still fails beside the same bursts.
		for _, stall := range []time.Duration{0, c.stall} {
			if tr := poolTrial(t, slo, 1, c.over, c.size, 20*time.Millisecond, stall, c.period); tr.Pass || tr.Unreliable {
				t.Errorf("%.0f/s on a %.0f/s pool, stalls of %s: pass %v, unreliable %v, why %q; want a failure of the server",
					c.over, truth, stall, tr.Pass, tr.Unreliable, tr.Why)
			}
		}
	}
}

// TestSearchGeneratorBursts is the whole search of that miss, on the
// simulated 200/s pool, with the generator sending in bursts at every
// trial from 140/s (as while another process loaded the machine). Before,
// the search answered 143.8/s (150/s failed, margin 4 %), a wrong number
// with a small margin. When the bursts stay, the answer is "unreliable";
// when only the first trial at each rate has them (a passing load), the
// repeat judges the server and the answer is within 10 % of 200/s.
func TestSearchGeneratorBursts(t *testing.T) {
	slo := mustSLO(t, "p95<500ms,errors<1%")
	for _, tc := range []struct {
		name   string
		bursts func(rate float64, seen int) bool
	}{
		{"bursts stay", func(rate float64, _ int) bool { return rate >= 140 }},
		{"bursts pass", func(rate float64, seen int) bool { return rate >= 140 && seen == 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[float64]int{}
			trial := func(_ context.Context, n int, rate float64) (Trial, error) {
				seen[rate]++
				stall := time.Duration(0)
				if tc.bursts(rate, seen[rate]) {
					stall = 100 * time.Millisecond
				}
				return poolTrial(t, slo.String(), n, rate, 4, 20*time.Millisecond, stall, 300*time.Millisecond), nil
			}
			c, err := Search(context.Background(), Options{Start: 50, Max: 2000}, slo, trial)
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range c.Trials {
				t.Logf("trial %d: %s/s: pass %v, unreliable %v: %s", tr.N, FormatRate(tr.Rate), tr.Pass, tr.Unreliable, tr.Why)
			}
			t.Log(c.Text)
			if wrong := !c.Unreliable && (c.MaxRate < 180 || c.MaxRate > 220); wrong {
				t.Errorf("answer %q: a wrong number for a capacity of 200/s", c.Text)
			}
			if tc.name == "bursts pass" && c.Unreliable {
				t.Errorf("answer %q: the repeats had no bursts, want a rate", c.Text)
			}
		})
	}
}

// TestJudgeSaturated: a failed trial against a target on this machine
// while the machine's CPU pressure was at least 50 % is Saturated; one
// that passed, a remote target, or a machine with CPU to spare is not.
func TestJudgeSaturated(t *testing.T) {
	for _, c := range []struct {
		local    bool
		pressure string
		lat      time.Duration
		want     bool
	}{
		{true, "0.980", 600 * time.Millisecond, true},
		{true, "0.300", 600 * time.Millisecond, false},
		{false, "0.980", 600 * time.Millisecond, false},
		{true, "0.980", 20 * time.Millisecond, false},
	} {
		rec := NewRecorder(0, 10*time.Second)
		rec.Local = c.local
		for i := 0; i < 1000; i++ {
			r := result.Result{Seq: uint64(i), Intended: time.Duration(i) * 9 * time.Millisecond, Latency: c.lat, Status: 200}
			r.Sent = r.Intended
			rec.Add(nil, &r)
		}
		rec.AddMarker(nil, result.Marker{Kind: result.MarkGenerator, Attrs: map[string]string{result.AttrCPUPressure: c.pressure}})
		tr := rec.Judge(1, 100, mustSLO(t, "p99<500ms"))
		if tr.Saturated != c.want || c.want && !strings.HasSuffix(tr.Why, "; saturated machine: CPU pressure 98%, shared with the target") {
			t.Errorf("local %v, pressure %s, latency %s: saturated %v (%s), want %v", c.local, c.pressure, c.lat, tr.Saturated, tr.Why, c.want)
		}
	}
}

// TestSearchSaturated: a server that holds 200/s (the lab's 4×20ms pool)
// on a machine so busy that, sharing it, it fails from 170/s (as the lab
// table's 4×20 search did, 175/s with 181.2/s failed, at CPU pressure
// 98–100 %). Before, the search answered about 170/s with a small margin;
// a failure bound of saturated trials alone gives no rate, and says what
// held. A failure on a machine with CPU to spare still bounds the answer.
func TestSearchSaturated(t *testing.T) {
	slo := mustSLO(t, "p95<500ms,errors<1%")
	for _, pressure := range []float64{0.98, 0.2} {
		trial := func(_ context.Context, n int, rate float64) (Trial, error) {
			tr := Trial{N: n, Rate: rate, Pass: rate < 170, Why: "latency rising", Machine: &Machine{CPUPressure: pressure}}
			if !tr.Pass && pressure >= SaturatedPressure {
				tr.Why += "; saturated machine: CPU pressure 98%, shared with the target"
			}
			tr.Saturated = !tr.Pass && pressure >= SaturatedPressure
			return tr, nil
		}
		c, err := Search(context.Background(), Options{Start: 50, Max: 2000}, slo, trial)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(c.Text)
		switch {
		case pressure >= SaturatedPressure && (!c.Unreliable || c.MaxRate != 0 || c.Held < 160 ||
			!strings.HasPrefix(c.Text, "unreliable: the machine, which the target shares, was saturated (trial ")):
			t.Errorf("pressure %.2f: %+v, want unreliable, held about 170/s", pressure, c)
		case pressure < SaturatedPressure && (c.Unreliable || c.MaxRate < 160 || c.MaxRate >= 170):
			t.Errorf("pressure %.2f: %+v, want about 170/s", pressure, c)
		}
	}
}
