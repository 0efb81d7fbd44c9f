package summary

import (
	"slices"
	"time"

	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/result"
)

// Defaults for Series.
const (
	DefaultWindow     = time.Second
	DefaultMaxWindows = 512
)

// Window is what happened in one time window [From, From+Width) of a run.
// Requests are placed by their intended send time (what the schedule
// offered then, and how those requests fared), completions by their end.
type Window struct {
	// By intended send time:
	Requests int64 // scheduled, sent or not
	Sent     int64
	NotSent  int64
	Failed   int64 // not OK, including not sent
	// Latency of the sent requests due in this window; nil when none.
	Latency *latency.Coarse
	// MaxSendLag is the largest send lag of the requests due in this window.
	MaxSendLag time.Duration
	// SendLag is the total send lag of the sent requests due in this
	// window: Latency's total less it is their server time.
	SendLag time.Duration

	// By completion time:
	Completed int64 // sent requests that ended in this window
	Succeeded int64 // OK requests that ended in this window: throughput

	// Busy is the total time requests spent in flight inside this window;
	// Busy / Width is the mean number in flight (Little's law: it equals
	// throughput × mean latency when the window is in steady state).
	Busy time.Duration
}

// Series is a run's history as consecutive windows. Memory is bounded: when
// a run outgrows MaxWindows windows, neighbouring windows merge pairwise and
// Width doubles, so a long run keeps its shape at a coarser grain.
type Series struct {
	// Origin is the wall-clock start of window 0.
	Origin time.Time
	// Width is the current width of every window.
	Width time.Duration
	// Windows are in time order; window i covers [Origin + i·Width,
	// Origin + (i+1)·Width).
	Windows []Window

	max    int
	set    bool
	origin int64 // Origin in Unix ns
}

// NewSeries returns an empty Series with windows of width (0 =
// DefaultWindow) and at most maxWindows of them (0 = DefaultMaxWindows).
func NewSeries(width time.Duration, maxWindows int) *Series {
	if width <= 0 {
		width = DefaultWindow
	}
	if maxWindows < 2 {
		maxWindows = DefaultMaxWindows
	}
	return &Series{Width: width, max: maxWindows}
}

// From returns the wall-clock start of window i.
func (s *Series) From(i int) time.Time { return time.Unix(0, s.origin+int64(i)*int64(s.Width)) }

// index returns the window of t (Unix ns), growing, shifting or
// coarsening the series so that it exists.
func (s *Series) index(t int64) int {
	if !s.set {
		s.origin, s.set = t-t%int64(time.Millisecond), true
		s.Origin = time.Unix(0, s.origin)
	}
	w := int64(s.Width)
	for t < s.origin {
		// A result before the origin (a shard that started earlier): shift
		// the origin back by whole windows, coarser first if need be.
		k := (s.origin - t + w - 1) / w
		if k+int64(len(s.Windows)) > int64(s.max) {
			s.coarsen()
			w = int64(s.Width)
			continue
		}
		s.Windows = append(make([]Window, k), s.Windows...)
		s.origin -= k * w
		s.Origin = time.Unix(0, s.origin)
	}
	i := int((t - s.origin) / w)
	for i >= s.max || len(s.Windows) > s.max {
		s.coarsen()
		w = int64(s.Width)
		i = int((t - s.origin) / w)
	}
	for len(s.Windows) <= i {
		s.Windows = append(s.Windows, Window{})
	}
	return i
}

// coarsen merges windows pairwise and doubles Width.
func (s *Series) coarsen() {
	s.Windows = Halve(s.Windows, (*Window).merge)
	s.Width *= 2
}

func (w *Window) merge(o *Window) {
	w.Requests += o.Requests
	w.Sent += o.Sent
	w.NotSent += o.NotSent
	w.Failed += o.Failed
	if o.Latency != nil {
		if w.Latency == nil {
			w.Latency = new(latency.Coarse)
		}
		w.Latency.Merge(o.Latency)
	}
	w.MaxSendLag = max(w.MaxSendLag, o.MaxSendLag)
	w.SendLag += o.SendLag
	w.Completed += o.Completed
	w.Succeeded += o.Succeeded
	w.Busy += o.Busy
}

// Add places r, of the run that started at start, in its windows.
func (s *Series) Add(start time.Time, r *result.Result) {
	var base int64 // a run without a start time counts from the Unix epoch
	if !start.IsZero() {
		base = start.UnixNano()
	}
	i := s.index(base + int64(r.Intended))
	w := &s.Windows[i]
	w.Requests++
	ok := r.OK()
	if !ok {
		w.Failed++
	}
	if r.Flags&result.NotSent != 0 {
		w.NotSent++
		return
	}
	w.Sent++
	if w.Latency == nil {
		w.Latency = new(latency.Coarse)
	}
	w.Latency.Record(r.Latency)
	lag := r.SendLag()
	w.MaxSendLag = max(w.MaxSendLag, lag)
	w.SendLag += lag

	sent, end := base+int64(r.Sent), base+int64(r.End())
	j := s.index(end)
	k := s.index(sent) // after index(end), which may have coarsened
	s.Windows[j].Completed++
	if ok {
		s.Windows[j].Succeeded++
	}
	width := int64(s.Width)
	for ; k <= j; k++ {
		from := s.origin + int64(k)*width
		s.Windows[k].Busy += time.Duration(min(end, from+width) - max(sent, from))
	}
}

// clone returns a deep copy of s.
func (s *Series) clone() *Series {
	c := *s
	c.Windows = slices.Clone(s.Windows)
	for i := range c.Windows {
		if l := c.Windows[i].Latency; l != nil {
			cl := *l
			c.Windows[i].Latency = &cl
		}
	}
	return &c
}
