package threshold

import (
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// Verdict is the outcome of one threshold.
type Verdict struct {
	Threshold Threshold
	// Pass says whether the threshold held; it is false when Err is set.
	Pass bool
	// Value is the measured value, in the unit of the threshold's metric.
	Value float64
	// Err says why the threshold could not be evaluated (no data).
	Err error
}

// Measured formats the measured value in the threshold's unit ("412ms"),
// or says why there is none.
func (v Verdict) Measured() string {
	if v.Err != nil {
		return "no data: " + v.Err.Error()
	}
	return v.Threshold.FormatValue(v.Value)
}

// Check evaluates every threshold of ths on the values get measures.
func Check(ths []Threshold, get Measure) []Verdict {
	vs := make([]Verdict, len(ths))
	for i, th := range ths {
		pass, v, err := th.Eval(get)
		vs[i] = Verdict{Threshold: th, Pass: pass && err == nil, Value: v, Err: err}
	}
	return vs
}

// Failed counts the verdicts that did not pass.
func Failed(vs []Verdict) int {
	n := 0
	for _, v := range vs {
		if !v.Pass {
			n++
		}
	}
	return n
}

// MeasureSummary returns the Measure of sm: every request, or with the
// filter {name:X} (or {label:X}) those of label X; any other filter has no
// data. checks holds the names of the checks (see Checks), whose errors
// check_failures counts.
func MeasureSummary(sm *summary.Summary, checks map[string]bool) Measure {
	return func(metric string, q float64, filter map[string]string) (float64, bool) {
		st := sm.Total
		for k, v := range filter {
			if k != "name" && k != "label" {
				return 0, false
			}
			if st = sm.Label(v); st == nil {
				return 0, false
			}
		}
		return StatsValue(st, metric, q, checks)
	}
}

// StatsValue measures one metric on st, in the units of the Metric
// constants: latencies of the requests with a latency, the error rate and
// the request count of all, rps as the sent requests over the time from
// the first send to the last completion, and check_failures as the
// failures whose error is the name of a check in checks.
func StatsValue(st *summary.Stats, metric string, q float64, checks map[string]bool) (float64, bool) {
	lat := st.Latency
	hasLat := lat != nil && lat.Count() > 0
	switch metric {
	case MetricQuantile:
		return lat.Quantile(q).Seconds(), hasLat
	case MetricMean:
		return lat.Mean().Seconds(), hasLat
	case MetricMin:
		return lat.Min().Seconds(), hasLat
	case MetricMax:
		return lat.Max().Seconds(), hasLat
	case MetricErrorRate:
		if st.Requests == 0 {
			return 0, false
		}
		return float64(st.Failed()) / float64(st.Requests), true
	case MetricRPS:
		span := st.End.Sub(st.Earliest)
		if span <= 0 {
			return 0, st.Sent > 0
		}
		return float64(st.Sent) / span.Seconds(), true
	case MetricCheckFailures:
		var n int64
		for _, ec := range st.Errors {
			if checks[ec.Error] {
				n += ec.Count
			}
		}
		return float64(n), true
	case MetricRequests:
		return float64(st.Requests), true
	}
	return 0, false
}

// Checks returns the set of check names of runs (from their headers; see
// result.Meta.CheckNames) and of extra, the names check_failures counts.
func Checks(runs []result.Meta, extra ...string) map[string]bool {
	names := map[string]bool{}
	for i := range runs {
		for _, n := range runs[i].CheckNames() {
			names[n] = true
		}
	}
	for _, n := range extra {
		if n != "" {
			names[n] = true
		}
	}
	return names
}
