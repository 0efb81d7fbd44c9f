package schedule

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Models of a Profile.
const (
	// ModelClosed runs a number of virtual users, each starting its next
	// iteration when the previous one (and its think time) is done.
	ModelClosed = "closed"
	// ModelOpen starts iterations at a rate, whether or not earlier ones
	// have finished; latency is measured from each iteration's intended time.
	ModelOpen = "open"
)

// Profile is a load profile: after Delay, the Stages in order. A closed-model
// stage sets the number of users; an open-model stage sets the iteration
// rate. Either may ramp linearly from its From to its To value.
type Profile struct {
	Model             string        // ModelOpen or ModelClosed
	Delay             time.Duration // wait before the first stage
	Stages            []Stage       // at least one; only the last may have Duration 0 (unbounded)
	Iterations        uint64        // total iterations of the run; 0 means no limit
	IterationsPerUser uint64        // closed model: iterations per user; 0 means no limit
	MaxUsers          int           // open model: cap on concurrent iterations; 0 means the engine's default
}

// Stage is one step of a Profile: how long it lasts and the users or rate
// it runs, constant or ramping linearly from its From to its To value.
type Stage struct {
	Name      string
	Duration  time.Duration // 0 only for the last stage: until the iteration limit is reached
	Warmup    bool          // results of this stage are excluded from the report
	FromRate  float64       // open model: iterations per second at the stage's start
	ToRate    float64       // open model: iterations per second at its end
	FromUsers int           // closed model: users at the start
	ToUsers   int           // closed model: users at the end
}

// count returns the expected number of open-model iterations in a bounded
// stage: the integral of its rate.
func (st *Stage) count() float64 {
	return (st.FromRate + st.ToRate) / 2 * st.Duration.Seconds()
}

// solve returns the offset in seconds into the stage at which m iterations
// have been due, for a rate ramping linearly from FromRate to ToRate:
// the root of r0·t + (r1−r0)·t²/(2D) = m. It uses the form
// 2m / (r0 + √(r0² + 4am)), which, unlike the schoolbook formula, stays
// exact when the ramp is nearly flat.
func (st *Stage) solve(m float64) float64 {
	r0, r1, d := st.FromRate, st.ToRate, st.Duration.Seconds()
	if m <= 0 {
		return 0
	}
	if r0 == r1 || d == 0 {
		return m / r0
	}
	a := (r1 - r0) / (2 * d)
	den := r0 + math.Sqrt(max(0, r0*r0+4*a*m))
	if den <= 0 {
		return d
	}
	return 2 * m / den
}

// seconds converts seconds to a Duration, rounded to the nanosecond.
func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// At returns the intended start of open-model iteration seq (from 0),
// measured from the start of the run and including Delay, and false when
// the profile has no such iteration: after the last stage, beyond
// Iterations, or for a closed model. The offsets are exact for constant and
// linearly ramping rates: iteration n starts when the integrated rate
// reaches n, so a ramp from 10 to 20/s over 10s holds exactly 150.
func (l *Profile) At(seq uint64) (time.Duration, bool) {
	if l.Model != ModelOpen || (l.Iterations > 0 && seq >= l.Iterations) {
		return 0, false
	}
	n := float64(seq)
	start := l.Delay
	for i := range l.Stages {
		st := &l.Stages[i]
		if st.Duration == 0 { // unbounded last stage, constant rate
			if st.FromRate <= 0 {
				return 0, false
			}
			return start + seconds(n/st.FromRate), true
		}
		c := st.count()
		if n < c {
			return start + min(seconds(st.solve(n)), st.Duration), true
		}
		n -= c
		start += st.Duration
	}
	return 0, false
}

// PeakRate returns the highest rate of an open-model profile, in
// iterations per second (0 for a closed model).
func (l *Profile) PeakRate() float64 {
	var peak float64
	if l.Model == ModelOpen {
		for _, st := range l.Stages {
			peak = max(peak, st.FromRate, st.ToRate)
		}
	}
	return peak
}

// UsersAt returns how many closed-model users should be active t after the
// start of the run: 0 during Delay and after the last stage (and for an
// open model). A ramp is a staircase that steps to the next whole number of
// users when the straight line from FromUsers to ToUsers reaches it, so
// 1..5 over 10s adds a user every 2.5s and 5..1 over 30s drops one every
// 7.5s, reaching the To value at the stage's end.
func (l *Profile) UsersAt(t time.Duration) int {
	if l.Model != ModelClosed {
		return 0
	}
	i, st := l.StageAt(t)
	if st == nil {
		return 0
	}
	if st.Duration == 0 || st.FromUsers == st.ToUsers {
		return st.FromUsers
	}
	into := t - l.stageStart(i)
	diff := float64(st.ToUsers - st.FromUsers)
	return st.FromUsers + int(math.Trunc(diff*float64(into)/float64(st.Duration)))
}

