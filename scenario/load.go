package scenario

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/surge-dev/surge/schedule"

	"go.yaml.in/yaml/v3"
)

var (
	loadFields  = []string{"model", "delay", "stages", "users", "rate", "duration", "iterations", "iterations_per_user", "max_users"}
	stageFields = []string{"name", "duration", "users", "rate", "warmup"}
)

// load decodes the load section. Without one, the scenario runs one
// iteration with one user.
func (p *parser) load(n *yaml.Node) (schedule.Profile, error) {
	d := p.d
	if n == nil {
		return schedule.Profile{Model: schedule.ModelClosed, Stages: []schedule.Stage{{FromUsers: 1, ToUsers: 1}}, Iterations: 1}, nil
	}
	var l schedule.Profile
	m, err := d.mapping(n, "load", loadFields...)
	if err != nil {
		return l, err
	}
	if err := p.loadLimits(m, &l); err != nil {
		return l, err
	}
	nodes, paths, err := p.stageNodes(n, m)
	if err != nil {
		return l, err
	}
	kinds := make([]string, len(nodes)) // "rate" or "users" per stage
	for i, sn := range nodes {
		sm := m // the one-stage shorthand: the stage's fields are load's
		if paths[i] != "load" {
			if sm, err = d.mapping(sn, paths[i], stageFields...); err != nil {
				return l, err
			}
		}
		st, kind, err := p.stage(sm, paths[i])
		if err != nil {
			return l, err
		}
		if kind == "" {
			return l, d.errorf(sn, paths[i], "missing: expected %s", stageWants(l.Model))
		}
		kinds[i] = kind
		l.Stages = append(l.Stages, st)
	}
	if len(l.Stages) == 0 {
		return l, d.errorf(n, "load.stages", "expected at least one stage")
	}
	if l.Model == "" {
		l.Model = schedule.ModelClosed
		if kinds[0] == "rate" {
			l.Model = schedule.ModelOpen
		}
	}
	return l, p.checkLoad(&l, nodes, paths, kinds, m)
}

// loadLimits decodes the fields of the load section that are not stages:
// model, delay, iterations, iterations_per_user and max_users.
func (p *parser) loadLimits(m mapping, l *schedule.Profile) error {
	d := p.d
	var err error
	if v := m.get("model"); v != nil {
		if l.Model, err = d.str(v, "load.model"); err != nil {
			return err
		}
		if l.Model != schedule.ModelOpen && l.Model != schedule.ModelClosed {
			return d.errorf(v, "load.model", "expected open or closed, got %q", l.Model)
		}
	}
	if v := m.get("delay"); v != nil {
		if l.Delay, err = d.duration(v, "load.delay"); err != nil {
			return err
		}
	}
	if v := m.get("iterations"); v != nil {
		if l.Iterations, err = d.integer(v, "load.iterations"); err != nil {
			return err
		}
	}
	if v := m.get("iterations_per_user"); v != nil {
		if l.IterationsPerUser, err = d.integer(v, "load.iterations_per_user"); err != nil {
			return err
		}
	}
	if v := m.get("max_users"); v != nil {
		u, err := d.integer(v, "load.max_users")
		if err != nil {
			return err
		}
		if u > 1_000_000 {
			return d.errorf(v, "load.max_users", "expected at most 1000000, got %d", u)
		}
		l.MaxUsers = int(u)
	}
	return nil
}

// stageNodes returns the stage nodes of the load section n, and their
// paths for errors: the items of stages, or n itself for the one-stage
// shorthand users/rate + duration, path "load".
func (p *parser) stageNodes(n *yaml.Node, m mapping) ([]*yaml.Node, []string, error) {
	d := p.d
	sv := m.get("stages")
	if sv == nil {
		return []*yaml.Node{n}, []string{"load"}, nil
	}
	for _, k := range []string{"users", "rate", "duration"} {
		if v := m.get(k); v != nil {
			return nil, nil, d.errorf(v, "load."+k, "give stages, or %s at the top of load, not both", k)
		}
	}
	items, err := d.list(sv, "load.stages")
	if err != nil {
		return nil, nil, err
	}
	paths := make([]string, len(items))
	for i := range items {
		paths[i] = fmt.Sprintf("load.stages[%d]", i)
	}
	return items, paths, nil
}

