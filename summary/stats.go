package summary

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/result"
)

// Stats are the statistics of a set of results: one label, or all of them.
type Stats struct {
	// Label is the results' label; empty for Summary.Total.
	Label string

	// Requests counts every result; Requests = Sent + NotSent.
	Requests int64
	// Sent counts results that went out.
	Sent int64
	// NotSent counts results flagged result.NotSent: due, never sent.
	NotSent int64
	// Success counts results for which result.Result.OK holds.
	Success int64
	// Late counts sent results whose send lag exceeds Options.LateAfter.
	Late int64
	// Resent counts results flagged result.Resent: requests the client
	// sent a second time after a reused connection failed before the
	// response, so the server may have received Sent + Resent requests.
	Resent int64

	// Latency holds the latency of every sent result, success or failure,
	// as vegeta does; not-sent results have none and are left out.
	Latency *latency.Histogram
	// SendLag holds the send lag (Sent − Intended) of every sent result.
	SendLag *latency.Histogram

	// BytesIn and BytesOut sum the body bytes of every result.
	BytesIn, BytesOut int64

	// StatusCodes counts results by HTTP status; 0 means no response
	// (including not-sent results), so the counts sum to Requests.
	StatusCodes map[int]int64

	// Errors are the groups of error strings with their counts, in
	// first-seen order (vegeta's Error Set order), at most MaxErrors: one
	// group per error class (result.ClassOf), whatever the messages of
	// its results, and one per distinct message without a class (a status
	// line, a failed check).
	Errors []ErrorCount
	// OtherErrors counts results whose error was not kept because
	// MaxErrors groups had been seen already.
	OtherErrors int64
	// NotSentLocal counts the not-sent results whose error is of class
	// result.ClassLocal: a local resource of the generator (descriptors,
	// ports) kept them from going out.
	NotSentLocal int64
	// NotSentSilent counts the not-sent results without an error: due
	// while the generator was behind, or when the run stopped, and never
	// sent.
	NotSentSilent int64

	// Earliest and Latest are the first and last actual send times and End
	// the latest completion (Intended + Latency), on the wall clock, over
	// sent results. They are zero when nothing was sent.
	Earliest, Latest, End time.Time

	// Buckets is the Gatling-style distribution over Options.Bounds b:
	// Buckets[0] counts successful results with t < b[0], Buckets[i]
	// those with b[i-1] <= t < b[i], Buckets[len(b)] those with
	// t >= b[len(b)-1], and Buckets[len(b)+1] the failed ones (not OK,
	// including not sent), which are counted only there. The counts sum to
	// Requests.
	Buckets []int64

	// Hist counts sent results by latency over Options.Hist h: Hist[0]
	// those below h[0], Hist[i] those with h[i-1] <= t < h[i], and
	// Hist[len(h)] those with t >= h[len(h)-1]. Nil when Options.Hist is
	// empty.
	Hist []int64

	// Series is the results' history in time windows.
	Series *Series

	// NoResponse counts sent results that got no HTTP status (connection
	// refused or reset, DNS, TLS, a timeout before the status line).
	// CutOff counts sent results that got a status but then failed with a
	// transport error (an error of a result.ErrorClasses class): a
	// response cut off, e.g. by a reset or a timeout while reading the
	// body. Both failed in the client; Timeouts counts those of either
	// whose error is of class result.ClassTimeout, so Timeouts <=
	// NoResponse + CutOff.
	NoResponse, CutOff, Timeouts int64

	errIndex   map[string]int // message → index in Errors, a cache
	classIndex map[string]int // error class → index in Errors

	// Sequence is the latency of the sent results in request order, for
	// the analyses that count in requests (the cold phase). (After the
	// fields Stats.add uses on every result, which stay together.)
	Sequence *Sequence
}

// ErrorCount is a group of errors: a class's, or one message's when it has
// no class.
type ErrorCount struct {
	// Error is the group's message, or for a class the first message of
	// that class seen, as an example; it starts with the class.
	Error string
	// Count is the number of results in the group.
	Count int64
	// Class is the group's error class, "" for a message without one.
	Class string
}

func (s *Summary) newStats(label string) *Stats {
	st := &Stats{
		Label:       label,
		Latency:     latency.New(),
		SendLag:     latency.New(),
		StatusCodes: map[int]int64{},
		Buckets:     make([]int64, len(s.opts.Bounds)+2),
		errIndex:    map[string]int{},
		classIndex:  map[string]int{},
		Series:      NewSeries(s.opts.Window, s.opts.MaxWindows),
		Sequence:    NewSequence(s.opts.SeqBuckets),
	}
	if len(s.opts.Hist) > 0 {
		st.Hist = make([]int64, len(s.opts.Hist)+1)
	}
	return st
}

