package scenario

import (
	"errors"
	"fmt"
	"time"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/target"
)

// EngineConfig returns the engine configuration that runs s: its requests
// as an attack.Flow whose VUs are seeded with seed, its load profile as
// the open-model Pacer (Connections = load.max_users) or the closed-model
// Users staircase, its stages as the run's phases, its length as Duration
// when every stage has one, and its timeout. The caller adds the client
// options and Marker.
func (s *Scenario) EngineConfig(seed uint64) attack.Config {
	p := &s.Load
	cfg := attack.Config{Flow: &flow{s: s, seed: seed}, Timeout: s.Timeout, Stages: p.Phases()}
	if p.Model == schedule.ModelOpen {
		cfg.Pacer = p
		cfg.Connections = p.MaxUsers
	} else {
		cfg.Users = p.UserSteps()
	}
	if p.Bounded() {
		cfg.Duration = p.Total()
	}
	return cfg
}

// flow adapts a scenario to an attack.Flow.
type flow struct {
	s    *Scenario
	seed uint64
}

func (f *flow) NewVU(id int) attack.VU {
	return &flowVU{vu: f.s.NewVU(id, f.seed), perUser: f.s.Load.IterationsPerUser, total: f.s.Load.Iterations, from: f.s.IterationsFrom,
		ts: map[*Request]*target.Target{}}
}

func (f *flow) Label(seq uint64) string {
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

// flowVU adapts a VU to an attack.VU.
type flowVU struct {
	vu      *VU
	perUser uint64 // load.iterations_per_user
	iters   uint64 // iterations begun
	total   uint64 // the run's iteration limit (Load.Iterations)
	from    string // what set it (Scenario.IterationsFrom)
	plan    []*Request
	next    int
	cur     *Request
	pending error // a var that failed in Begin, reported by the first Next
	// ts holds one target per request, so a constant request is rendered
	// into the same *Target every time and clients can cache it.
	ts map[*Request]*target.Target
}

func (v *flowVU) Begin() error {
	v.plan, v.next, v.pending = nil, 0, nil
	err := v.vu.Begin()
	switch {
	case errors.Is(err, ErrIterationsDone):
		if v.perUser > 0 && v.iters >= v.perUser {
			return attack.ErrVUDone
		}
		from := v.from
		if from == "" {
			from = "load.iterations"
		}
		return fmt.Errorf("%w: %w: %d iterations done (%s): no new iteration starts", attack.ErrRunDone, attack.ErrCountDone, v.total, from)
	case errors.Is(err, ErrFeederExhausted):
		return fmt.Errorf("%w: %w: no new iteration starts", attack.ErrRunDone, err)
	case err != nil:
		v.pending = err
	}
	v.iters++
	v.plan = v.vu.Plan()
	return nil
}

func (v *flowVU) Next() (*target.Target, attack.Step, error) {
	if v.next >= len(v.plan) {
		return nil, attack.Step{}, nil
	}
	r := v.plan[v.next]
	v.next++
	v.cur = r
	st := attack.Step{Label: r.Name, Capture: r.NeedsResponse(), Rendered: !r.Constant()}
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

func (v *flowVU) Check(resp *attack.Response) (string, time.Duration) {
	failed := v.vu.Check(v.cur, &Response{Status: resp.Status, Header: resp.Header, Body: resp.Body, Latency: resp.Latency})
	return failed, v.vu.Think(v.cur)
}

var (
	_ attack.Flow = (*flow)(nil)
	_ attack.VU   = (*flowVU)(nil)
)