// stage decodes the stage at path from its fields sm, and returns which of
// users or rate it sets ("" for neither).
func (p *parser) stage(sm mapping, path string) (st schedule.Stage, kind string, err error) {
	d := p.d
	for _, f := range sm.fields {
		switch f.key.Value {
		case "name":
			st.Name, err = d.str(f.value, f.path)
		case "duration":
			st.Duration, err = d.duration(f.value, f.path)
		case "warmup":
			st.Warmup, err = d.boolean(f.value, f.path)
		case "users", "rate":
			if kind != "" {
				return st, kind, d.errorf(f.key, path, "give users (closed model) or rate (open model), not both")
			}
			kind = f.key.Value
			err = p.stageLoad(f, &st)
		}
		if err != nil {
			return st, kind, err
		}
	}
	return st, kind, nil
}

// stageLoad decodes a stage's users or rate field f into st.
func (p *parser) stageLoad(f field, st *schedule.Stage) error {
	d := p.d
	s, err := d.str(f.value, f.path)
	if err != nil {
		return err
	}
	if f.key.Value == "users" {
		st.FromUsers, st.ToUsers, err = parseUsers(s)
	} else {
		st.FromRate, st.ToRate, err = parseRateRange(s)
	}
	if err != nil {
		return d.errorf(f.value, f.path, "%v", err)
	}
	return nil
}

// stageWants says what a stage of model must set, for the error of a
// stage that sets neither users nor rate.
func stageWants(model string) string {
	switch model {
	case schedule.ModelOpen:
		return "rate (like 20/1s or 10/1s..50/1s)"
	case schedule.ModelClosed:
		return "users (like 5 or 1..5)"
	}
	return "users (like 5 or 1..5) or rate (like 20/1s or 10/1s..50/1s)"
}

// checkLoad validates a decoded profile as a whole.
func (p *parser) checkLoad(l *schedule.Profile, nodes []*yaml.Node, paths, kinds []string, m mapping) error {
	d := p.d
	want := "users"
	if l.Model == schedule.ModelOpen {
		want = "rate"
	}
	active := false
	for i, st := range l.Stages {
		field := paths[i] + "." + kinds[i]
		if kinds[i] != want {
			return d.errorf(nodes[i], field, "the model is %s, so stages set %s, not %s", l.Model, want, kinds[i])
		}
		if st.Duration == 0 {
			switch {
			case i != len(l.Stages)-1:
				return d.errorf(nodes[i], paths[i]+".duration", "missing: only the last stage may run without a duration")
			case l.Iterations == 0 && l.IterationsPerUser == 0:
				return d.errorf(nodes[i], paths[i]+".duration", "missing: without a duration the run needs iterations or iterations_per_user to end")
			case st.FromUsers != st.ToUsers || st.FromRate != st.ToRate:
				return d.errorf(nodes[i], field, "a ramp needs a duration")
			}
		}
		if st.ToUsers > 0 || st.FromUsers > 0 || st.FromRate > 0 || st.ToRate > 0 {
			active = true
		}
	}
	if !active {
		return d.errorf(m.node, "load", "every stage has 0 %s: nothing would run", want)
	}
	if l.Model == schedule.ModelOpen && l.IterationsPerUser > 0 {
		return d.errorf(m.get("iterations_per_user"), "load.iterations_per_user", "applies to the closed model only; use iterations")
	}
	if l.Model == schedule.ModelClosed && l.MaxUsers > 0 {
		return d.errorf(m.get("max_users"), "load.max_users", "applies to the open model only; the closed model runs the users of its stages")
	}
	return nil
}

// parseRate parses a stage's rate in the grammar of schedule.ParseRate and
// returns it in iterations per second. Its error drops ParseRate's
// leading "rate", which the field's path (load.rate) already says:
// `load.rate: "fast/1s": expected …`, as the CLI says `-rate "fast": …`.
func parseRate(s string) (float64, error) {
	r, err := schedule.ParseRate(s)
	if err != nil {
		if why := errors.Unwrap(err); why != nil {
			return 0, fmt.Errorf("%q: %w", strings.TrimSpace(s), why)
		}
		return 0, err
	}
	return r.PerSecond(), nil
}

// parseRateRange parses "RATE" or "RATE..RATE".
func parseRateRange(s string) (from, to float64, err error) {
	a, b, ramp := strings.Cut(s, "..")
	if from, err = parseRate(a); err != nil {
		return 0, 0, err
	}
	if !ramp {
		return from, from, nil
	}
	to, err = parseRate(b)
	return from, to, err
}

// parseUsers parses "N" or "N..M", whole numbers of users.
func parseUsers(s string) (from, to int, err error) {
	a, b, ramp := strings.Cut(s, "..")
	if !ramp {
		b = a
	}
	from, err1 := strconv.Atoi(strings.TrimSpace(a))
	to, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || from < 0 || to < 0 || from > 1_000_000 || to > 1_000_000 {
		return 0, 0, fmt.Errorf("expected users as N or FROM..TO, whole numbers like 5 or 1..5, got %q", s)
	}
	return from, to, nil
}
