package summary

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/surge-dev/surge/result"
)

const ms = time.Millisecond

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// sample is a small hand-made run: two labels, a 500, a connection error, a
// not-sent request and send lag.
func sample() (*result.Meta, []result.Result) {
	m := &result.Meta{ID: "run-a", Start: t0}
	return m, []result.Result{
		{Seq: 0, Label: "get", Intended: 0, Sent: 0, Latency: 100 * ms, Status: 200, BytesIn: 100, BytesOut: 10},
		{Seq: 1, Label: "get", Intended: 100 * ms, Sent: 102 * ms, Latency: 900 * ms, Status: 200, BytesIn: 100, BytesOut: 10},
		{Seq: 2, Label: "post", Intended: 200 * ms, Sent: 200 * ms, Latency: 1500 * ms, Status: 201, BytesIn: 50, BytesOut: 500},
		{Seq: 3, Label: "post", Intended: 300 * ms, Sent: 300 * ms, Latency: 50 * ms, Status: 500, BytesIn: 20, BytesOut: 500},
		{Seq: 4, Label: "get", Intended: 400 * ms, Sent: 430 * ms, Latency: 2 * time.Second, Error: "dial tcp: connection refused"},
		{Seq: 5, Label: "get", Intended: 1000 * ms, Sent: 1000 * ms, Flags: result.NotSent},
	}
}

func TestCounts(t *testing.T) {
	m, rs := sample()
	s := New(Options{})
	for i := range rs {
		s.Add(m, &rs[i])
	}
	tot := s.Total
	got := []int64{tot.Requests, tot.Sent, tot.NotSent, tot.Success, tot.Late, tot.BytesIn, tot.BytesOut, tot.Latency.Count(), tot.SendLag.Count()}
	want := []int64{6, 5, 1, 3, 2, 270, 1020, 5, 5}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests, sent, not sent, success, late, bytes in, bytes out, latencies, lags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[int]int64{0: 2, 200: 2, 201: 1, 500: 1}, tot.StatusCodes); diff != "" {
		t.Errorf("status codes (-want +got):\n%s", diff)
	}
	// A failing status without a transport error is listed by its status
	// line, as vegeta does.
	if diff := cmp.Diff([]ErrorCount{{"500 Internal Server Error", 1, ""}, {"refused: dial tcp: connection refused", 1, "refused"}}, tot.Errors); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	// Successful: 100ms, 900ms, 1500ms; failed: the 500, the error, the
	// not-sent one.
	if diff := cmp.Diff([]int64{1, 1, 1, 3}, tot.Buckets); diff != "" {
		t.Errorf("buckets (-want +got):\n%s", diff)
	}
	if got, want := tot.Latency.Max(), 2*time.Second; got != want {
		t.Errorf("max latency = %v, want %v (not-sent must not count)", got, want)
	}
	if got, want := tot.Latency.Min(), 50*ms; got != want {
		t.Errorf("min latency = %v, want %v", got, want)
	}
	if got, want := tot.SendLag.Max(), 30*ms; got != want {
		t.Errorf("max send lag = %v, want %v", got, want)
	}

	labels := s.Labels()
	if len(labels) != 2 || labels[0].Label != "get" || labels[1].Label != "post" {
		t.Fatalf("labels = %v, want get, post", labels)
	}
	get, post := labels[0], labels[1]
	if get.Requests != 4 || get.NotSent != 1 || get.Success != 2 || len(get.Errors) != 1 {
		t.Errorf("get: requests %d, not sent %d, success %d, errors %d; want 4, 1, 2, 1", get.Requests, get.NotSent, get.Success, len(get.Errors))
	}
	if post.Requests != 2 || post.Success != 1 || post.StatusCodes[500] != 1 || len(post.Errors) != 1 {
		t.Errorf("post: requests %d, success %d, 500s %d, errors %d; want 2, 1, 1, 1", post.Requests, post.Success, post.StatusCodes[500], len(post.Errors))
	}
	if s.Label("nope") != nil {
		t.Errorf("Label(unknown) is not nil")
	}
	if len(s.Runs) != 1 || s.Runs[0].ID != "run-a" {
		t.Errorf("runs = %v, want one, run-a", s.Runs)
	}
}

