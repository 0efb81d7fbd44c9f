// Package threshold is surge's one grammar of pass/fail criteria on a run
// and their evaluation: the thresholds of a scenario, of 'surge report
// -thresholds' and of 'surge run', and the SLO of 'surge capacity' (a
// comma-joined list of the same expressions). A Threshold is evaluated on
// whatever measures its metric: a summary.Summary (MeasureSummary) or, for a
// capacity trial, the trial's own figures.
package threshold

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Metric names a Threshold can test. Latencies are in seconds, rates are
// fractions in [0,1], throughput is per second, and counts are plain numbers.
const (
	MetricQuantile      = "quantile"       // latency quantile q in [0,1] (p50, p99.9, p(95), med), seconds
	MetricMean          = "mean"           // mean latency (also avg), seconds
	MetricMin           = "min"            // smallest latency, seconds
	MetricMax           = "max"            // largest latency, seconds
	MetricErrorRate     = "error_rate"     // failed requests / all requests, in [0,1]
	MetricRPS           = "rps"            // completed requests per second
	MetricCheckFailures = "check_failures" // number of failed checks (also checks_failed)
	MetricRequests      = "requests"       // number of requests
)

// Threshold is a pass/fail criterion on a run, written like
//
//	p99 < 500ms
//	p95{name:search} < 300ms
//	error_rate < 1%
//
// Whoever holds the run's numbers evaluates it with Eval.
type Threshold struct {
	Expr     string            // the text as written
	Line     int               // line in the file it was read from (scenario or thresholds file); 0 otherwise
	Metric   string            // one of the Metric constants
	Quantile float64           // q in [0,1] when Metric is MetricQuantile
	Filter   map[string]string // label filter like {"name": "search"}; nil means every request
	Op       string            // <, <=, >, >=, == or !=
	Value    float64           // bound, in the metric's unit (see the Metric constants)
}

// metricAliases maps the names users write to canonical metrics.
var metricAliases = map[string]string{
	"mean": MetricMean, "avg": MetricMean, "min": MetricMin, "max": MetricMax,
	"error_rate": MetricErrorRate, "errors": MetricErrorRate, "error": MetricErrorRate,
	"rps": MetricRPS, "throughput": MetricRPS,
	"check_failures": MetricCheckFailures, "checks_failed": MetricCheckFailures,
	"requests": MetricRequests, "count": MetricRequests,
}

// thresholdOps lists the operators, two-character ones first so that "<="
// is not read as "<".
var thresholdOps = []string{"<=", ">=", "==", "!=", "<", ">"}

// ParseThreshold parses "METRIC[{label:value,...}] OP VALUE".
//
// METRIC is pN (a latency quantile, N in [0,100], e.g. p50, p99.9; also
// written p(99)), med, mean or avg, min, max, error_rate (also errors or
// error), rps, check_failures or checks_failed, or requests. OP is <, <=, >, >=, == or
// !=. Latency bounds need a unit (ns, µs or us, ms, s, m); error_rate takes
// a percentage ("1%") or a fraction ("0.01"); rps takes a number, optionally
// followed by "/s"; counts take a whole number.
func ParseThreshold(s string) (Threshold, error) {
	t := Threshold{Expr: s}
	rest := strings.TrimSpace(s)
	i := strings.IndexAny(rest, "{<>=! \t")
	if i < 0 {
		return t, fmt.Errorf("threshold %q: expected METRIC OP VALUE, like p99 < 500ms", s)
	}
	name := rest[:i]
	rest = strings.TrimSpace(rest[i:])
	if err := t.setMetric(name); err != nil {
		return t, fmt.Errorf("threshold %q: %w", s, err)
	}
	if strings.HasPrefix(rest, "{") {
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return t, fmt.Errorf("threshold %q: expected } after the label filter", s)
		}
		f, err := parseFilter(rest[1:end])
		if err != nil {
			return t, fmt.Errorf("threshold %q: %w", s, err)
		}
		t.Filter = f
		rest = strings.TrimSpace(rest[end+1:])
	}
	for _, op := range thresholdOps {
		if strings.HasPrefix(rest, op) {
			t.Op = op
			rest = strings.TrimSpace(rest[len(op):])
			break
		}
	}
	if t.Op == "" {
		return t, fmt.Errorf("threshold %q: expected an operator (<, <=, >, >=, ==, !=) after %s", s, name)
	}
	v, err := parseBound(t.Metric, rest)
	if err != nil {
		return t, fmt.Errorf("threshold %q: %w", s, err)
	}
	t.Value = v
	return t, nil
}

