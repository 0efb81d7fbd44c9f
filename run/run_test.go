package run

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
	"github.com/surge-dev/surge/target"
	"github.com/surge-dev/surge/threshold"
)

func server(t *testing.T) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	t.Cleanup(s.Close)
	return s.URL
}

func plan(url string, count uint64) Plan {
	cfg := attack.Config{Targets: []target.Target{{Method: "GET", URL: url + "/x"}}, Count: count, Connections: 2}
	return Plan{Config: cfg, Meta: NewMeta(cfg, []string{"surge", "test"})}
}

// recorder keeps what a Consumer was handed.
type recorder struct {
	results int
	markers []result.Marker
	stopped bool
}

func (r *recorder) Add(*result.Meta, *result.Result)           { r.results++ }
func (r *recorder) AddMarker(_ *result.Meta, mk result.Marker) { r.markers = append(r.markers, mk) }
func (r *recorder) Stop()                                      { r.stopped = true }

// TestDo runs a plan to a results file, a summary and a view, and reads
// the file back: every result, the plan's marker first, the generator's
// CPU marker last (to the file and the summary, not to the view, which was
// stopped before), and the end-of-run record.
func TestDo(t *testing.T) {
	p := plan(server(t), 20)
	p.Markers = []result.Marker{{Kind: result.MarkStage, Name: "only"}}
	var file bytes.Buffer
	sm := summary.New(summary.Options{})
	view := &recorder{}
	o, err := Do(context.Background(), p, Outputs{Results: &file, Consumers: []result.Consumer{sm},
		Live: func(l *Live) ([]View, error) {
			if l.Stats == nil || l.Meta != p.Meta || l.Stop == nil {
				t.Errorf("Live = %+v", l)
			}
			return []View{view}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if o.Done != 20 || o.Elapsed <= 0 || o.Stats.Done.Load() != 20 {
		t.Errorf("outcome %+v, want 20 done", o)
	}
	if view.results != 20 || !view.stopped || len(view.markers) != 1 || view.markers[0].Name != "only" {
		t.Errorf("view saw %d results, markers %v, stopped %v; want 20, the stage, stopped", view.results, view.markers, view.stopped)
	}
	if sm.Total.Requests != 20 || sm.Runs[0].Attrs[result.AttrCPUSeconds] == "" {
		t.Errorf("summary: %d requests, attrs %v; want 20 and the generator's CPU", sm.Total.Requests, sm.Runs[0].Attrs)
	}
	if p.Meta.Attrs["client"] != "net/http" || p.Meta.Connections != 2 {
		t.Errorf("meta attrs %v, connections %d", p.Meta.Attrs, p.Meta.Connections)
	}
	rd := result.NewReader(&file)
	var r result.Result
	n := 0
	for {
		err := rd.Read(&r)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	ms := rd.Markers()
	if n != 20 || len(ms) != 2 || ms[0].Name != "only" || ms[1].Kind != result.MarkGenerator || ms[1].Attrs[result.AttrCPUs] == "" {
		t.Errorf("file: %d results, markers %+v", n, ms)
	}
	if runs := rd.Runs(); len(runs) != 1 || !runs[0].Complete() {
		t.Errorf("file runs %+v, want one complete", runs)
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// TestDoStopsOnWriteError: a results file that cannot be written stops
// the run, and the error says so.
func TestDoStopsOnWriteError(t *testing.T) {
	p := plan(server(t), 0)
	p.Config.Duration = 20 * time.Second
	start := time.Now()
	_, err := Do(context.Background(), p, Outputs{Results: &failWriter{n: 4096}})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("write results: ")) {
		t.Fatalf("err = %v, want a write error", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("the run went on for %v after its file failed", time.Since(start))
	}
}

// TestDoLiveError: a live view that fails to start ends the run before
// anything is sent, and the results file ends whole.
func TestDoLiveError(t *testing.T) {
	p := plan(server(t), 10)
	var file bytes.Buffer
	want := errors.New("no dashboard")
	o, err := Do(context.Background(), p, Outputs{Results: &file, Live: func(*Live) ([]View, error) { return nil, want }})
	if !errors.Is(err, want) || o.Done != 0 {
		t.Fatalf("Do = %+v, %v; want nothing done and %v", o, err, want)
	}
	rd := result.NewReader(&file)
	var r result.Result
	if err := rd.Read(&r); err != io.EOF {
		t.Errorf("read = %v, want EOF", err)
	}
	if runs := rd.Runs(); len(runs) != 1 || !runs[0].Complete() {
		t.Errorf("file runs %+v, want one complete and empty", runs)
	}
}

// TestShifted: a shifted consumer sees copies moved by seq and at, one at
// a time or in batches, and the original is untouched.
func TestShifted(t *testing.T) {
	var got []result.Result
	var marks []result.Marker
	c := Shifted(consumerFunc{func(r *result.Result) { got = append(got, *r) }, func(mk result.Marker) { marks = append(marks, mk) }}, 100, time.Second)
	b := []result.Result{{Seq: 1, Intended: 2, Sent: 3, Latency: 4}}
	c.Add(nil, &b[0])
	result.AddBatch(c, nil, b)
	c.AddMarker(nil, result.Marker{At: 5})
	want := result.Result{Seq: 101, Intended: time.Second + 2, Sent: time.Second + 3, Latency: 4}
	if len(got) != 2 || got[0] != want || got[1] != want || b[0].Seq != 1 {
		t.Errorf("got %+v, want twice %+v; original %+v", got, want, b[0])
	}
	if len(marks) != 1 || marks[0].At != time.Second+5 {
		t.Errorf("markers %+v", marks)
	}
}

type consumerFunc struct {
	add  func(*result.Result)
	mark func(result.Marker)
}

func (c consumerFunc) Add(_ *result.Meta, r *result.Result)       { c.add(r) }
func (c consumerFunc) AddMarker(_ *result.Meta, mk result.Marker) { c.mark(mk) }

// TestJudge evaluates a plan's thresholds on the summary of its run.
func TestJudge(t *testing.T) {
	p := plan(server(t), 20)
	for _, s := range []string{"requests == 20", "error_rate > 0.5"} {
		th, err := threshold.ParseThreshold(s)
		if err != nil {
			t.Fatal(err)
		}
		p.Thresholds = append(p.Thresholds, th)
	}
	sm := summary.New(summary.Options{})
	if _, err := Do(context.Background(), p, Outputs{Consumers: []result.Consumer{sm}}); err != nil {
		t.Fatal(err)
	}
	vs := p.Judge(sm)
	if len(vs) != 2 || !vs[0].Pass || vs[1].Pass || vs[0].Value != 20 {
		t.Errorf("verdicts %+v, want requests == 20 passed (20) and error_rate > 0.5 failed", vs)
	}
	if vs := (&Plan{}).Judge(sm); vs != nil {
		t.Errorf("no thresholds: %+v, want nil", vs)
	}
}
