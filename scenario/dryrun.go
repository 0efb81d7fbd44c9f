package scenario

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/surge-dev/surge/target"
)

// DryRun writes the resolved plan to w: the profile's stages with their
// expected iteration counts, the feeders, vars and thresholds, and one
// rendered example of every request. Values that only a response would
// give (extractions) are shown as <extract NAME>. It uses a VU with id 0
// and the scenario's seed, then calls Reset, so a run that follows starts
// from the first iteration and row. Secrets are redacted as in a results
// file: URL passwords, secret query parameters and the values of secret
// headers (see target.RedactURL and target.Redact).
func (s *Scenario) DryRun(w io.Writer) error {
	defer s.Reset()
	ew := &errWriter{w: w}
	ew.printf("scenario %s (%s)\n", s.Name, s.File)
	if s.BaseURL != "" {
		ew.printf("base URL %s\n", target.RedactURL(s.BaseURL))
	}
	if s.Timeout > 0 {
		ew.printf("timeout  %s\n", s.Timeout)
	}
	ew.printf("\nload: %s", s.Load.Describe())
	for _, f := range s.Feeders {
		ew.printf("\nfeeder %s: %s, %d rows, strategy %s, columns %s", f.Name, f.File, f.Len(), f.Strategy, strings.Join(f.Columns, ", "))
	}
	if len(s.Feeders) > 0 {
		ew.printf("\n")
	}
	if len(s.Vars) > 0 {
		ew.printf("\nvars (evaluated at the start of every iteration):\n")
	}
	for _, v := range s.Vars {
		ew.printf("  %s: %s\n", v.Name, v.Template)
	}
	if len(s.Thresholds) > 0 {
		ew.printf("\nthresholds:\n")
	}
	for _, t := range s.Thresholds {
		ew.printf("  %s\n", t)
	}

	vu := s.NewVU(0, s.Seed)
	if err := vu.Begin(); err != nil && !errors.Is(err, ErrIterationsDone) {
		return fmt.Errorf("dry run: %w", err)
	}
	reqs, kind := s.Steps, "steps (every iteration runs them in order)"
	if s.Steps == nil {
		reqs, kind = s.Requests, "requests (every iteration runs one, chosen by weight)"
	}
	ew.printf("\n%s:\n", kind)
	total := 0
	for _, r := range s.Requests {
		total += r.Weight
	}
	var t target.Target
	for i, r := range reqs {
		ew.printf("\n  %d. %s", i+1, r.Name)
		if s.Steps == nil {
			ew.printf(" (weight %d, %.0f%%)", r.Weight, 100*float64(r.Weight)/float64(total))
		}
		ew.printf("\n")
		for _, name := range s.extracted {
			if _, ok := vu.data[name]; !ok {
				vu.data[name] = "<extract " + name + ">"
			}
		}
		if err := vu.Render(r, &t); err != nil {
			ew.printf("     cannot render: %v\n", err)
			continue
		}
		ew.printf("     %s %s\n", t.Method, target.RedactURL(t.URL))
		hdr := target.Redact(t.Header)
		keys := make([]string, 0, len(hdr))
		for k := range hdr {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ew.printf("     %s: %s\n", k, strings.Join(hdr[k], ", "))
		}
		if len(t.Body) > 0 {
			ew.printf("     body: %s\n", strings.ReplaceAll(string(t.Body), "\n", "\n           "))
		}
		for _, c := range r.Checks {
			ew.printf("     check %s\n", c.Name)
		}
		for _, e := range r.Extract {
			ew.printf("     extract %s from %s %s\n", e.Var, e.Kind, e.Expr)
		}
		if r.ThinkMax > 0 {
			ew.printf("     think %s\n", rangeText(r.ThinkMin.String(), r.ThinkMax.String()))
		}
	}
	return ew.err
}

// errWriter keeps the first write error, so a report can print freely and
// check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// rangeText returns "a" or "a→b".
func rangeText(a, b string) string {
	if a == b {
		return a
	}
	return a + "→" + b
}