// stageStart returns the offset at which stage i starts.
func (l *Profile) stageStart(i int) time.Duration {
	start := l.Delay
	for j := 0; j < i; j++ {
		start += l.Stages[j].Duration
	}
	return start
}

// StageAt returns the stage that t (from the start of the run) falls in and
// its index, or -1 and nil during Delay and after the last stage. A stage
// holds [start, start+Duration); an unbounded last stage holds every t after
// its start.
func (l *Profile) StageAt(t time.Duration) (int, *Stage) {
	if t < l.Delay {
		return -1, nil
	}
	start := l.Delay
	for i := range l.Stages {
		st := &l.Stages[i]
		if st.Duration == 0 || t < start+st.Duration {
			return i, st
		}
		start += st.Duration
	}
	return -1, nil
}

// Total returns the length of the profile, Delay included. An unbounded
// last stage (Duration 0) adds nothing: that run ends with its iteration
// limit.
func (l *Profile) Total() time.Duration { return l.stageStart(len(l.Stages)) }

// Bounded reports whether every stage has a duration, so the run ends at
// Total at the latest.
func (l *Profile) Bounded() bool {
	return len(l.Stages) > 0 && l.Stages[len(l.Stages)-1].Duration > 0
}

// Describe returns a human summary of the profile, one line per stage with
// its time span, users or rate, and expected iteration count, as printed by
// a dry run.
func (l *Profile) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s model, %d stage(s)", l.Model, len(l.Stages))
	if l.Bounded() {
		fmt.Fprintf(&b, ", %s in total", l.Total())
	}
	if l.Delay > 0 {
		fmt.Fprintf(&b, " (starting after a %s delay)", l.Delay)
	}
	if l.Iterations > 0 {
		fmt.Fprintf(&b, ", at most %d iterations", l.Iterations)
	}
	if l.IterationsPerUser > 0 {
		fmt.Fprintf(&b, ", at most %d iterations per user", l.IterationsPerUser)
	}
	if l.MaxUsers > 0 {
		fmt.Fprintf(&b, ", at most %d concurrent iterations", l.MaxUsers)
	}
	b.WriteString("\n")
	start := l.Delay
	var due float64 // open model: iterations due before this stage
	for i := range l.Stages {
		st := &l.Stages[i]
		name := st.Name
		if name == "" {
			name = "stage " + strconv.Itoa(i+1)
		}
		span := fmt.Sprintf("%s–%s", start, start+st.Duration)
		if st.Duration == 0 {
			span = fmt.Sprintf("%s–end", start)
		}
		fmt.Fprintf(&b, "  %d. %-12s %-14s ", i+1, name, span)
		if l.Model == ModelOpen {
			b.WriteString(rangeText(formatRate(st.FromRate), formatRate(st.ToRate)))
			if st.Duration > 0 {
				n := uint64(math.Ceil(due+st.count())) - uint64(math.Ceil(due))
				if l.Iterations > 0 {
					n = min(n, l.Iterations-min(l.Iterations, uint64(math.Ceil(due))))
				}
				fmt.Fprintf(&b, ", %d iterations", n)
				due += st.count()
			} else {
				b.WriteString(", until the iteration limit")
			}
		} else {
			b.WriteString(rangeText(strconv.Itoa(st.FromUsers), strconv.Itoa(st.ToUsers)))
			if st.FromUsers == 1 && st.ToUsers == 1 {
				b.WriteString(" user")
			} else {
				b.WriteString(" users")
			}
			if st.Duration > 0 {
				us := float64(st.FromUsers+st.ToUsers) / 2 * st.Duration.Seconds()
				fmt.Fprintf(&b, ", ~%.0f user·s (iterations depend on response time)", us)
			} else {
				b.WriteString(", until the iteration limit")
			}
		}
		if st.Warmup {
			b.WriteString(", warm-up: not in the report")
		}
		b.WriteString("\n")
		start += st.Duration
	}
	return b.String()
}

// rangeText returns "a" or "a→b".
func rangeText(a, b string) string {
	if a == b {
		return a
	}
	return a + "→" + b
}

// formatRate formats iterations per second.
func formatRate(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) + "/s" }
