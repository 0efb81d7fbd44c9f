package attack

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/surge-dev/surge/internal/starvation"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/target"
)

// echoFlow is a two-step flow: GET /token, whose body is captured, then
// GET /use?t=TOKEN, checked for status 200.
type echoFlow struct {
	base string
	mu   sync.Mutex
	vus  int
}

func (f *echoFlow) NewVU(id int) VU {
	f.mu.Lock()
	f.vus++
	f.mu.Unlock()
	return &echoVU{f: f, id: id}
}
func (f *echoFlow) Label(uint64) string { return "token" }

type echoVU struct {
	f     *echoFlow
	id    int
	step  int
	token string
	t     target.Target
}

func (v *echoVU) Begin() error { v.step = 0; return nil }

func (v *echoVU) Next() (*target.Target, Step, error) {
	v.step++
	switch v.step {
	case 1:
		v.t = target.Target{Method: "GET", URL: fmt.Sprintf("%s/token?vu=%d", v.f.base, v.id)}
		return &v.t, Step{Label: "token", Capture: true}, nil
	case 2:
		v.t = target.Target{Method: "GET", URL: v.f.base + "/use?t=" + v.token}
		return &v.t, Step{Label: "use", Rendered: true}, nil
	}
	return nil, Step{}, nil
}

func (v *echoVU) Check(r *Response) (string, time.Duration) {
	if v.step == 1 {
		v.token = string(r.Body)
		if r.Header.Get("X-Token") != v.token {
			return "header", 0
		}
		return "", 5 * time.Millisecond
	}
	if r.Status != 200 {
		return "status 200", 0
	}
	return "", 0
}

func echoServer(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/token":
			tok := "tok-" + r.URL.Query().Get("vu")
			w.Header().Set("X-Token", tok)
			fmt.Fprint(w, tok)
		case "/use":
			if !strings.HasPrefix(r.URL.Query().Get("t"), "tok-") {
				w.WriteHeader(401)
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestClosedFlow runs the closed model: 1 user, then 3, then 0, with a
// flow whose second step uses what the first one's body said, over both
// clients.
func TestClosedFlow(t *testing.T) {
	for _, client := range []string{"net", "fast"} {
		t.Run(client, func(t *testing.T) {
			f := &echoFlow{base: echoServer(t)}
			cfg := Config{Flow: f, Users: []schedule.UserStep{{At: 0, Users: 1}, {At: 200 * time.Millisecond, Users: 3}, {At: 400 * time.Millisecond, Users: 0}},
				Stages: []schedule.Phase{{Name: "one", Duration: 200 * time.Millisecond, Warmup: true}, {Name: "three", Start: 200 * time.Millisecond, Duration: 200 * time.Millisecond}}}
			if client == "fast" {
				c, err := NewFastClient(cfg)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Client = c
			}
			var marks []result.Marker
			cfg.Marker = func(m result.Marker) error { marks = append(marks, m); return nil }
			a, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var rs []result.Result
			probe := starvation.Start(0)
			start := time.Now()
			if err := a.Run(context.Background(), func(b []result.Result) error { rs = append(rs, b...); return nil }); err != nil {
				t.Fatal(err)
			}
			el := time.Since(start)
			machine := probe.Stop()
			t.Log(machine)
			// The run ends at the last step (400ms) once each user's request
			// in flight is done: a chain of wake-ups (the step's timer, the
			// users, the collector), each later by as much as the process
			// was held off the CPU, which the probe measured (Stalled).
			if most := 600*time.Millisecond + machine.Stalled; el > most {
				t.Errorf("run took %v, want about 400ms (at most %v with %v of measured stall)", el, most, machine.Stalled)
			}
			users := map[uint32]bool{}
			warm := 0
			for _, r := range rs {
				if r.Error != "" || r.Status != 200 {
					t.Fatalf("failed result: %+v", r)
				}
				if r.Intended != r.Sent {
					t.Errorf("closed model: intended %v != sent %v", r.Intended, r.Sent)
				}
				if r.Sent > 200*time.Millisecond {
					users[r.Worker] = true
				} else if r.Flags&result.Warmup == 0 {
					t.Errorf("result at %v not flagged warm-up", r.Sent)
				} else {
					warm++
				}
			}
			if len(users) != 3 || f.vus != 3 || warm == 0 {
				t.Errorf("%d users sent after 200ms, %d VUs made, %d warm-up results; want 3, 3, >0", len(users), f.vus, warm)
			}
			kinds := []string{}
			for _, m := range marks {
				kinds = append(kinds, m.Kind+":"+m.Name)
			}
			if d := cmp.Diff([]string{"stage:one", "warmup:one", "warmup-end:one", "stage:three"}, kinds); d != "" {
				t.Errorf("markers (-want +got):\n%s", d)
			}
		})
	}
}

// TestOpenFlowNotSent: an open-model flow whose iterations cannot start
// (in-flight cap 1, slow server) records the due ones as not sent.
func TestOpenFlowNotSent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(150 * time.Millisecond) }))
	t.Cleanup(srv.Close)
	f := &echoFlow{base: srv.URL}
	a, err := New(Config{Flow: f, Rate: schedule.Rate{Freq: 50, Per: time.Second}, Duration: 200 * time.Millisecond, Connections: 1})
	if err != nil {
		t.Fatal(err)
	}
	var rs []result.Result
	if err := a.Run(context.Background(), func(b []result.Result) error { rs = append(rs, b...); return nil }); err != nil {
		t.Fatal(err)
	}
	notSent := 0
	for _, r := range rs {
		if r.Flags&result.NotSent != 0 {
			notSent++
		}
	}
	if notSent < 5 || a.Stats().NotSent.Load() != int64(notSent) {
		t.Errorf("%d not-sent records of %d (stats %d): want most of the 10 due", notSent, len(rs), a.Stats().NotSent.Load())
	}
}

