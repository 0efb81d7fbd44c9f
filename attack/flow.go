package attack

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/target"
)

// A Flow is a source of iterations: an iteration sends one or more
// requests in order (the steps of a user journey, or one request of a
// mix), each recorded as its own result.Result labelled with its step.
// Every open-model tick starts one iteration; every closed-model virtual
// user runs iterations back to back.
type Flow interface {
	// NewVU returns virtual user id. The engine gives each VU to one
	// goroutine at a time.
	NewVU(id int) VU
	// Label returns the label under which iteration seq is recorded when
	// it was due but never started (result.NotSent): the label its first
	// request would have had.
	Label(seq uint64) string
}

// VU is one virtual user of a Flow. It is used by one goroutine.
type VU interface {
	// Begin starts the next iteration. An error wrapping ErrVUDone ends
	// this VU; any other error ends the run after the iterations in
	// progress (a data file ran out, the iteration limit was reached),
	// and its text is written to the results file as a note.
	Begin() error
	// Next returns the iteration's next request and how to send it, or a
	// nil target when the iteration is complete. The target must stay
	// unchanged until the following call. An error (a template that could
	// not be rendered) fails the request, recorded under the Step's label,
	// and ends the iteration.
	Next() (*target.Target, Step, error)
	// Check judges the response to the request Next returned last. It
	// returns the name of the first check that failed ("" when none),
	// which becomes the result's Error and ends the iteration, and how
	// long the user pauses before its next request.
	Check(resp *Response) (failed string, think time.Duration)
}

// Step says how to send and label one request of an iteration.
type Step struct {
	// Label names the request in the results (its row in reports).
	Label string
	// Capture asks for the response header and body: the Check reads them.
	Capture bool
	// Rendered means the target's content changes from one request to the
	// next although its address does not, so a client must not reuse what
	// it built for the address last time.
	Rendered bool
}

// Response is what a VU's Check sees of a completed request. Header and
// Body are set only for a Step with Capture; Body is valid until the
// worker's next request.
type Response struct {
	Status  int
	Header  http.Header
	Body    []byte
	Latency time.Duration
	// Error is the transport error, "" when a response arrived.
	Error string
}

// Errors a VU's Begin returns to stop.
var (
	// ErrVUDone means the VU has run all its iterations (a per-user
	// limit): it stops, the run goes on.
	ErrVUDone = errors.New("virtual user done")
	// ErrRunDone means no iteration may start any more: the run ends once
	// the iterations in progress are complete.
	ErrRunDone = errors.New("run done")
	// ErrCountDone, wrapped with ErrRunDone, means the run's iteration
	// count was reached: its normal end, which a quiet run does not print
	// (the note marker carries Attrs["end"] = "count").
	ErrCountDone = errors.New("iteration count reached")
)

// CaptureConn is a Conn that can also hand back a response's header and
// body, for checks and extraction. HTTPClient's conns implement it; for a
// Client whose conns do not (FastClient discards bodies), the engine sends
// the requests that need a capture with net/http.
type CaptureConn interface {
	Conn
	// DoCapture sends t, fills r as Do does, and sets resp's Status,
	// Header and Body.
	DoCapture(ctx context.Context, t *target.Target, r *result.Result, resp *Response)
}

// freshConn is a Conn that can send a target without reusing what it
// built for the same *Target before (FastClient caches requests by
// pointer).
type freshConn interface {
	doFresh(ctx context.Context, t *target.Target, r *result.Result)
}

// targetsFlow runs Config.Targets round-robin, one request per iteration,
// so the closed model works without a scenario.
type targetsFlow struct {
	a *Attacker
}

func (f *targetsFlow) NewVU(int) VU { return &targetsVU{a: f.a} }

func (f *targetsFlow) Label(seq uint64) string {
	return f.a.label(seq % uint64(len(f.a.cfg.Targets)))
}

type targetsVU struct {
	a    *Attacker
	done bool
}

func (v *targetsVU) Begin() error { v.done = false; return nil }

func (v *targetsVU) Next() (*target.Target, Step, error) {
	if v.done {
		return nil, Step{}, nil
	}
	v.done = true
	i := v.a.tseq.Add(1) - 1
	i %= uint64(len(v.a.cfg.Targets))
	return &v.a.cfg.Targets[i], Step{Label: v.a.label(i)}, nil
}

func (v *targetsVU) Check(*Response) (string, time.Duration) { return "", 0 }

