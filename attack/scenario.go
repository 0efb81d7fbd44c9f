package attack

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/surge-dev/surge/scenario"
	"github.com/surge-dev/surge/target"
)

// ScenarioConfig returns the engine configuration that runs scenario s:
// its requests as a Flow whose VUs are seeded with seed, its load profile
// as an open-model Pacer (Connections = load.max_users) or a closed-model
// Users staircase, its stages, its length as Duration when every stage has
// one, and its timeout. The caller adds the client options and Marker.
func ScenarioConfig(s *scenario.Scenario, seed uint64) Config {
	p := &s.Load
	cfg := Config{Flow: &scenarioFlow{s: s, seed: seed}, Timeout: s.Timeout, Stages: ProfileStages(p)}
	if p.Model == scenario.ModelOpen {
		cfg.Pacer = p
		cfg.Connections = p.MaxUsers
	} else {
		cfg.Users = ProfileUsers(p)
	}
	if p.Bounded() {
		cfg.Duration = p.Total()
	}
	return cfg
}

var _ Pacer = (*scenario.Profile)(nil)

// ProfileStages returns the stages of p for Config.Stages, named as in the
// file ("stage N" when unnamed), with their rate or users as attributes:
// {"rate": "20/s"} or {"rate": "1/s..20/s"}, {"users": "5"} or
// {"users": "1..5"}.
func ProfileStages(p *scenario.Profile) []Stage {
	var out []Stage
	start := p.Delay
	for i, st := range p.Stages {
		name := st.Name
		if name == "" {
			name = "stage " + strconv.Itoa(i+1)
		}
		attrs := map[string]string{}
		if p.Model == scenario.ModelOpen {
			attrs["rate"] = span(perSecond(st.FromRate), perSecond(st.ToRate))
		} else {
			attrs["users"] = span(strconv.Itoa(st.FromUsers), strconv.Itoa(st.ToUsers))
		}
		out = append(out, Stage{Name: name, Start: start, Duration: st.Duration, Warmup: st.Warmup, Attrs: attrs})
		start += st.Duration
	}
	return out
}

func perSecond(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) + "/s" }

func span(a, b string) string {
	if a == b {
		return a
	}
	return a + ".." + b
}

// ProfileUsers returns the closed-model staircase of p for Config.Users:
// a step wherever p.UsersAt changes (stage starts, and each whole user of
// a ramp), ending with 0 users at p.Total() when every stage has a
// duration.
func ProfileUsers(p *scenario.Profile) []UserStep {
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

// scenarioFlow adapts a scenario to a Flow.
type scenarioFlow struct {
	s    *scenario.Scenario
	seed uint64
}

func (f *scenarioFlow) NewVU(id int) VU {
	return &scenarioVU{vu: f.s.NewVU(id, f.seed), perUser: f.s.Load.IterationsPerUser,
		ts: map[*scenario.Request]*target.Target{}}
}

func (f *scenarioFlow) Label(seq uint64) string {
	if f.s.Steps != nil {
		return f.s.Steps[0].Name
	}
	total := 0
	for _, r := range f.s.Requests {
		total += r.Weight
	}
	if total == 0 {
		return f.s.Requests[0].Name
	}
	x := int(seq % uint64(total))
	for _, r := range f.s.Requests {
		if x < r.Weight {
			return r.Name
		}
		x -= r.Weight
	}
	return f.s.Requests[0].Name
}

// scenarioVU adapts a scenario.VU to a VU.
type scenarioVU struct {
	vu      *scenario.VU
	perUser uint64 // load.iterations_per_user
	iters   uint64 // iterations begun
	plan    []*scenario.Request
	next    int
	cur     *scenario.Request
	pending error // a var that failed in Begin, reported by the first Next
	// ts holds one target per request, so a constant request is rendered
	// into the same *Target every time and clients can cache it.
	ts map[*scenario.Request]*target.Target
}

func (v *scenarioVU) Begin() error {
	v.plan, v.next, v.pending = nil, 0, nil
	err := v.vu.Begin()
	switch {
	case errors.Is(err, scenario.ErrIterationsDone):
		if v.perUser > 0 && v.iters >= v.perUser {
			return ErrVUDone
		}
		return fmt.Errorf("%w: %w (load.iterations): no new iteration starts", ErrRunDone, err)
	case errors.Is(err, scenario.ErrFeederExhausted):
		return fmt.Errorf("%w: %w: no new iteration starts", ErrRunDone, err)
	case err != nil:
		v.pending = err
	}
	v.iters++
	v.plan = v.vu.Plan()
	return nil
}

func (v *scenarioVU) Next() (*target.Target, Step, error) {
	if v.next >= len(v.plan) {
		return nil, Step{}, nil
	}
	r := v.plan[v.next]
	v.next++
	v.cur = r
	st := Step{Label: r.Name, Capture: r.NeedsResponse(), Rendered: !r.Constant()}
	t := v.ts[r]
	if t == nil {
		t = new(target.Target)
		v.ts[r] = t
	}
	if v.pending != nil {
		v.next = len(v.plan)
		return t, st, v.pending
	}
	return t, st, v.vu.Render(r, t)
}

func (v *scenarioVU) Check(resp *Response) (string, time.Duration) {
	failed := v.vu.Check(v.cur, &scenario.Response{Status: resp.Status, Header: resp.Header, Body: resp.Body, Latency: resp.Latency})
	return failed, v.vu.Think(v.cur)
}
