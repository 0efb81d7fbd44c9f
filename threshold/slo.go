package threshold

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SLO is a service-level objective: thresholds that must all hold, each an
// upper bound, written joined by commas: "p99<500ms,errors<1%".
type SLO []Threshold

// ErrSLO is wrapped by every ParseSLO error.
var ErrSLO = errors.New("invalid SLO")

// ParseSLO parses a comma-separated list of objectives, each a threshold
// (see ParseThreshold) with the operator < or <= (both read as "below": an
// objective is a strict bound, as it always was): "p99<500ms,errors<1%".
// Commas inside a label filter do not separate objectives, and empty
// objectives are skipped. A percentile is in (0,100) and a bound is
// positive.
func ParseSLO(s string) (SLO, error) {
	var slo SLO
	for _, term := range splitTerms(s) {
		term = strings.TrimSpace(term)
		if term == "" {
			continue
		}
		t, err := ParseThreshold(term)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSLO, err)
		}
		if err := t.objective(); err != nil {
			return nil, fmt.Errorf("%w: %q: %w", ErrSLO, term, err)
		}
		slo = append(slo, t)
	}
	if len(slo) == 0 {
		return nil, fmt.Errorf("%w: empty; expected e.g. p99<500ms,errors<1%%", ErrSLO)
	}
	return slo, nil
}

// splitTerms splits s at the commas outside braces.
func splitTerms(s string) []string {
	var terms []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth = max(0, depth-1)
		case ',':
			if depth == 0 {
				terms = append(terms, s[start:i])
				start = i + 1
			}
		}
	}
	return append(terms, s[start:])
}

// objective checks that t bounds its metric from above and reads "<=" as
// "<".
func (t *Threshold) objective() error {
	switch t.Op {
	case "<", "<=":
		t.Op = "<"
	default:
		return fmt.Errorf("expected NAME<LIMIT, e.g. p99<500ms or errors<1%%, not %s", t.Op)
	}
	switch {
	case t.Metric == MetricQuantile && !(t.Quantile > 0 && t.Quantile < 1):
		return errors.New("expected a percentile like p50, p99 or p99.9")
	case t.IsLatency() && t.Duration() <= 0:
		return errors.New("expected a positive duration like 500ms")
	case t.Metric == MetricErrorRate && t.Value <= 0:
		return errors.New("expected an error rate in (0%, 100%], like 1% or 0.01")
	}
	return nil
}

// ObjectiveString writes an objective of an SLO canonically, like
// p99<500ms or errors<1%: the metric as written (Name), its filter, "<"
// and the bound.
func (t Threshold) ObjectiveString() string {
	switch {
	case t.Metric == MetricErrorRate:
		return "errors" + t.filterString() + "<" + strconv.FormatFloat(t.Value*100, 'f', -1, 64) + "%"
	case t.IsLatency():
		return t.Name() + t.filterString() + "<" + t.Duration().String()
	case t.Metric == MetricRPS:
		return t.Name() + t.filterString() + "<" + strconv.FormatFloat(t.Value, 'f', -1, 64) + "/s"
	}
	return t.Name() + t.filterString() + "<" + strconv.FormatFloat(t.Value, 'f', -1, 64)
}

// String writes the SLO canonically, its objectives joined by commas.
func (s SLO) String() string {
	parts := make([]string, len(s))
	for i, t := range s {
		parts[i] = t.ObjectiveString()
	}
	return strings.Join(parts, ",")
}

// MaxLatency returns the largest latency bound of s, 0 without one.
func (s SLO) MaxLatency() time.Duration {
	var d time.Duration
	for _, t := range s {
		if t.IsLatency() {
			d = max(d, t.Duration())
		}
	}
	return d
}