func (st *Stats) add(start time.Time, r *result.Result, o *Options) {
	st.Series.Add(start, r)
	st.Requests++
	st.BytesIn += r.BytesIn
	st.BytesOut += r.BytesOut
	st.StatusCodes[int(r.Status)]++
	class := "" // of r.Error: a transport failure when not ""
	if r.Error != "" {
		if class = st.addError(r.Error); class == result.ClassLocal && r.Flags&result.NotSent != 0 {
			st.NotSentLocal++
		}
	} else if r.Status != 0 && (r.Status < 200 || r.Status >= 400) {
		// vegeta lists a failing status in the error set as the status
		// line, e.g. "500 Internal Server Error"; so do we.
		st.addError(statusLine(r.Status))
	}
	ok := r.OK()
	if ok {
		st.Success++
		st.Buckets[bucket(o.Bounds, r.Latency)]++
	} else {
		st.Buckets[len(st.Buckets)-1]++
		// Counted here, off the path of successes.
		if r.Flags&result.NotSent == 0 {
			switch {
			case r.Status == 0:
				st.NoResponse++
			case class != "":
				st.CutOff++
			}
			if class == result.ClassTimeout {
				st.Timeouts++
			}
		}
	}
	if r.Flags&result.NotSent != 0 {
		st.NotSent++
		if r.Error == "" {
			st.NotSentSilent++
		}
		return
	}

	st.Sent++
	if r.Flags&result.Resent != 0 {
		st.Resent++
	}
	st.Latency.Record(r.Latency)
	st.Sequence.Add(r)
	lag := r.SendLag()
	st.SendLag.Record(lag)
	if lag > o.LateAfter {
		st.Late++
	}
	if st.Hist != nil {
		st.Hist[bucket(o.Hist, r.Latency)]++
	}

	// Compared by count, not IsZero: a run without a header starts at the
	// zero time.
	sent, end := start.Add(r.Sent), start.Add(r.End())
	if st.Sent == 1 || sent.Before(st.Earliest) {
		st.Earliest = sent
	}
	if st.Sent == 1 || sent.After(st.Latest) {
		st.Latest = sent
	}
	if st.Sent == 1 || end.After(st.End) {
		st.End = end
	}
}

// maxErrIndex bounds the cache of messages already grouped: a file written
// before error classes may hold a distinct message per request.
const maxErrIndex = 4 * MaxErrors

// addError counts error e in its group and returns its class.
func (st *Stats) addError(e string) string {
	if i, ok := st.errIndex[e]; ok {
		st.Errors[i].Count++
		return st.Errors[i].Class
	}
	class := result.ClassOf(e)
	i, ok := st.classIndex[class]
	if !ok || class == "" {
		if len(st.Errors) >= MaxErrors {
			st.OtherErrors++
			return class
		}
		i = len(st.Errors)
		st.Errors = append(st.Errors, ErrorCount{Error: result.ClassError(class, e), Class: class})
		if class != "" {
			st.classIndex[class] = i
		}
	}
	st.Errors[i].Count++
	if len(st.errIndex) < maxErrIndex {
		st.errIndex[e] = i
	}
	return class
}

// Failed returns the number of results that did not succeed, Requests −
// Success.
func (st *Stats) Failed() int64 { return st.Requests - st.Success }

// Duration returns the attack duration, Latest − Earliest (vegeta's
// "attack").
func (st *Stats) Duration() time.Duration { return st.Latest.Sub(st.Earliest) }

// Wait returns the time spent waiting for the last responses after the last
// send, End − Latest.
func (st *Stats) Wait() time.Duration { return st.End.Sub(st.Latest) }

// Rate returns the achieved send rate in requests per second, Sent /
// Duration, or 0 when Duration is 0.
func (st *Stats) Rate() float64 {
	if d := st.Duration(); d > 0 {
		return float64(st.Sent) / d.Seconds()
	}
	return 0
}

// Throughput returns the successful requests per second, Success /
// (Duration + Wait) as vegeta computes it, or 0 when that span is 0.
func (st *Stats) Throughput() float64 {
	if d := st.Duration() + st.Wait(); d > 0 {
		return float64(st.Success) / d.Seconds()
	}
	return 0
}

// SuccessRatio returns Success / Requests in [0,1], or 0 without requests.
func (st *Stats) SuccessRatio() float64 {
	if st.Requests == 0 {
		return 0
	}
	return float64(st.Success) / float64(st.Requests)
}

// statusLines caches "code text" strings so failing statuses cost no
// allocation per result.
var statusLines sync.Map // uint16 → string

func statusLine(code uint16) string {
	if s, ok := statusLines.Load(code); ok {
		return s.(string)
	}
	s := strconv.Itoa(int(code))
	if t := http.StatusText(int(code)); t != "" {
		s += " " + t
	}
	statusLines.Store(code, s)
	return s
}

// clone returns a deep copy of st under another label.
func (st *Stats) clone(label string) *Stats {
	c := *st
	c.Label = label
	c.Latency, c.SendLag = st.Latency.Clone(), st.SendLag.Clone()
	c.StatusCodes = maps.Clone(st.StatusCodes)
	c.Errors = slices.Clone(st.Errors)
	c.errIndex = maps.Clone(st.errIndex)
	c.classIndex = maps.Clone(st.classIndex)
	c.Buckets, c.Hist = slices.Clone(st.Buckets), slices.Clone(st.Hist)
	c.Series = st.Series.clone()
	c.Sequence = st.Sequence.clone()
	return &c
}
