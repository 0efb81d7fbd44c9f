package lab_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/internal/starvation"
	"github.com/surge-dev/surge/lab"
)

// offer sends GET base+path at rate requests/s for span, each from its own
// goroutine (an open model: a slow answer delays no later request), and
// scrapes /metrics every 25 ms meanwhile. It returns the scrapes in order
// once every request has been answered.
func offer(t *testing.T, base, path string, rate int, span time.Duration) []map[string]float64 {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}
	defer client.CloseIdleConnections()
	var scrapes []map[string]float64
	stop := make(chan struct{})
	scraped := make(chan struct{})
	go func() {
		defer close(scraped)
		for {
			select {
			case <-stop:
				return
			case <-time.After(25 * time.Millisecond):
				scrapes = append(scrapes, scrape(t, base))
			}
		}
	}()
	var wg sync.WaitGroup
	n := int(span.Seconds() * float64(rate))
	start := time.Now()
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		wg.Go(func() {
			if r := do(t, client, http.MethodGet, base+path); r.code != http.StatusOK {
				t.Errorf("%s: %d %s %v", path, r.code, r.raw, r.err)
			}
		})
	}
	wg.Wait()
	close(stop)
	<-scraped
	return scrapes
}

// TestPoolUnderLoad checks the /pool gauges other truth tests rest on: offered
// twice the capacity size/ms, surge_lab_pool_busy reaches size and never
// passes it while surge_lab_pool_waiting grows by about the excess; offered
// half the capacity, hardly anything waits; afterwards all are back to 0.
func TestPoolUnderLoad(t *testing.T) {
	for _, c := range []struct{ size, ms int }{{4, 20}, {16, 80}} { // both 200 requests/s
		t.Run(fmt.Sprintf("size=%d", c.size), func(t *testing.T) {
			capacity := c.size * 1000 / c.ms
			_, base := newLab(t, lab.Config{})
			path := fmt.Sprintf("/pool?size=%d&ms=%d", c.size, c.ms)
			// The set's label holds the parameters that differ from the defaults.
			labels := fmt.Sprintf(`{endpoint="pool",params="%s"}`, get(t, base, path).body["params"])
			const span = 600 * time.Millisecond

			probe := starvation.Start(0)
			over := offer(t, base, path, 2*capacity, span)
			machine := probe.Stop()
			var maxBusy, maxWaiting float64
			for i, m := range over {
				busy, waiting := m["surge_lab_pool_busy"+labels], m["surge_lab_pool_waiting"+labels]
				if busy > float64(c.size) {
					t.Errorf("scrape %d: surge_lab_pool_busy = %v, more than the pool's %d slots", i, busy, c.size)
				}
				if got, ok := m["surge_lab_pool_size"+labels]; ok && got != float64(c.size) {
					t.Errorf("scrape %d: surge_lab_pool_size = %v, want %d", i, got, c.size)
				}
				maxBusy, maxWaiting = max(maxBusy, busy), max(maxWaiting, waiting)
			}
			// The queue grows by (offered − capacity) = capacity a second
			// over the span: 120 requests at the end of it.
			excess := float64(capacity) * span.Seconds()
			t.Logf("offered %d/s to %s (capacity %d/s) for %v: %d scrapes, busy up to %v, waiting up to %v, want about %.0f; %s",
				2*capacity, path, capacity, span, len(over), maxBusy, maxWaiting, excess, machine)
			if maxBusy != float64(c.size) {
				machine.Fail(t, analyze.LagLimit, "surge_lab_pool_busy reached %v at twice the capacity, want the pool's %d", maxBusy, c.size)
			}
			if maxWaiting < excess/2 || maxWaiting > 2*excess {
				machine.Fail(t, analyze.LagLimit, "surge_lab_pool_waiting reached %v at twice the capacity for %v, want about %.0f", maxWaiting, span, excess)
			}
			// A handler leaves the gauges just after its answer is sent.
			idle := func(m map[string]float64) bool {
				return m["surge_lab_pool_busy"+labels] == 0 && m["surge_lab_pool_waiting"+labels] == 0 && m["surge_lab_in_flight"+labels] == 0
			}
			m := scrape(t, base)
			for deadline := time.Now().Add(2 * time.Second); !idle(m) && time.Now().Before(deadline); m = scrape(t, base) {
				time.Sleep(5 * time.Millisecond)
			}
			if !idle(m) {
				t.Errorf("busy %v, waiting %v, in flight %v once every request was answered, want 0", m["surge_lab_pool_busy"+labels], m["surge_lab_pool_waiting"+labels], m["surge_lab_in_flight"+labels])
			}

			probe = starvation.Start(0)
			under := offer(t, base, path, capacity/2, span)
			machine = probe.Stop()
			maxWaiting = 0
			for _, m := range under {
				maxWaiting = max(maxWaiting, m["surge_lab_pool_waiting"+labels])
			}
			if maxWaiting > float64(c.size) {
				machine.Fail(t, analyze.LagLimit, "surge_lab_pool_waiting reached %v at half the capacity, want at most a pool's worth (%d)", maxWaiting, c.size)
			}
		})
	}
}

// pausedTotal is the README's closed form of surge_lab_pause_seconds_total:
// the time in the windows [k·every, k·every+for), k ≥ 1, up to t.
func pausedTotal(every, pause, t time.Duration) time.Duration {
	if t < every {
		return 0
	}
	k := t / every
	return (k-1)*pause + min(t-k*every, pause)
}

// TestPauseMetricUnderLoad checks surge_lab_pause_seconds_total against the
// wall clock while /pause is under load: each scrape's value lies between
// the closed form at the earliest and the latest instant the scrape can
// have been taken, counted from the earliest and latest instants the set's
// first request can have arrived. No tolerance is needed: the bounds hold
// however late the machine ran.
func TestPauseMetricUnderLoad(t *testing.T) {
	const every, pause = 200 * time.Millisecond, 50 * time.Millisecond
	_, base := newLab(t, lab.Config{})
	path := "/pause?every=200ms&for=50ms&ms=1"
	s0 := time.Now()
	get(t, base, path) // creates the set: windows from its arrival
	e0 := time.Now()
	const key = `surge_lab_pause_seconds_total{endpoint="pause",params="every=200ms&for=50ms&ms=1"}`
	done := make(chan struct{})
	go func() {
		defer close(done)
		offer(t, base, path, 100, 700*time.Millisecond)
	}()
	// At least 10 scrapes, during the load and after it if the machine is
	// too slow to fit them in.
	for checked := 0; ; checked++ {
		select {
		case <-done:
			if checked >= 10 {
				return
			}
		case <-time.After(10 * time.Millisecond):
		}
		before := time.Now()
		got := time.Duration(scrape(t, base)[key] * float64(time.Second))
		after := time.Now()
		lo, hi := pausedTotal(every, pause, before.Sub(e0)), pausedTotal(every, pause, after.Sub(s0))
		if got < lo-time.Microsecond || got > hi+time.Microsecond { // the text has nanosecond-rounded seconds
			t.Errorf("%s = %v at %v..%v after the first request, want %v..%v", key, got, before.Sub(e0), after.Sub(s0), lo, hi)
		}
	}
}
