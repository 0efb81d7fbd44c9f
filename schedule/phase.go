package schedule

import (
	"strconv"
	"time"
)

// Phase is a named stretch of a run's timeline, as the engine marks it: it
// writes a result.MarkStage marker when the phase starts (and, for a
// warm-up phase, a result.MarkWarmup marker then and a result.MarkWarmupEnd
// marker when it ends).
type Phase struct {
	Name  string
	Start time.Duration // offset from the run's start
	// Duration is the phase's length; 0 means until the end of the run.
	Duration time.Duration
	// Warmup flags the results intended during the phase result.Warmup, so
	// reports leave them out by default.
	Warmup bool
	// Attrs are written in the phase's marker, e.g. {"rate": "20/s"} or
	// {"users": "1..5"}.
	Attrs map[string]string
}

// UserStep is a step of a closed-model staircase: from At on, Users
// virtual users run, until the next step.
type UserStep struct {
	At    time.Duration
	Users int
}

// Phases returns the stages of p as the engine marks them, named as in the
// profile ("stage N" when unnamed), with their rate or users as
// attributes: {"rate": "20/s"} or {"rate": "1/s..20/s"}, {"users": "5"} or
// {"users": "1..5"}.
func (p *Profile) Phases() []Phase {
	var out []Phase
	start := p.Delay
	for i, st := range p.Stages {
		name := st.Name
		if name == "" {
			name = "stage " + strconv.Itoa(i+1)
		}
		attrs := map[string]string{}
		if p.Model == ModelOpen {
			attrs["rate"] = span(formatRate(st.FromRate), formatRate(st.ToRate))
		} else {
			attrs["users"] = span(strconv.Itoa(st.FromUsers), strconv.Itoa(st.ToUsers))
		}
		out = append(out, Phase{Name: name, Start: start, Duration: st.Duration, Warmup: st.Warmup, Attrs: attrs})
		start += st.Duration
	}
	return out
}

func span(a, b string) string {
	if a == b {
		return a
	}
	return a + ".." + b
}

// UserSteps returns the closed-model staircase of p: a step wherever
// p.UsersAt changes (stage starts, and each whole user of a ramp), ending
// with 0 users at p.Total() when every stage has a duration.
func (p *Profile) UserSteps() []UserStep {
	var out []UserStep
	add := func(at time.Duration) {
		n := p.UsersAt(at)
		if len(out) == 0 || out[len(out)-1].Users != n {
			out = append(out, UserStep{At: at, Users: n})
		}
	}
	add(0)
	start := p.Delay
	for _, st := range p.Stages {
		add(start)
		diff := int64(st.ToUsers - st.FromUsers)
		if diff < 0 {
			diff = -diff
		}
		d := int64(st.Duration)
		for k := int64(1); k < diff && d > 0; k++ {
			// The staircase steps when diff·into/D reaches k: at
			// into = ⌈k·D/diff⌉, nudged past any rounding of UsersAt.
			into := (k*d + diff - 1) / diff
			prev := p.UsersAt(start + time.Duration(into) - 1)
			at := start + time.Duration(into)
			for n := 0; n < 1000 && p.UsersAt(at) == prev && at < start+st.Duration; n++ {
				at++
			}
			add(at)
		}
		start += st.Duration
	}
	if p.Bounded() {
		add(start)
	}
	return out
}

// End returns the offset at which ph ends, or -1 for an open end.
func (ph *Phase) End() time.Duration {
	if ph.Duration <= 0 {
		return -1
	}
	return ph.Start + ph.Duration
}
