package threshold

// The SLO parser of analyze before the grammars merged (analyze/slo.go),
// kept verbatim as the oracle of FuzzParseSLOLegacy: every SLO it accepted
// must still parse, to the same objectives.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// legacyObjective is one term of an SLO: a latency percentile (or the mean or
// max) below a duration, or the error rate below a ratio.
type legacyObjective struct {
	// Metric is "p99", "p99.9", "mean", "max" or "errors".
	Metric string
	// Q is the quantile of a percentile objective, q in [0,1].
	Q float64
	// Latency bounds latency objectives; Errors, in [0,1], the error rate.
	Latency time.Duration
	Errors  float64
}

func (o legacyObjective) String() string {
	if o.Metric == "errors" {
		return "errors<" + strconv.FormatFloat(o.Errors*100, 'f', -1, 64) + "%"
	}
	return o.Metric + "<" + o.Latency.String()
}

// legacySLO is a set of objectives that must all hold.
type legacySLO []legacyObjective

func (s legacySLO) String() string {
	parts := make([]string, len(s))
	for i, o := range s {
		parts[i] = o.String()
	}
	return strings.Join(parts, ",")
}

// errLegacySLO is wrapped by every ParseSLO error.
var errLegacySLO = errors.New("invalid SLO")

// legacyParseSLO parses a comma-separated list of objectives, each NAME<LIMIT
// (or <=, same meaning at histogram resolution): p50, p99, p99.9 (any
// percentile in (0,100)), mean or max below a Go duration, or errors below
// a percentage or a ratio: "p99<500ms,errors<1%".
func legacyParseSLO(s string) (legacySLO, error) {
	var slo legacySLO
	for _, term := range strings.Split(s, ",") {
		term = strings.TrimSpace(term)
		if term == "" {
			continue
		}
		name, limit, ok := strings.Cut(term, "<")
		if !ok {
			return nil, fmt.Errorf("%w: %q: expected NAME<LIMIT, e.g. p99<500ms or errors<1%%", errLegacySLO, term)
		}
		limit = strings.TrimSpace(strings.TrimPrefix(limit, "="))
		name = strings.ToLower(strings.TrimSpace(name))
		o := legacyObjective{Metric: name}
		switch {
		case name == "errors" || name == "error":
			o.Metric = "errors"
			v, pct := strings.CutSuffix(limit, "%")
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if pct {
				f /= 100
			}
			if err != nil || !(f > 0 && f <= 1) {
				return nil, fmt.Errorf("%w: %q: expected an error rate in (0%%, 100%%], like 1%% or 0.01", errLegacySLO, term)
			}
			o.Errors = f
		case name == "mean" || name == "max" || strings.HasPrefix(name, "p"):
			if name != "mean" && name != "max" {
				p, err := strconv.ParseFloat(name[1:], 64)
				if err != nil || !(p > 0 && p < 100) {
					return nil, fmt.Errorf("%w: %q: expected a percentile like p50, p99 or p99.9", errLegacySLO, term)
				}
				o.Q = p / 100
			}
			d, err := time.ParseDuration(limit)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("%w: %q: expected a positive duration like 500ms", errLegacySLO, term)
			}
			o.Latency = d
		default:
			return nil, fmt.Errorf("%w: %q: unknown figure %q (expected pNN, mean, max or errors)", errLegacySLO, term, name)
		}
		slo = append(slo, o)
	}
	if len(slo) == 0 {
		return nil, fmt.Errorf("%w: empty; expected e.g. p99<500ms,errors<1%%", errLegacySLO)
	}
	return slo, nil
}

// MaxLatency returns the largest latency bound of s, 0 without one.
func (s legacySLO) MaxLatency() time.Duration {
	var d time.Duration
	for _, o := range s {
		d = max(d, o.Latency)
	}
	return d
}