// flowWorker is one goroutine's state for running iterations: its VU,
// connections and recorder.
type flowWorker struct {
	a       *Attacker
	id      uint32
	vu      VU
	conn    Conn
	capture Conn // for Steps with Capture; conn when it can capture
	rec     recorder
	resp    Response
	timer   *time.Timer
}

func (a *Attacker) newFlowWorker(id int) *flowWorker {
	w := &flowWorker{a: a, id: uint32(id), vu: a.flow.NewVU(id), conn: a.client.NewConn(), rec: newRecorder(&a.runState)}
	if _, ok := w.conn.(CaptureConn); ok {
		w.capture = w.conn
	}
	return w
}

func (w *flowWorker) close() {
	w.rec.flush()
	w.conn.Close()
	if w.capture != nil && w.capture != w.conn {
		w.capture.Close()
	}
	if w.timer != nil {
		w.timer.Stop()
	}
}

// seq returns the next result sequence number of the Flow's results.
func (w *flowWorker) seq() uint64 { return w.a.reqSeq.Add(1) - 1 }

// pause sleeps d unless quit or the run's stop comes first; it reports
// whether it slept the whole time.
func (w *flowWorker) pause(d time.Duration, quit, stop <-chan struct{}) bool {
	if d <= 0 {
		return true
	}
	if d > maxHold/2 {
		w.rec.flush()
	}
	if w.timer == nil {
		w.timer = time.NewTimer(d)
	} else {
		w.timer.Reset(d)
	}
	select {
	case <-w.timer.C:
		return true
	case <-quit:
	case <-stop:
	}
	w.timer.Stop()
	return false
}

// iterate runs the iteration the VU has begun. Its first request is
// measured from at when scheduled (open model); every other request, and
// every request of the closed model, from when it was sent, because it
// waited on the previous response, not on a schedule. Think time is slept
// before the next request, and after the last one only when thinkLast.
// iterate returns false when the worker must stop (quit, or the run
// stopped).
func (w *flowWorker) iterate(at time.Duration, scheduled, thinkLast bool, quit, stop <-chan struct{}) bool {
	a := w.a
	var think time.Duration
	first := true
	for {
		t, st, err := w.vu.Next()
		if t == nil && err == nil {
			break
		}
		if !first && !w.pause(think, quit, stop) {
			return false
		}
		if a.stopped.Load() {
			if first && scheduled {
				// The tick was due before the stop (the worker slept until
				// it) and never went out: recorded, not dropped.
				w.rec.notSent(w.seq(), st.Label, at, w.id)
			}
			return false
		}
		now := a.now()
		if !first || !scheduled {
			at = now
		}
		first = false
		if err != nil {
			w.rec.failed(w.seq(), st.Label, at, w.id, "render: "+err.Error())
			return true
		}
		r := w.rec.open(w.seq(), st.Label, at, now, w.id)
		w.resp = Response{}
		w.do(t, st, r)
		w.rec.end(r, a.now())
		if r.Error != "" {
			w.rec.commit(r, a.now())
			return true // a transport error ends the iteration
		}
		w.resp.Status, w.resp.Latency = int(r.Status), r.Latency
		failed, d := w.vu.Check(&w.resp)
		think = d
		if failed != "" {
			r.Error = failed
		}
		w.rec.commit(r, a.now())
		if failed != "" {
			return true
		}
	}
	if thinkLast && !first {
		return w.pause(think, quit, stop)
	}
	return true
}

// do sends t, the request of step st, on the connection that step needs.
func (w *flowWorker) do(t *target.Target, st Step, r *result.Result) {
	ctx := w.a.reqCtx
	switch {
	case st.Capture:
		if w.capture == nil {
			w.capture = w.a.captureClient().NewConn()
		}
		w.capture.(CaptureConn).DoCapture(ctx, t, r, &w.resp)
	case st.Rendered:
		if f, ok := w.conn.(freshConn); ok {
			f.doFresh(ctx, t, r)
		} else {
			w.conn.Do(ctx, t, r)
		}
	default:
		w.conn.Do(ctx, t, r)
	}
}

// begin starts an iteration of w's VU and says whether to run it. A VU
// that is done, or a run that is, stops the worker.
func (w *flowWorker) begin() bool {
	err := w.vu.Begin()
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrVUDone):
		return false
	default:
		w.a.drain(err)
		return false
	}
}
