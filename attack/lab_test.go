package attack

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/surge-dev/surge/lab"
	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/result"
)

// startLab serves the lab target on a loopback port for one test.
func startLab(t *testing.T) string {
	t.Helper()
	s := lab.New(lab.Config{})
	addr, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return "http://" + addr.String()
}

// TestCoordinatedOmission: the lab stops the world for 500ms every 2s. At
// 200 req/s for 4s, about 100 of 800 requests are due during the pause at
// 2.0–2.5s; measured from their intended send time they wait up to 500ms,
// so p99 must be ≥ 400ms. A closed-model tool (latency from the actual
// send) would report only the few requests in flight when the pause began.
func TestCoordinatedOmission(t *testing.T) {
	base := startLab(t)
	engine := 0
	openEngines(t, func(t *testing.T, run func(context.Context, Config) []result.Result) {
		engine++
		for _, tc := range []struct {
			name        string
			connections int
			path        string // a distinct parameter set: its own pause clock
		}{
			{"default cap", 0, fmt.Sprintf("/pause?every=2s&for=500ms&ms=%d", 2*engine-1)},
			{"cap of 2 connections", 2, fmt.Sprintf("/pause?every=2s&for=500ms&ms=%d", 2*engine)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rs := run(context.Background(), Config{
					Targets:     get(base + tc.path),
					Rate:        Rate{200, time.Second},
					Duration:    4 * time.Second,
					Connections: tc.connections,
				})
				checkSeqs(t, rs, 800)
				h, service := latency.New(), latency.New()
				for _, r := range rs {
					if !r.OK() {
						t.Fatalf("result %+v failed", r)
					}
					h.Record(r.Latency)
					service.Record(r.Latency - r.SendLag())
				}
				if p99 := h.Quantile(0.99); p99 < 400*time.Millisecond {
					t.Errorf("p99 = %v, want ≥ 400ms: the pause is hidden (coordinated omission)", p99)
				}
				t.Logf("p99 from intended time %v; p99 of service time alone %v", h.Quantile(0.99), service.Quantile(0.99))
				// With 2 connections only 2 requests feel the pause as service
				// time; the rest queue in the generator. Timing from the actual
				// send, as a closed-model tool does, would hide the stall.
				if tc.connections == 2 && service.Quantile(0.99) >= 400*time.Millisecond {
					t.Errorf("service-time p99 = %v with 2 connections; expected the stall to show only as send lag", service.Quantile(0.99))
				}
			})
		}
	})
}

// TestRateAccuracy: at 1,000 req/s for 3s against a 1ms endpoint, the
// achieved send rate (requests sent ÷ span of actual send times) is within
// 1 % of the requested rate.
func TestRateAccuracy(t *testing.T) {
	base := startLab(t)
	openEngines(t, func(t *testing.T, run func(context.Context, Config) []result.Result) {
		rs := run(context.Background(), Config{Targets: get(base + "/fixed?ms=1"), Rate: Rate{1000, time.Second}, Duration: 3 * time.Second})
		checkSeqs(t, rs, 3000)
		first, last := rs[0].Sent, rs[0].Sent
		for _, r := range rs {
			if r.Flags != 0 || !r.OK() {
				t.Fatalf("result %+v not OK", r)
			}
			first, last = min(first, r.Sent), max(last, r.Sent)
		}
		rate := float64(len(rs)) / (last - first).Seconds()
		if rate < 990 || rate > 1010 {
			t.Errorf("achieved send rate %.1f/s, want 1000/s within 1%%", rate)
		}
		t.Logf("achieved %.2f/s", rate)
	})
}