// stallFlow is a one-request flow whose VU, on iteration stallAt, stops
// the run and waits for the stop to take effect before it returns from
// Begin: the worker was held between its tick's wake-up and the send, as
// a process descheduled across the end of a run is.
type stallFlow struct {
	url     string
	stallAt int
	a       *Attacker
	cancel  context.CancelFunc
	mu      sync.Mutex
	begun   int
}

func (f *stallFlow) NewVU(int) VU        { return &stallVU{f: f} }
func (f *stallFlow) Label(uint64) string { return "get" }

type stallVU struct {
	f    *stallFlow
	t    target.Target
	sent bool
}

func (v *stallVU) Begin() error {
	v.sent = false
	f := v.f
	f.mu.Lock()
	f.begun++
	stall := f.begun == f.stallAt
	f.mu.Unlock()
	if stall {
		f.cancel()
		for !f.a.stopped.Load() {
			time.Sleep(time.Millisecond)
		}
	}
	return nil
}

func (v *stallVU) Next() (*target.Target, Step, error) {
	if v.sent {
		return nil, Step{}, nil
	}
	v.sent = true
	v.t = target.Target{Method: "GET", URL: v.f.url}
	return &v.t, Step{Label: "get"}, nil
}

func (v *stallVU) Check(*Response) (string, time.Duration) { return "", 0 }

// TestFlowTickDueAtStopRecorded: an open-model flow whose worker is held
// between a tick's wake-up and its send while the run stops records that
// tick as not sent: every tick due before the stop is in the results,
// sequence numbers without a gap.
func TestFlowTickDueAtStopRecorded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	f := &stallFlow{url: srv.URL + "/", stallAt: 5}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.cancel = cancel
	a, err := New(Config{Flow: f, Rate: schedule.Rate{Freq: 100, Per: time.Second}, Duration: 10 * time.Second, Connections: 4})
	if err != nil {
		t.Fatal(err)
	}
	f.a = a
	var rs []result.Result
	if err := a.Run(ctx, func(b []result.Result) error { rs = append(rs, b...); return nil }); err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]result.Result{}
	for _, r := range rs {
		seen[r.Seq] = r
	}
	if len(seen) < f.stallAt {
		t.Fatalf("%d results for %d iterations begun; want every tick due before the stop", len(seen), f.stallAt)
	}
	for seq := uint64(0); seq < uint64(len(seen)); seq++ {
		if _, ok := seen[seq]; !ok {
			t.Fatalf("tick %d of %d missing from the results (silently dropped)", seq, len(seen))
		}
	}
	stalled, ok := seen[uint64(f.stallAt-1)]
	if !ok || stalled.Flags&result.NotSent == 0 || stalled.Label != "get" {
		t.Errorf("the stalled tick was recorded as %+v; want not sent, labelled get", stalled)
	}
	if st := a.Stats(); st.NotSent.Load() == 0 || st.Done.Load() != int64(len(rs)) {
		t.Errorf("stats: not sent %d, done %d, for %d results", st.NotSent.Load(), st.Done.Load(), len(rs))
	}
}