func TestFormulas(t *testing.T) {
	m, rs := sample()
	s := New(Options{})
	for i := range rs {
		s.Add(m, &rs[i])
	}
	st := s.Total
	// Sends at 0, 102, 200, 300, 430ms (the not-sent one has no send).
	// Completions at 100, 1000, 1700, 350, 2400ms.
	if got, want := st.Earliest, t0; !got.Equal(want) {
		t.Errorf("earliest = %v, want %v", got, want)
	}
	if got, want := st.Latest, t0.Add(430*ms); !got.Equal(want) {
		t.Errorf("latest = %v, want %v", got, want)
	}
	if got, want := st.End, t0.Add(2400*ms); !got.Equal(want) {
		t.Errorf("end = %v, want %v", got, want)
	}
	if got, want := st.Duration(), 430*ms; got != want {
		t.Errorf("duration = %v, want %v", got, want)
	}
	if got, want := st.Wait(), 1970*ms; got != want {
		t.Errorf("wait = %v, want %v", got, want)
	}
	checkFloat(t, "rate", st.Rate(), 5/0.43)
	checkFloat(t, "throughput", st.Throughput(), 3/2.4)
	checkFloat(t, "success ratio", st.SuccessRatio(), 0.5)

	var empty Stats
	if empty.Rate() != 0 || empty.Throughput() != 0 || empty.SuccessRatio() != 0 {
		t.Errorf("empty stats: rate %v, throughput %v, ratio %v; want 0", empty.Rate(), empty.Throughput(), empty.SuccessRatio())
	}
}

