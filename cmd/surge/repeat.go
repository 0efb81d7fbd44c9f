package main

import (
	"context"
	"fmt"
	"time"

	"github.com/surge-dev/surge/result"
	surgerun "github.com/surge-dev/surge/run"
)

// repeatOptions are -repeat and -repeat-pause: the same plan run several
// times in one go, each run a run of its own in the results file (its own
// header, one after the other), which report reads as several runs and
// compare as repeated runs of one side.
type repeatOptions struct {
	n     int
	pause time.Duration
}

func (r *repeatOptions) register(fs interface {
	IntVar(*int, string, int, string)
	DurationVar(*time.Duration, string, time.Duration, string)
}) {
	fs.IntVar(&r.n, "repeat", 1, "record `N` runs of the same plan, one after the other, each a run of its own in the results file (for compare with repeated runs)")
	fs.DurationVar(&r.pause, "repeat-pause", 0, "wait this long between repeated runs")
}

func (r *repeatOptions) check() error {
	if r.n < 1 {
		return usagef("-repeat %d: expected 1 or more runs", r.n)
	}
	if r.pause < 0 {
		return usagef("-repeat-pause %v: expected 0 or a positive duration", r.pause)
	}
	return nil
}

// repeats is what repeated runs did.
type repeats struct {
	runs    int           // runs started, the last one perhaps cut short
	done    int64         // results recorded, in all runs
	elapsed time.Duration // of the runs, pauses left out
}

// inRuns says " in N runs" (" in N of M runs" when cut short) for
// repeated runs, nothing for one.
func (rs repeats) inRuns(n int) string {
	switch {
	case n <= 1:
		return ""
	case rs.runs < n:
		return fmt.Sprintf(" in %d of %d runs", rs.runs, n)
	}
	return fmt.Sprintf(" in %d runs", n)
}

// do runs once for runs 1 to r.n, pausing r.pause between them, with a
// header of its own for each (newMeta's, marked "run i of n" when there
// are several). It stops after the run in progress when ctx ends: every
// finished run and the interrupted one are kept.
func (r repeatOptions) do(ctx context.Context, newMeta func() *result.Meta, once func(*result.Meta) (surgerun.Outcome, error)) (repeats, error) {
	var rs repeats
	for i := 1; i <= r.n; i++ {
		if i > 1 && r.pause > 0 {
			t := time.NewTimer(r.pause)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		if ctx.Err() != nil {
			break
		}
		m := newMeta()
		if r.n > 1 {
			if m.Attrs == nil {
				m.Attrs = map[string]string{}
			}
			m.Attrs["repeat"] = fmt.Sprintf("%d of %d", i, r.n)
		}
		o, err := once(m)
		rs.runs++
		rs.done += o.Done
		rs.elapsed += o.Elapsed
		if err != nil {
			return rs, err
		}
	}
	return rs, nil
}
