package attack

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/schedule"
)

// TestRateCeiling: a rate or schedule above schedule.MaxRate is refused by
// New, before anything is sent.
func TestRateCeiling(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for name, cfg := range map[string]Config{
		"rate":  {Targets: get(srv.URL), Rate: schedule.Rate{Freq: 1_000_000_000, Per: time.Second}, Duration: time.Second},
		"pacer": {Targets: get(srv.URL), Pacer: &schedule.Profile{Model: schedule.ModelOpen, Stages: []schedule.Stage{{Duration: time.Second, FromRate: 10, ToRate: 1e11}}}},
	} {
		if _, err := New(cfg); !errors.Is(err, schedule.ErrRateTooHigh) {
			t.Errorf("New with an absurd %s: %v; want ErrRateTooHigh", name, err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests reached the server", hits.Load())
	}
}

// stopRun is what runStop saw of a run.
type stopRun struct {
	results, notSent int64
	bytes            int64         // of the results file
	elapsed          time.Duration // Run's call to its return
	stop             time.Duration // when the run was stopped, from its start
	lastDone         time.Duration // the last response's completion, from the start
	atStop           int64         // results the sink had when the run was stopped
}

// runStop runs cfg on engine ("loop", "workers" or "net"), stops it with
// cancel after cancelAfter (0: it ends by its Duration), and checks that
// every sequence number below the last came exactly once. With encode
// it writes the results file to count its bytes.
func runStop(t *testing.T, engine string, cfg Config, cancelAfter time.Duration, encode bool) stopRun {
	t.Helper()
	if engine != "net" {
		setHTTP(&cfg, func(h *HTTPConfig) { h.NoEventLoop = engine == "workers" })
		c, err := NewFastClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Client = c
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if cancelAfter > 0 {
		time.AfterFunc(cancelAfter, cancel)
	}
	var cw countWriter
	var w *result.Writer
	if encode {
		if w, err = result.NewWriter(&cw, &result.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	var sr stopRun
	seen := make([]uint64, 1<<16) // a bit per sequence number, grown as needed
	var dup, maxSeq uint64
	start := time.Now()
	err = a.Run(ctx, func(rs []result.Result) error {
		if !a.stopped.Load() {
			sr.atStop += int64(len(rs))
		}
		for i := range rs {
			r := &rs[i]
			for r.Seq/64 >= uint64(len(seen)) {
				seen = append(seen, make([]uint64, len(seen))...)
			}
			if seen[r.Seq/64]&(1<<(r.Seq%64)) != 0 {
				dup++
			}
			seen[r.Seq/64] |= 1 << (r.Seq % 64)
			maxSeq = max(maxSeq, r.Seq)
			sr.results++
			if r.Flags&result.NotSent != 0 {
				sr.notSent++
			} else {
				sr.lastDone = max(sr.lastDone, r.Intended+r.Latency)
			}
			if w != nil {
				if err := w.Write(r); err != nil {
					return err
				}
			}
		}
		return nil
	})
	sr.elapsed = time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if w != nil {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	sr.bytes = cw.n
	sr.stop = time.Duration(a.stopAt.Load())
	if dup > 0 || sr.results > 0 && uint64(sr.results) != maxSeq+1 {
		t.Fatalf("%d results up to seq %d, %d repeated: a due tick was dropped or recorded twice", sr.results, maxSeq, dup)
	}
	t.Logf("%s: %d results (%d not sent), %d bytes; stopped at %v, last response at %v, Run returned after %v",
		engine, sr.results, sr.notSent, sr.bytes, sr.stop.Round(time.Millisecond), sr.lastDone.Round(time.Millisecond), sr.elapsed.Round(time.Millisecond))
	return sr
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// stopBound is how long after the stop a run may take: 1 s for the
// schedule's accounting, plus the wait for the responses in flight at the
// stop, as long as the run itself measured (its last response's time).
func stopBound(sr stopRun) time.Duration {
	return sr.stop + time.Second + max(0, sr.lastDone-sr.stop)
}

// recordSpeed measures how many not-sent results per second this
// process, as built (the race detector makes it several times slower)
// and as loaded, records with the given engine and sink: a 100ms run at
// schedule.MaxRate on one connection, whose 100,000 ticks (no more than
// maxBacklog, so none is recorded early) are nearly all recorded at the
// stop. The stop-time checks hold a run to 1 s only where the generator
// records at least four times as fast as schedule.MaxRate; slower, it could not record
// its own schedule in time, and is judged as the report judges a run the
// generator limited: every tick recorded once, its time not held to the
// bound.
func recordSpeed(t *testing.T, engine, url string, encode bool) float64 {
	t.Helper()
	var speed float64
	for range 2 { // the better of two: one may meet a burst of other load
		sr := runStop(t, engine, Config{Targets: get(url), Rate: schedule.Rate{Freq: schedule.MaxRate, Per: time.Second}, Duration: 100 * time.Millisecond, Connections: 1}, 0, encode)
		after := sr.elapsed - max(sr.stop, sr.lastDone)
		speed = max(speed, float64(sr.notSent)/max(after, time.Millisecond).Seconds())
	}
	t.Logf("%s records %.0f not-sent results/s at the stop", engine, speed)
	return speed
}

// TestCeilingRateEndsOnTime: at the highest rate accepted, a 1 s run
// against a loopback server records every tick, sent or not, its results
// file stays within 16 bytes per tick (16 MB per second of run at
// schedule.MaxRate), and it ends within 1 s of its stop beyond the wait for the
// responses in flight.
func TestCeilingRateEndsOnTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	for _, engine := range []string{"loop", "workers", "net"} {
		t.Run(engine, func(t *testing.T) {
			speed := recordSpeed(t, engine, srv.URL, true)
			sr := runStop(t, engine, Config{Targets: get(srv.URL), Rate: schedule.Rate{Freq: schedule.MaxRate, Per: time.Second}, Duration: time.Second, Connections: 50}, 0, true)
			if sr.results != schedule.MaxRate {
				t.Errorf("%d results; want %d, one per tick of the second", sr.results, schedule.MaxRate)
			}
			if limit := int64(16 * schedule.MaxRate); sr.bytes > limit {
				t.Errorf("results file of %d bytes; want at most %d (16 per tick)", sr.bytes, limit)
			}
			checkStop(t, sr, speed, false)
		})
	}
}

// checkStop holds sr to stopBound when the generator records fast enough
// (see recordSpeed); far says the schedule fell far behind, and then the
// run must have recorded all but maxBacklog of its due ticks (and what
// its batches and the sink's queue hold) before the stop.
func checkStop(t *testing.T, sr stopRun, speed float64, far bool) {
	t.Helper()
	if speed < 4*schedule.MaxRate {
		t.Logf("generator-limited: it records %.0f results/s, less than four times schedule.MaxRate; the stop's time is not judged", speed)
		return
	}
	if b := stopBound(sr); sr.elapsed > b {
		t.Errorf("Run returned after %v; want within %v (stop at %v + 1s + the last response's %v after it)",
			sr.elapsed, b, sr.stop, max(0, sr.lastDone-sr.stop))
	}
	if far {
		queued := int64(64+8) * batchSize // the sink's channel, and a batch per loop or worker
		if sr.atStop < sr.results-maxBacklog-queued {
			t.Errorf("%d of %d results were recorded after the stop; want at most %d: the run did not record its far-behind ticks as it went",
				sr.results-sr.atStop, sr.results, maxBacklog+queued)
		}
	}
}

// TestFarBehindStopsOnTime: a run at schedule.MaxRate whose schedule falls far
// behind (two connections to a 10ms endpoint) and is stopped from outside
// after 3 s records every tick due before the stop once, and, as it
// recorded its oldest due ticks as not sent as it went, ends within 1 s
// of the stop with no more than maxBacklog left to record then.
func TestFarBehindStopsOnTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(10 * time.Millisecond)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	for _, engine := range []string{"loop", "workers", "net"} {
		t.Run(engine, func(t *testing.T) {
			speed := recordSpeed(t, engine, srv.URL, false)
			sr := runStop(t, engine, Config{Targets: get(srv.URL), Rate: schedule.Rate{Freq: schedule.MaxRate, Per: time.Second}, Duration: time.Minute, Connections: 2}, 3*time.Second, false)
			if due := int64(math.Ceil(float64(sr.stop) / 1e3)); sr.results != due {
				t.Errorf("%d results; want the %d ticks due before the stop at %v", sr.results, due, sr.stop)
			}
			checkStop(t, sr, speed, true)
		})
	}
}
