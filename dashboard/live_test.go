package dashboard

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// TestLiveWindowsAndProgress checks a live snapshot: the time window
// still filling is not drawn (at 100 requests a second, a window a
// quarter filled would read 25/s), nor one that ended less long ago than
// results take to arrive; the progress says how far the run is toward
// its planned duration, and the run is named by its command.
func TestLiveWindowsAndProgress(t *testing.T) {
	const elapsed = 1100 * time.Millisecond
	meta := &result.Meta{Start: time.Now().Add(-elapsed), Command: []string{"surge", "attack", "-duration=10s", "-rate=100"}, Duration: 10 * time.Second}
	s, err := New(Config{Meta: meta, Summary: summary.Options{Window: 250 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	var batch []result.Result
	for at := time.Duration(0); at < elapsed; at += 10 * time.Millisecond {
		batch = append(batch, result.Result{Label: "GET /a", Intended: at, Sent: at, Latency: time.Millisecond, Status: 200})
	}
	s.Observe(batch)
	// The results arrived all at once here; in a run each arrives its
	// latency and a batch interval after its intended time: say 20 ms.
	delay := func(d time.Duration) {
		now := time.Now()
		s.mu.Lock()
		s.settle = settle{}
		s.settle.observe(now, now.Add(-d))
		s.mu.Unlock()
	}
	delay(20 * time.Millisecond)
	s.snapshot(true)
	var d struct {
		Title string `json:"title"`
		Runs  []struct {
			Name    string `json:"name"`
			Windows struct {
				WidthS     float64   `json:"width_s"`
				T          []float64 `json:"t"`
				Throughput []float64 `json:"throughput"`
			} `json:"windows"`
		} `json:"runs"`
		Progress *struct {
			ElapsedS float64 `json:"elapsed_s"`
			PlannedS float64 `json:"planned_s"`
			Requests int64   `json:"requests"`
		} `json:"progress"`
	}
	if err := json.Unmarshal(s.snap, &d); err != nil {
		t.Fatal(err)
	}
	w := d.Runs[0].Windows
	if len(w.T) == 0 {
		t.Fatal("no windows drawn")
	}
	for i, v := range w.Throughput {
		if v < 90 || w.T[i]+w.WidthS > elapsed.Seconds()+0.05 {
			t.Errorf("window at %gs (of %gs) drawn with %g/s after %s at 100/s: want only windows over, each near 100/s (all: %v at %v)",
				w.T[i], w.WidthS, v, elapsed, w.Throughput, w.T)
		}
	}
	p := d.Progress
	if p == nil || p.ElapsedS < elapsed.Seconds()-0.03 || p.ElapsedS > elapsed.Seconds()+5 || p.PlannedS != 10 || p.Requests != int64(len(batch)) {
		t.Errorf("progress %+v, want about %gs of 10s and %d requests", p, elapsed.Seconds(), len(batch))
	}
	if want := "surge attack -duration=10s -rate=100"; d.Runs[0].Name != want {
		t.Errorf("run named %q, want %q", d.Runs[0].Name, want)
	}
	if len(w.T) != 4 {
		t.Errorf("%d windows drawn after %s, want the 4 over", len(w.T), elapsed)
	}
	// Results taking 400 ms to arrive: the window that ended 350 ms ago
	// may still miss some, and is left out too.
	delay(400 * time.Millisecond)
	s.snapshot(true)
	if err := json.Unmarshal(s.snap, &d); err != nil {
		t.Fatal(err)
	}
	if n := len(d.Runs[0].Windows.T); n != 2 {
		t.Errorf("%d windows drawn after %s with results 400ms late, want 2 (those over by 0.7s)", n, elapsed)
	}
	// The final snapshot draws every window and no progress.
	s.snapshot(false)
	d.Progress = nil
	if err := json.Unmarshal(s.snap, &d); err != nil {
		t.Fatal(err)
	}
	if n := len(d.Runs[0].Windows.T); n != 5 || d.Progress != nil {
		t.Errorf("final snapshot: %d windows and progress %+v, want 5 and none", n, d.Progress)
	}
}

func TestRunName(t *testing.T) {
	for _, c := range []struct {
		m    result.Meta
		want string
	}{
		{result.Meta{Command: []string{"surge", "run", "scenarios/checkout.yaml"}, Attrs: map[string]string{"scenario": "search-under-load"}}, "search-under-load"},
		{result.Meta{Command: []string{"surge", "run", "-dashboard=127.0.0.1:0", "scenarios/checkout.yaml"}}, "checkout"},
		{result.Meta{Command: []string{"surge", "attack", "-rate=5"}}, "surge attack -rate=5"},
		{result.Meta{Profile: "rate 5/1s for 2s"}, "rate 5/1s for 2s"},
		{result.Meta{}, "live"},
		{result.Meta{Command: []string{"surge", "attack", "-header=" + string(make([]byte, 100))}}, ""},
	} {
		got := runName(&c.m)
		if c.want == "" {
			if n := len([]rune(got)); n != maxName {
				t.Errorf("long command named in %d runes, want %d", n, maxName)
			}
			continue
		}
		if got != c.want {
			t.Errorf("runName(%+v) = %q, want %q", c.m, got, c.want)
		}
	}
}

func TestSettle(t *testing.T) {
	var st settle
	t0 := time.Now()
	st.observe(t0, t0.Add(-300*time.Millisecond))
	st.observe(t0.Add(500*time.Millisecond), t0.Add(400*time.Millisecond))
	if got := st.lag(t0.Add(600 * time.Millisecond)); got != 300*time.Millisecond {
		t.Errorf("lag %s within the second, want the 300ms seen", got)
	}
	st.observe(t0.Add(1200*time.Millisecond), t0.Add(1190*time.Millisecond))
	if got := st.lag(t0.Add(1300 * time.Millisecond)); got != 300*time.Millisecond {
		t.Errorf("lag %s in the next second, want the previous second's 300ms", got)
	}
	if got := st.lag(t0.Add(2300 * time.Millisecond)); got != 10*time.Millisecond {
		t.Errorf("lag %s two seconds on, want the last second's 10ms", got)
	}
	if got := st.lag(t0.Add(5 * time.Second)); got != 0 {
		t.Errorf("lag %s after seconds without results, want 0", got)
	}
}
