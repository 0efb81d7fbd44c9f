package scenario

import (
	"math"
	"time"
)

// Constant reports whether every rendering of r is the same: its URL,
// headers and body hold no template actions. An engine may then build the
// request once and reuse it.
func (r *Request) Constant() bool {
	if !r.url.isConst() || !r.body.isConst() {
		return false
	}
	for _, h := range r.headers {
		if !h.val.isConst() {
			return false
		}
	}
	return true
}

// all returns the mix or the steps, whichever the scenario has.
func (s *Scenario) all() []*Request {
	if s.Steps != nil {
		return s.Steps
	}
	return s.Requests
}

// Scale multiplies every duration of the load profile (delay, stages) and
// every think time by f > 0, for a shorter (f < 1) rehearsal of a long
// scenario. Rates, users and iteration limits are unchanged, so an
// open-model stage scaled by f holds f times as many iterations.
func (s *Scenario) Scale(f float64) {
	if f <= 0 || f == 1 {
		return
	}
	mul := func(d time.Duration) time.Duration { return time.Duration(math.Round(float64(d) * f)) }
	s.Load.Delay = mul(s.Load.Delay)
	for i := range s.Load.Stages {
		s.Load.Stages[i].Duration = mul(s.Load.Stages[i].Duration)
	}
	for _, r := range s.all() {
		r.ThinkMin, r.ThinkMax = mul(r.ThinkMin), mul(r.ThinkMax)
	}
}