// setMetric sets Metric (and Quantile) from the name a user wrote.
func (t *Threshold) setMetric(name string) error {
	lower := strings.ToLower(name)
	if m, ok := metricAliases[lower]; ok {
		t.Metric = m
		return nil
	}
	if lower == "med" {
		t.Metric, t.Quantile = MetricQuantile, 0.5
		return nil
	}
	if strings.HasPrefix(lower, "p") {
		num := strings.TrimPrefix(lower, "p")
		if strings.HasPrefix(num, "(") && strings.HasSuffix(num, ")") {
			num = num[1 : len(num)-1]
		}
		// Any number strconv reads is taken, as the SLO grammar always did
		// (p9.9e1); a negative zero is not a percentile.
		q, err := strconv.ParseFloat(num, 64)
		if err == nil && q >= 0 && q <= 100 && !math.Signbit(q) {
			t.Metric, t.Quantile = MetricQuantile, q/100
			return nil
		}
	}
	if name == "" {
		return errors.New("expected a metric before the operator")
	}
	return fmt.Errorf("unknown metric %q: expected pN (like p99), med, mean, min, max, error_rate, rps, check_failures or requests", name)
}

// parseFilter parses "name:search,status:200".
func parseFilter(s string) (map[string]string, error) {
	f := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, ":")
		k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"'`)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("label filter {%s}: expected {label:value,...}, like {name:search}", s)
		}
		if _, dup := f[k]; dup {
			return nil, fmt.Errorf("label filter {%s}: label %q given twice", s, k)
		}
		f[k] = v
	}
	return f, nil
}

// IsLatency reports whether the threshold's metric is a latency, measured
// in seconds.
func (t Threshold) IsLatency() bool { return isLatency(t.Metric) }

// Duration returns the bound of a latency threshold as a duration.
func (t Threshold) Duration() time.Duration { return seconds(t.Value) }

// seconds converts seconds to a duration, to the nanosecond.
func seconds(v float64) time.Duration { return time.Duration(math.Round(v * 1e9)) }

// Name returns the metric as written, lower case and without its filter
// ("p99", "avg"), or in canonical form when the threshold was built by
// hand.
func (t Threshold) Name() string {
	rest := strings.TrimSpace(t.Expr)
	if i := strings.IndexAny(rest, "{<>=! \t"); i > 0 {
		return strings.ToLower(rest[:i])
	}
	return t.canonicalName()
}

// canonicalName returns the metric's canonical name, like p99 or mean.
func (t Threshold) canonicalName() string {
	if t.Metric == MetricQuantile {
		return "p" + strconv.FormatFloat(t.Quantile*100, 'f', -1, 64)
	}
	return t.Metric
}

// isLatency reports whether metric is measured in seconds.
func isLatency(metric string) bool {
	switch metric {
	case MetricQuantile, MetricMean, MetricMin, MetricMax:
		return true
	}
	return false
}

