package analyze

import (
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// At 20/s a 1s window holds 20 requests and its p99 is its slowest: one
// slow request every 3 s made an episode each before the minimum of 5.
// A 500ms stall every 5 s delays 10 requests each and stays an episode.
func TestSpikesMinSlow(t *testing.T) {
	s := synth(600, 20, func(i int, _ time.Duration) time.Duration {
		if i%60 == 30 {
			return 300 * ms
		}
		return 5 * ms
	})
	sp := Diagnose(s).Labels[0].Spikes
	if sp == nil || len(sp.Episodes) != 0 || sp.Isolated != 10 || sp.IsolatedSlow != 10 {
		t.Fatalf("one slow request every 3s at 20/s: want 0 episodes and 10 isolated, got %+v", sp)
	}
	if !strings.Contains(sp.Text, "isolated slow requests") {
		t.Errorf("sentence: %s", sp.Text)
	}
	s = synth(600, 20, func(_ int, at time.Duration) time.Duration {
		return pauseLatency(at, 5*time.Second, 500*ms, 5*ms)
	})
	sp = Diagnose(s).Labels[0].Spikes
	if sp == nil || len(sp.Episodes) != 5 || sp.Isolated != 0 {
		t.Fatalf("a 500ms stall every 5s at 20/s: want 5 episodes, got %+v", sp)
	}
	for _, e := range sp.Episodes {
		if e.Slow != 10 {
			t.Errorf("episode at %s holds %d slow requests, want 10", e.Offset, e.Slow)
		}
	}
}

// A generator that stalls for 500ms sends the requests due meanwhile
// late: their latency (from the intended time) is the stall's, their
// server time 5ms. The window is the generator's, not a spike.
func TestSpikesGeneratorStall(t *testing.T) {
	s := summary.New(summary.Options{})
	m := &result.Meta{ID: "stall", Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	for i := range 2000 {
		at := time.Duration(i) * 10 * ms
		sent := at + 50*time.Microsecond
		if at >= 10*time.Second && at < 10*time.Second+500*ms {
			sent = 10*time.Second + 500*ms
		}
		s.Add(m, &result.Result{Seq: uint64(i), Label: "GET /x", Intended: at, Sent: sent, Latency: sent - at + 5*ms, Status: 200})
	}
	sp := Diagnose(s).Labels[0].Spikes
	if sp == nil || len(sp.Episodes) != 0 || sp.GeneratorWindows != 1 {
		t.Fatalf("a generator stall: want 0 episodes and 1 generator window, got %+v", sp)
	}
}

// Episodes of a run whose generator was starved, limited or competed for
// the CPU are kept but not claimed.
func TestSpikesDiscount(t *testing.T) {
	for _, g := range []Generator{
		{Starved: true, Text: "the generator was starved of CPU"},
		{Limited: true, Text: "the generator limited this run"},
		{Machine: Machine{Pressure: 0.3}, Text: "the generator kept up"},
		{Machine: Machine{Pressure: -1, CPUWait: 1, CPUSeconds: 1, Steal: -1}, Text: "the generator kept up"},
	} {
		sp := &Spikes{Episodes: []Episode{{Slow: 10}}}
		sp.discount(g)
		if sp.Unjudged == "" || !strings.HasPrefix(sp.Text, "spikes not judged") || len(sp.Episodes) != 1 {
			t.Errorf("%+v: %+v", g, sp)
		}
	}
	sp := &Spikes{Episodes: []Episode{{Slow: 10}}, Text: "1 latency spike episode(s)"}
	sp.discount(Generator{Machine: Machine{Pressure: -1}, Text: "the generator kept up"})
	if sp.Unjudged != "" {
		t.Errorf("a healthy generator discounted the episodes: %+v", sp)
	}
}

// A closed loop (each request due when it goes out, send lag 0) whose
// responses take longer than a window: before, the windows "fell behind"
// the requests sent in them and saturation was claimed.
func TestSaturationUnscheduled(t *testing.T) {
	s := summary.New(summary.Options{})
	m := &result.Meta{ID: "closed", Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	// 50 users; the first 50 requests take 1.9–3.0 s (a cold JVM), then 60ms.
	for u := range 50 {
		at := time.Duration(0)
		for k := 0; at < 10*time.Second; k++ {
			lat := 60 * ms
			if k == 0 {
				lat = 1900*ms + time.Duration(u)*22*ms
			}
			s.Add(m, &result.Result{Seq: uint64(u*1000 + k), Label: "GET /x", Intended: at, Sent: at, Latency: lat, Status: 200})
			at += lat
		}
	}
	sat := DetectSaturation(s.Total.Series, nil)
	if sat == nil || sat.Detected || !sat.Unscheduled || !strings.HasPrefix(sat.Text, "saturation not judged") {
		t.Fatalf("a closed loop was judged for saturation: %+v", sat)
	}
	for _, j := range Diagnose(s).Labels[0].Judged {
		if j == "saturation" {
			t.Errorf("judged lists saturation for a closed loop")
		}
	}
}
