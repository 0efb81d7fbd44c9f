package attack

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-dev/surge/internal/starvation"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/target"
)

// collect runs an attack and returns its results sorted by sequence.
func collect(t *testing.T, ctx context.Context, cfg Config) []result.Result {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var out []result.Result
	err = a.Run(ctx, func(b []result.Result) error {
		mu.Lock()
		out = append(out, b...)
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// openEngines runs test on each engine of an open-model attack: the event
// loop and one goroutine per connection with the fast client, and net/http.
func openEngines(t *testing.T, test func(t *testing.T, run func(context.Context, Config) []result.Result)) {
	for _, engine := range []string{"loop", "workers", "net"} {
		t.Run(engine, func(t *testing.T) {
			test(t, func(ctx context.Context, cfg Config) []result.Result {
				t.Helper()
				if engine != "net" {
					setHTTP(&cfg, func(h *HTTPConfig) { h.NoEventLoop = engine == "workers" })
					c, err := NewFastClient(cfg)
					if err != nil {
						t.Fatal(err)
					}
					cfg.Client = c
				}
				return collect(t, ctx, cfg)
			})
		})
	}
}

func get(url string) []target.Target { return []target.Target{{Method: "GET", URL: url}} }

func checkSeqs(t *testing.T, rs []result.Result, n int) {
	t.Helper()
	if len(rs) != n {
		t.Fatalf("got %d results, want %d", len(rs), n)
	}
	for i, r := range rs {
		if r.Seq != uint64(i) {
			t.Fatalf("result %d has seq %d: a sequence number is missing or repeated", i, r.Seq)
		}
	}
}

func TestMaxRateCount(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	rs := collect(t, context.Background(), Config{Targets: get(srv.URL), Count: 2000, Connections: 8})
	checkSeqs(t, rs, 2000)
	if hits.Load() != 2000 {
		t.Errorf("server saw %d requests, want 2000", hits.Load())
	}
	for _, r := range rs {
		if !r.OK() || r.BytesIn != 2 || r.Latency <= 0 || r.Sent != r.Intended {
			t.Fatalf("result %+v: want OK, 2 bytes in, positive latency, no send lag at max rate", r)
		}
	}
}

func TestHeadersBodyAndLabels(t *testing.T) {
	type seen struct{ method, auth, body string }
	ch := make(chan seen, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- seen{r.Method, r.Header.Get("Authorization"), string(b)}
		w.WriteHeader(201)
	}))
	defer srv.Close()
	ts := []target.Target{
		{Method: "POST", URL: srv.URL + "/users", Header: http.Header{"Authorization": {"Bearer x"}}, Body: []byte(`{"a":1}`)},
		{Method: "DELETE", URL: srv.URL + "/users/1"},
	}
	rs := collect(t, context.Background(), Config{Targets: ts, Labels: []string{"create", "delete"}, Count: 4, Connections: 1})
	checkSeqs(t, rs, 4)
	close(ch)
	var got []seen
	for s := range ch {
		got = append(got, s)
	}
	want := []seen{{"POST", "Bearer x", `{"a":1}`}, {"DELETE", "", ""}, {"POST", "Bearer x", `{"a":1}`}, {"DELETE", "", ""}}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for i, r := range rs {
		wantLabel := []string{"create", "delete"}[i%2]
		if r.Label != wantLabel || r.Status != 201 || (i%2 == 0) != (r.BytesOut == 7) {
			t.Errorf("result %d = label %q status %d out %d; want %q 201 and the body size on POST", i, r.Label, r.Status, r.BytesOut, wantLabel)
		}
	}
}

// TestInFlightCapShowsAsSendLag: a server slower than the schedule, with a
// cap of 2 in flight. Nothing may disappear: every due request is recorded,
// the late ones with their send lag, the never-sent ones as not sent.
func TestInFlightCapShowsAsSendLag(t *testing.T) {
	var cur, peak atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(100 * time.Millisecond)
		cur.Add(-1)
	}))
	defer srv.Close()
	openEngines(t, func(t *testing.T, run func(context.Context, Config) []result.Result) {
		peak.Store(0)
		// 50 req/s for 1s with 2 in flight: each connection sends its next
		// request as soon as the last one is done, so about 2 × 1s / the
		// time an exchange took go out (Little's law), 20 at the server's
		// 100ms. The exchanges' time is measured (their service time), and
		// so is the wait for the CPU between one and the next (the probe's
		// mean overrun): a process held off the CPU has both exchanges in
		// flight (the server's sleep, the client's read) wait it out, and
		// many short stalls cost as much as one long one, which the worst
		// stall alone does not tell.
		probe := starvation.Start(0)
		rs := run(context.Background(), Config{Targets: get(srv.URL), Rate: schedule.Rate{Freq: 50, Per: time.Second}, Duration: time.Second, Connections: 2})
		machine := probe.Stop()
		checkSeqs(t, rs, 50)
		if p := peak.Load(); p > 2 {
			t.Errorf("server saw %d requests in flight, want at most 2", p)
		}
		var sent, notSent int
		var maxLag, service time.Duration
		for _, r := range rs {
			if r.Intended != time.Duration(r.Seq)*20*time.Millisecond {
				t.Fatalf("seq %d intended at %v, want %v", r.Seq, r.Intended, time.Duration(r.Seq)*20*time.Millisecond)
			}
			if r.Flags&result.NotSent != 0 {
				notSent++
				continue
			}
			sent++
			service += r.Latency - r.SendLag()
			maxLag = max(maxLag, r.SendLag())
			if r.Latency < r.SendLag()+100*time.Millisecond {
				t.Errorf("seq %d: latency %v does not include send lag %v + service 100ms", r.Seq, r.Latency, r.SendLag())
			}
		}
		cycle := service/time.Duration(max(sent, 1)) + machine.Mean
		fewest := int(2*time.Second/cycle) - 2
		t.Logf("sent %d, %v per exchange (service and the mean wait for the CPU); %s", sent, cycle, machine)
		if sent < fewest || sent > 26 || notSent != 50-sent {
			t.Errorf("sent %d, not sent %d; want about 20 sent (2 in flight × 1s / %v measured per exchange: %d to 26) and the rest recorded as not sent", sent, notSent, cycle, fewest)
		}
		if maxLag < 300*time.Millisecond {
			t.Errorf("max send lag %v; want the queue behind the cap to show (≥ 300ms)", maxLag)
		}
	})
}

func TestStopByContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	openEngines(t, func(t *testing.T, run func(context.Context, Config) []result.Result) {
		probe := starvation.Start(0)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		begin := time.Now()
		rs := run(ctx, Config{Targets: get(srv.URL), Rate: schedule.Rate{Freq: 100, Per: time.Second}, Duration: time.Minute})
		el := time.Since(begin)
		machine := probe.Stop()
		// The stop is seen as late as the process was starved of CPU
		// (measured by the probe, whose worst stall any goroutine of the
		// run may have had too); each 10ms of it lets one more tick fall
		// due before the stop.
		late := machine.Max
		t.Logf("Run returned after %v; %d results; %s", el, len(rs), machine)
		if el > 2*time.Second+late {
			t.Fatalf("Run took %v after a stop at 300ms (+%v of measured CPU starvation)", el, late)
		}
		if most := 40 + int(late/(10*time.Millisecond)); len(rs) < 20 || len(rs) > most {
			t.Fatalf("got %d results for 300ms at 100/s, want about 30 (20 to %d with %v of measured CPU starvation)", len(rs), most, late)
		}
		checkSeqs(t, rs, len(rs))
	})
}

func TestGraceCancelsStuckRequests(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	openEngines(t, func(t *testing.T, run func(context.Context, Config) []result.Result) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		rs := run(ctx, Config{Targets: get(srv.URL), Rate: schedule.Rate{Freq: 50, Per: time.Second}, Grace: 200 * time.Millisecond})
		canceled := 0
		for _, r := range rs {
			switch {
			case r.Error == "canceled: run stopped":
				canceled++
			case r.Flags&result.NotSent != 0 && r.Intended >= 60*time.Millisecond:
				// Due as the stop came (the ticks are 20ms apart): not
				// sent, and recorded so.
			default:
				t.Fatalf("stuck request recorded as %+v, want error %q", r, "canceled: run stopped")
			}
		}
		if canceled == 0 {
			t.Fatalf("no request canceled among %d results", len(rs))
		}
	})
}

func TestTimeoutAndConnectionErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
	}))
	defer srv.Close()
	rs := collect(t, context.Background(), Config{Targets: get(srv.URL), Count: 2, Timeout: 50 * time.Millisecond})
	for _, r := range rs {
		if r.Error != "timeout" || r.OK() {
			t.Errorf("result %+v, want error timeout", r)
		}
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	rs = collect(t, context.Background(), Config{Targets: get(url), Count: 3})
	checkSeqs(t, rs, 3)
	for _, r := range rs {
		if r.Error == "" || r.Status != 0 {
			t.Errorf("request to a closed port recorded as %+v, want a connection error", r)
		}
	}
}

func TestPeakInFlight(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		want int
	}{
		{"rate times timeout under the cap", Config{Rate: schedule.Rate{Freq: 50, Per: time.Second}, Timeout: 30 * time.Second, Connections: 10000}, 1501},
		{"cap under rate times timeout", Config{Rate: schedule.Rate{Freq: 1000, Per: time.Second}, Timeout: 10 * time.Second, Connections: 2000}, 2000},
		{"max rate", Config{Connections: 50}, 50},
		{"a ramp's peak", Config{Pacer: &schedule.Profile{Model: schedule.ModelOpen, Stages: []schedule.Stage{{Duration: time.Minute, FromRate: 10, ToRate: 100}}}, Timeout: 2 * time.Second, Connections: 10000}, 201},
		{"a pacer of unknown peak", Config{Pacer: schedule.ConstantPacer{Rate: schedule.Rate{Freq: 1, Per: time.Second}}, Timeout: time.Second, Connections: 300}, 300},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Targets = []target.Target{{Method: "GET", URL: "http://127.0.0.1:1/"}}
			a, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.PeakInFlight(); got != tt.want {
				t.Errorf("PeakInFlight() = %d, want %d", got, tt.want)
			}
		})
	}
}

// setHTTP changes the HTTPConfig of cfg's Transport.
func setHTTP(cfg *Config, f func(*HTTPConfig)) {
	h, _ := cfg.Transport.(HTTPConfig)
	f(&h)
	cfg.Transport = h
}
