package attack

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/target"
)

// TestEnginesRecordAlike runs one plan on every engine (the event loop,
// goroutine workers on the fast client, net/http) and checks that each
// records the same fields by the same rules: sequence numbers unique and
// dense, intended times those of the schedule, send times not before them,
// latency counted from the intended time, labels, the warm-up flag, the
// not-sent flag, error classes, statuses and byte counts.
//
// The plan: 100/s for 30 requests (a 300ms run) over three targets, a GET,
// a POST and an address nothing listens on, on one connection, the first
// 50ms a warm-up stage. The server holds its 13th request 400ms: the ticks
// due after it, until the stop, find the connection busy and are recorded
// as not sent.
func TestEnginesRecordAlike(t *testing.T) {
	const (
		n      = 30
		gap    = 10 * time.Millisecond
		warmup = 50 * time.Millisecond
		stall  = 400 * time.Millisecond
		body   = `{"name":"surge"}`
	)
	refused := closedAddr(t)
	openEngines(t, func(t *testing.T, run func(context.Context, Config) []result.Result) {
		var arrivals atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			if arrivals.Add(1) == 13 {
				time.Sleep(stall)
			}
			if r.Method == "POST" {
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, "created")
				return
			}
			io.WriteString(w, "hello")
		}))
		defer srv.Close()
		ts := []target.Target{
			{Method: "GET", URL: srv.URL + "/get"},
			{Method: "POST", URL: srv.URL + "/post", Body: []byte(body)},
			{Method: "GET", URL: "http://" + refused + "/down"},
		}
		labels := []string{"get", "post", "down"}
		cfg := Config{Targets: ts, Labels: labels, Rate: schedule.Rate{Freq: 100, Per: time.Second}, Count: n, Duration: n * gap,
			Connections: 1, Timeout: 5 * time.Second,
			Stages: []schedule.Phase{{Name: "warm", Duration: warmup, Warmup: true}, {Name: "main", Start: warmup}}}
		rs := run(context.Background(), cfg)

		if len(rs) != n {
			t.Fatalf("%d results, want %d (one per tick, sent or not)", len(rs), n)
		}
		notSent := 0
		for i := range rs {
			r := &rs[i]
			if r.Seq != uint64(i) {
				t.Fatalf("result %d has seq %d: sequence numbers not unique and dense", i, r.Seq)
			}
			if want := time.Duration(i) * gap; r.Intended != want {
				t.Errorf("seq %d: intended %v, want the schedule's %v", i, r.Intended, want)
			}
			if r.Sent < r.Intended {
				t.Errorf("seq %d: sent %v before intended %v", i, r.Sent, r.Intended)
			}
			if want := labels[i%3]; r.Label != want {
				t.Errorf("seq %d: label %q, want %q", i, r.Label, want)
			}
			if warm := r.Flags&result.Warmup != 0; warm != (r.Intended < warmup) {
				t.Errorf("seq %d intended %v: warm-up flag %v, want %v", i, r.Intended, warm, !warm)
			}
			if r.Worker != 0 {
				t.Errorf("seq %d: worker %d, want Config.Worker 0", i, r.Worker)
			}
			if r.Flags&result.NotSent != 0 {
				notSent++
				if r.Sent != r.Intended || r.Latency != 0 || r.Status != 0 || r.BytesIn != 0 {
					t.Errorf("seq %d not sent: %+v, want sent = intended and no latency, status or bytes", i, *r)
				}
				if r.Intended >= n*gap {
					t.Errorf("seq %d not sent, intended %v: after the stop, never due", i, r.Intended)
				}
				continue
			}
			if notSent > 0 {
				t.Errorf("seq %d sent after a tick before it was not sent: one connection, held past the stop", i)
			}
			if r.Latency < r.Sent-r.Intended {
				t.Errorf("seq %d: latency %v less than its send lag %v: not measured from the intended time", i, r.Latency, r.Sent-r.Intended)
			}
			switch i % 3 {
			case 0:
				if r.Error != "" || r.Status != 200 || r.BytesIn != 5 || r.BytesOut != 0 {
					t.Errorf("seq %d GET: %+v, want 200, 5 bytes in, none out", i, *r)
				}
			case 1:
				if r.Error != "" || r.Status != 201 || r.BytesIn != 7 || r.BytesOut != int64(len(body)) {
					t.Errorf("seq %d POST: %+v, want 201, 7 bytes in, %d out", i, *r, len(body))
				}
			case 2:
				if c := result.ClassOf(r.Error); c != result.ClassRefused || r.Status != 0 || r.OK() {
					t.Errorf("seq %d to a closed port: error %q (class %q), status %d, want class %q", i, r.Error, c, r.Status, result.ClassRefused)
				}
			}
		}
		// The held request went out by 300ms and holds the one connection
		// for 400ms: at least the last tick cannot have gone out.
		if notSent == 0 {
			t.Errorf("no tick recorded as not sent, want the ticks due while the connection was held")
		}
		// The server's 13th request, if it went out, is the last one sent
		// to it, and its latency holds the stall.
		arrived := 0
		for _, r := range rs {
			if r.Flags&result.NotSent != 0 || r.Label == "down" {
				continue
			}
			if arrived++; arrived == 13 && r.Latency < stall {
				t.Errorf("seq %d, held %v by the server: latency %v", r.Seq, stall, r.Latency)
			}
		}
		if arrived > 13 {
			t.Errorf("%d requests reached the server after the one it held, on the one connection", arrived-13)
		}
	})
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
