package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ParseHistSpec parses a vegeta histogram report type, "hist[0,10ms,50ms]",
// into its bucket bounds: durations, at least one, non-negative and strictly
// ascending.
func ParseHistSpec(spec string) ([]time.Duration, error) {
	const want = "want hist[d1,d2,...] with ascending durations, e.g. hist[0,10ms,50ms,100ms]"
	rest, ok := strings.CutPrefix(strings.TrimSpace(spec), "hist")
	if !ok || len(rest) < 2 || rest[0] != '[' || rest[len(rest)-1] != ']' {
		return nil, fmt.Errorf("histogram spec %q: %s", spec, want)
	}
	ds, err := parseDurations(rest[1 : len(rest)-1])
	if err != nil {
		return nil, fmt.Errorf("histogram spec %q: %w; %s", spec, err, want)
	}
	if ds[0] < 0 {
		return nil, fmt.Errorf("histogram spec %q: bucket %v is negative; %s", spec, ds[0], want)
	}
	return ds, nil
}

// ParseBounds parses distribution bounds, "800ms,1200ms": positive,
// strictly ascending durations.
func ParseBounds(s string) ([]time.Duration, error) {
	const want = "want ascending positive durations separated by commas, e.g. 800ms,1200ms"
	ds, err := parseDurations(s)
	if err != nil {
		return nil, fmt.Errorf("bounds %q: %w; %s", s, err, want)
	}
	if ds[0] <= 0 {
		return nil, fmt.Errorf("bounds %q: bound %v is not positive; %s", s, ds[0], want)
	}
	return ds, nil
}

// parseDurations parses a comma-separated list of one or more strictly
// ascending durations.
func parseDurations(s string) ([]time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("the list is empty")
	}
	var ds []time.Duration
	for i, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		d, err := time.ParseDuration(f)
		if err != nil {
			return nil, fmt.Errorf("item %d, %q, is not a duration", i+1, f)
		}
		if i > 0 && d <= ds[i-1] {
			return nil, fmt.Errorf("%v does not come after %v", d, ds[i-1])
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// ParsePercentiles parses a list of percentiles in percent, "50,90,99,99.9",
// into quantiles q in [0,1], sorted ascending without duplicates.
func ParsePercentiles(s string) ([]float64, error) {
	const want = "want percents in [0,100] separated by commas, e.g. 50,90,99,99.9"
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("percentiles %q: the list is empty; %s", s, want)
	}
	var qs []float64
	for i, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		p, err := strconv.ParseFloat(f, 64)
		if err != nil || math.IsNaN(p) || p < 0 || p > 100 {
			return nil, fmt.Errorf("percentiles %q: item %d, %q, is not a percent in [0,100]; %s", s, i+1, f, want)
		}
		// Parsing "99.9e-2" gives the float nearest to 0.999, which
		// 99.9/100 is not; inputs with their own exponent fall back.
		q, err := strconv.ParseFloat(f+"e-2", 64)
		if err != nil {
			q = p / 100
		}
		qs = append(qs, q)
	}
	slices.Sort(qs)
	return slices.Compact(qs), nil
}

// percentLabel formats quantile q as a percent: 0.999 → "99.9".
func percentLabel(q float64) string {
	// Rounding to 6 decimals of a percent hides float noise such as
	// 0.999*100 = 99.89999999999999.
	return strconv.FormatFloat(math.Round(q*1e8)/1e6, 'f', -1, 64)
}
