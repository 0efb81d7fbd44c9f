package scenario

import (
	"fmt"
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

// SetBaseURL points the scenario at another base URL, as if base_url had
// been written so: relative request URLs are joined to u from now on. It
// returns an error, changing nothing, when u is not an absolute http(s) URL.
func (s *Scenario) SetBaseURL(u string) error {
	old := s.BaseURL
	s.BaseURL = u
	if _, err := s.absoluteURL(u); err != nil {
		s.BaseURL = old
		return fmt.Errorf("base URL: %w", err)
	}
	abs := make([]string, len(s.all()))
	for i, r := range s.all() {
		if !r.url.isConst() {
			continue
		}
		a, err := s.absoluteURL(r.URL)
		if err != nil {
			s.BaseURL = old
			return fmt.Errorf("%s: %w", r.Name, err)
		}
		abs[i] = a
	}
	for i, r := range s.all() {
		if r.url.isConst() {
			r.abs = abs[i]
		}
	}
	return nil
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