func checkFloat(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Abs(want) {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func TestTwoRuns(t *testing.T) {
	a := &result.Meta{ID: "a", Start: t0}
	b := &result.Meta{ID: "b", Start: t0.Add(10 * time.Second)}
	s := New(Options{})
	s.Add(a, &result.Result{Label: "x", Sent: 1 * time.Second, Intended: 1 * time.Second, Latency: 100 * ms, Status: 200})
	// Offset 0 of run b is 10s after run a's start: the earliest send of
	// run b is later than run a's, although its offset is smaller.
	s.Add(b, &result.Result{Label: "x", Sent: 0, Latency: 50 * ms, Status: 200})
	s.Add(b, &result.Result{Label: "x", Sent: 2 * time.Second, Intended: 2 * time.Second, Latency: 300 * ms, Status: 200})
	s.Add(a, &result.Result{Label: "x", Sent: 0, Latency: 20 * ms, Status: 200})

	st := s.Total
	if got, want := st.Earliest, t0; !got.Equal(want) {
		t.Errorf("earliest = %v, want %v", got, want)
	}
	if got, want := st.Latest, t0.Add(12*time.Second); !got.Equal(want) {
		t.Errorf("latest = %v, want %v", got, want)
	}
	if got, want := st.End, t0.Add(12300*ms); !got.Equal(want) {
		t.Errorf("end = %v, want %v", got, want)
	}
	checkFloat(t, "rate", st.Rate(), 4/12.0)
	checkFloat(t, "throughput", st.Throughput(), 4/12.3)
	if len(s.Runs) != 2 || s.Runs[0].ID != "a" || s.Runs[1].ID != "b" {
		t.Errorf("runs = %v, want a, b", s.Runs)
	}
}

func TestRunsWithoutID(t *testing.T) {
	a, b := &result.Meta{Start: t0}, &result.Meta{Start: t0}
	s := New(Options{})
	r := &result.Result{Status: 200}
	s.Add(a, r)
	s.Add(b, r)
	s.Add(a, r)
	s.Add(nil, r)
	if len(s.Runs) != 3 {
		t.Errorf("got %d runs, want 3 (two headers told apart by pointer, and nil)", len(s.Runs))
	}
}

func TestWarmup(t *testing.T) {
	m := &result.Meta{Start: t0}
	rs := []result.Result{
		{Label: "a", Latency: 3 * time.Second, Status: 200, Flags: result.Warmup},
		{Label: "a", Latency: 10 * ms, Status: 200, Flags: result.Warmup},
		{Label: "a", Latency: 20 * ms, Status: 200},
	}
	for _, tc := range []struct {
		include           bool
		requests, skipped int64
		max               time.Duration
	}{
		{false, 1, 2, 20 * ms},
		{true, 3, 0, 3 * time.Second},
	} {
		t.Run(fmt.Sprint("include=", tc.include), func(t *testing.T) {
			s := New(Options{IncludeWarmup: tc.include})
			for i := range rs {
				s.Add(m, &rs[i])
			}
			if s.Total.Requests != tc.requests || s.WarmupSkipped != tc.skipped || s.Total.Latency.Max() != tc.max {
				t.Errorf("requests %d, skipped %d, max %v; want %d, %d, %v",
					s.Total.Requests, s.WarmupSkipped, s.Total.Latency.Max(), tc.requests, tc.skipped, tc.max)
			}
		})
	}
}

func TestBucketsAtBounds(t *testing.T) {
	for _, tc := range []struct {
		latency time.Duration
		want    []int64
	}{
		{0, []int64{1, 0, 0, 0}},
		{800*ms - 1, []int64{1, 0, 0, 0}},
		{800 * ms, []int64{0, 1, 0, 0}},
		{1200*ms - 1, []int64{0, 1, 0, 0}},
		{1200 * ms, []int64{0, 0, 1, 0}},
		{time.Hour * 2, []int64{0, 0, 1, 0}},
	} {
		t.Run(tc.latency.String(), func(t *testing.T) {
			s := New(Options{})
			s.Add(nil, &result.Result{Latency: tc.latency, Status: 200})
			if diff := cmp.Diff(tc.want, s.Total.Buckets); diff != "" {
				t.Errorf("buckets (-want +got):\n%s", diff)
			}
		})
	}

	s := New(Options{Bounds: []time.Duration{50 * ms, 10 * ms, 50 * ms}, Hist: []time.Duration{0, 10 * ms}})
	if diff := cmp.Diff([]time.Duration{10 * ms, 50 * ms}, s.Options().Bounds); diff != "" {
		t.Errorf("bounds not sorted and deduplicated (-want +got):\n%s", diff)
	}
	for _, l := range []time.Duration{5 * ms, 10 * ms, 49 * ms, 50 * ms} {
		s.Add(nil, &result.Result{Latency: l, Status: 200})
	}
	s.Add(nil, &result.Result{Latency: 5 * ms, Status: 503})
	if diff := cmp.Diff([]int64{1, 2, 1, 1}, s.Total.Buckets); diff != "" {
		t.Errorf("custom bounds (-want +got):\n%s", diff)
	}
	// Hist counts every sent result, failed or not.
	if diff := cmp.Diff([]int64{0, 2, 3}, s.Total.Hist); diff != "" {
		t.Errorf("hist (-want +got):\n%s", diff)
	}
}

func TestLateAfter(t *testing.T) {
	s := New(Options{LateAfter: 10 * ms})
	for _, lag := range []time.Duration{0, 10 * ms, 10*ms + 1, time.Second} {
		s.Add(nil, &result.Result{Intended: time.Second, Sent: time.Second + lag, Status: 200})
	}
	if got := s.Total.Late; got != 2 {
		t.Errorf("late = %d, want 2 (lag > 10ms)", got)
	}
	if got := New(Options{}).Options().LateAfter; got != DefaultLateAfter {
		t.Errorf("default LateAfter = %v, want %v", got, DefaultLateAfter)
	}
}

func TestErrorCap(t *testing.T) {
	s := New(Options{})
	for i := range MaxErrors + 50 {
		r := &result.Result{Error: fmt.Sprintf("error %d", i)}
		s.Add(nil, r)
		if i < 10 {
			s.Add(nil, r)
		}
	}
	st := s.Total
	if len(st.Errors) != MaxErrors || st.OtherErrors != 50 {
		t.Fatalf("kept %d errors with %d others, want %d with 50", len(st.Errors), st.OtherErrors, MaxErrors)
	}
	if st.Errors[0] != (ErrorCount{"error 0", 2, ""}) || st.Errors[MaxErrors-1] != (ErrorCount{fmt.Sprintf("error %d", MaxErrors-1), 1, ""}) {
		t.Errorf("first and last kept errors = %v, %v; want first-seen order with counts", st.Errors[0], st.Errors[MaxErrors-1])
	}
	// A kept error seen again after the cap is still counted under its name.
	s.Add(nil, &result.Result{Error: "error 5"})
	if st.Errors[5].Count != 3 || st.OtherErrors != 50 {
		t.Errorf("error 5 count %d, others %d; want 3, 50", st.Errors[5].Count, st.OtherErrors)
	}
}

func BenchmarkAdd(b *testing.B) {
	m, rs := sample()
	s := New(Options{Hist: []time.Duration{0, 10 * ms, 100 * ms}})
	for i := range rs {
		s.Add(m, &rs[i])
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := &rs[i%len(rs)]
		r.Latency += time.Microsecond
		s.Add(m, r)
	}
}

// TestErrorGroups feeds a reset storm as vegeta (or surge before error
// classes) recorded it, a distinct message per ephemeral port, with
// timeouts, 500s, a failed check and requests a local resource kept from
// going out: one group per class with its count and an example, one per
// message without a class.
func TestErrorGroups(t *testing.T) {
	s := New(Options{})
	add := func(r result.Result) { s.Add(nil, &r) }
	for i := range 600 {
		add(result.Result{Seq: uint64(i), Latency: ms, Error: fmt.Sprintf(
			`Get "http://127.0.0.1:8080/": read tcp 127.0.0.1:%d->127.0.0.1:8080: read: connection reset by peer`, 40000+i)})
		if i%100 == 0 {
			add(result.Result{Latency: time.Second, Error: "timeout"})
			add(result.Result{Latency: ms, Status: 500})
			add(result.Result{Flags: result.NotSent, Error: "local: dial tcp 127.0.0.1:8080: socket: too many open files"})
		}
	}
	add(result.Result{Latency: ms, Status: 200, Error: "me is authorized"})
	add(result.Result{Latency: ms, Error: "reset: read tcp 127.0.0.1:8080: read: connection reset by peer"})
	want := []ErrorCount{
		{`reset: Get "http://127.0.0.1:8080/": read tcp 127.0.0.1:40000->127.0.0.1:8080: read: connection reset by peer`, 601, "reset"},
		{"timeout", 6, "timeout"},
		{"500 Internal Server Error", 6, ""},
		{"local: dial tcp 127.0.0.1:8080: socket: too many open files", 6, "local"},
		{"me is authorized", 1, ""},
	}
	if diff := cmp.Diff(want, s.Total.Errors); diff != "" {
		t.Errorf("error groups (-want +got):\n%s", diff)
	}
	if s.Total.NotSentLocal != 6 || s.Total.NotSent != 6 || s.Total.OtherErrors != 0 {
		t.Errorf("not sent %d, of them for a local resource %d, other errors %d; want 6, 6, 0",
			s.Total.NotSent, s.Total.NotSentLocal, s.Total.OtherErrors)
	}
}

func TestResent(t *testing.T) {
	m := &result.Meta{ID: "run-r", Start: t0}
	s := New(Options{})
	for i, f := range []result.Flags{0, result.Resent, result.Resent | result.Warmup, result.Resent} {
		r := result.Result{Seq: uint64(i), Label: "get", Intended: time.Duration(i) * ms, Sent: time.Duration(i) * ms,
			Latency: ms, Status: 200, Flags: f}
		if i == 3 {
			r.Status, r.Error = 0, "EOF" // a resend may fail too
		}
		s.Add(m, &r)
	}
	// The warm-up result is skipped, so two resent results count.
	if got := []int64{s.Total.Requests, s.Total.Sent, s.Total.Resent, s.Label("get").Resent}; !cmp.Equal(got, []int64{3, 3, 2, 2}) {
		t.Errorf("requests, sent, resent, label resent = %v, want [3 3 2 2]", got)
	}
}

// TestClientErrorCounts: no response, cut off and timeouts count sent
// results with transport errors only, timeouts wherever they struck, never
// a status line or a failed check.
func TestClientErrorCounts(t *testing.T) {
	s := New(Options{})
	m := &result.Meta{}
	for _, r := range []result.Result{
		{Status: 0, Error: "timeout: dial tcp 127.0.0.1:8080: i/o timeout"},
		{Status: 0, Error: "reset: read tcp 127.0.0.1:8080: read: connection reset by peer"},
		{Status: 200, Error: "context deadline exceeded (Client.Timeout exceeded while reading body)"}, // before classes
		{Status: 200, Error: "eof: unexpected EOF"},
		{Status: 200, Error: "me is authorized"}, // a failed check: the response was whole
		{Status: 504},
		{Status: 0, Error: "timeout", Flags: result.NotSent},
		{Status: 200},
	} {
		s.Add(m, &r)
	}
	st := s.Total
	if st.NoResponse != 2 || st.CutOff != 2 || st.Timeouts != 2 {
		t.Errorf("no response %d, cut off %d, timeouts %d; want 2, 2, 2", st.NoResponse, st.CutOff, st.Timeouts)
	}
}