// parseBound parses the value of a threshold into the metric's unit.
func parseBound(metric, s string) (float64, error) {
	if s == "" {
		return 0, errors.New("expected a value after the operator")
	}
	switch {
	case isLatency(metric):
		if s == "0" {
			return 0, nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("expected a latency with a unit, like 500ms or 1.5s, got %q", s)
		}
		return d.Seconds(), nil
	case metric == MetricErrorRate:
		pct := strings.HasSuffix(s, "%")
		v, err := parseNumber(strings.TrimSpace(strings.TrimSuffix(s, "%")))
		if pct {
			v /= 100
		}
		if err != nil || v < 0 || v > 1 {
			return 0, fmt.Errorf("expected a rate like 1%% or 0.01 (between 0 and 100%%), got %q", s)
		}
		return v, nil
	case metric == MetricRPS:
		v, err := parseNumber(strings.TrimSpace(strings.TrimSuffix(s, "/s")))
		if err != nil || v < 0 {
			return 0, fmt.Errorf("expected requests per second like 100 or 100/s, got %q", s)
		}
		return v, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("expected a whole number, got %q", s)
	}
	return float64(v), nil
}

// parseNumber parses a finite number in any form strconv reads (the SLO
// grammar always took them all, "errors<1e-2" included).
func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("expected a number, got %q", s)
	}
	return v, nil
}

// Measure returns a metric's measured value, in the units of the Metric
// constants (q is the quantile in [0,1] for MetricQuantile and 0 otherwise;
// filter is Threshold.Filter), and false when there is no data for it.
type Measure func(metric string, q float64, filter map[string]string) (float64, bool)

// Eval evaluates the threshold on the values get measures; a metric get
// has no data for is an error.
func (t Threshold) Eval(get Measure) (pass bool, measured float64, err error) {
	v, ok := get(t.Metric, t.Quantile, t.Filter)
	if !ok {
		return false, 0, fmt.Errorf("threshold %q: no data for %s", t.Expr, t.metricString())
	}
	return compare(v, t.Op, t.Value), v, nil
}

// compare reports whether "v op bound" holds.
func compare(v float64, op string, bound float64) bool {
	switch op {
	case "<":
		return v < bound
	case "<=":
		return v <= bound
	case ">":
		return v > bound
	case ">=":
		return v >= bound
	case "==":
		return v == bound
	case "!=":
		return v != bound
	}
	return false
}

// metricString writes the metric and filter canonically, like p99{name:a}.
func (t Threshold) metricString() string {
	return t.canonicalName() + t.filterString()
}

// filterString writes the filter canonically, like {name:a}, or "".
func (t Threshold) filterString() string {
	if len(t.Filter) == 0 {
		return ""
	}
	keys := make([]string, 0, len(t.Filter))
	for k := range t.Filter {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + ":" + t.Filter[k]
	}
	return "{" + strings.Join(keys, ",") + "}"
}

// FormatValue formats v, a value of the threshold's metric, in its unit:
// "412ms", "0.35%", "120.5/s" or "3".
func (t Threshold) FormatValue(v float64) string {
	switch {
	case isLatency(t.Metric):
		return formatSeconds(v)
	case t.Metric == MetricErrorRate:
		return strconv.FormatFloat(v*100, 'g', 4, 64) + "%"
	case t.Metric == MetricRPS:
		return strconv.FormatFloat(v, 'f', 1, 64) + "/s"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// formatSeconds formats seconds as a Go duration rounded to 4 significant
// digits or 1µs.
func formatSeconds(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e9 {
		return strconv.FormatFloat(v, 'g', -1, 64) + "s"
	}
	d := time.Duration(math.Round(v * 1e9))
	switch a := d.Abs(); {
	case a >= 10*time.Second:
		d = d.Round(10 * time.Millisecond)
	case a >= time.Second:
		d = d.Round(time.Millisecond)
	case a >= 10*time.Millisecond:
		d = d.Round(10 * time.Microsecond)
	case a >= time.Millisecond:
		d = d.Round(time.Microsecond)
	}
	return d.String()
}

// String returns the threshold as written, or in canonical form when it
// was built by hand.
func (t Threshold) String() string {
	if t.Expr != "" {
		return t.Expr
	}
	return t.metricString() + " " + t.Op + " " + t.FormatValue(t.Value)
}
