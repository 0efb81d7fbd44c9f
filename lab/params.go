package lab

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// paramKind says how a query parameter is written and what it may hold.
type paramKind int

const (
	kindMillis   paramKind = iota // a number of milliseconds, fractions allowed
	kindDuration                  // a Go duration ("300ms", "5s") or a bare number of milliseconds
	kindCount                     // an integer
	kindRatio                     // a fraction in [0,1], kept to 6 decimals
	kindStatus                    // an HTTP status code
)

// maxMillis bounds every time parameter (1 h) so that no arithmetic on it can
// overflow a time.Duration, even multiplied by maxCount.
const (
	maxMillis = 3_600_000
	maxCount  = 1_000_000
	ppmScale  = 1_000_000 // ratios are kept as parts per million
)

// paramSpec describes one query parameter of an endpoint. def, min and max are
// in the kind's unit: milliseconds for kindMillis and kindDuration, the plain
// number otherwise.
type paramSpec struct {
	name     string
	kind     paramKind
	def      float64
	min, max float64
	doc      string
}

// expect describes what the parameter accepts, for error messages and the index.
func (p paramSpec) expect() string {
	switch p.kind {
	case kindMillis:
		return fmt.Sprintf("a number of milliseconds between %s and %s", num(p.min), num(p.max))
	case kindDuration:
		return fmt.Sprintf("a duration like 300ms or 5s (or a number of milliseconds) between %v and %v",
			msToDuration(p.min), msToDuration(p.max))
	case kindCount:
		return fmt.Sprintf("an integer between %s and %s", num(p.min), num(p.max))
	case kindRatio:
		return "a fraction between 0 and 1"
	case kindStatus:
		return fmt.Sprintf("an HTTP status code between %s and %s", num(p.min), num(p.max))
	}
	return "a value"
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// format writes v in the canonical form used in parameter-set keys and labels.
func (p paramSpec) format(v float64) string {
	switch p.kind {
	case kindDuration:
		return msToDuration(v).String()
	case kindCount, kindStatus:
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// parse reads one raw value and checks its range.
func (p paramSpec) parse(raw string) (float64, error) {
	v, ok := p.parseNumber(raw)
	if !ok || v < p.min || v > p.max {
		return 0, &ParamError{Param: p.name, Message: fmt.Sprintf("%s: expected %s, got %q", p.name, p.expect(), raw)}
	}
	return v, nil
}

func (p paramSpec) parseNumber(raw string) (float64, bool) {
	switch p.kind {
	case kindCount, kindStatus:
		n, err := strconv.ParseInt(raw, 10, 64)
		return float64(n), err == nil
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil && p.kind == kindDuration {
		d, derr := time.ParseDuration(raw)
		if derr != nil {
			return 0, false
		}
		v, err = float64(d)/float64(time.Millisecond), nil
	}
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	if p.kind == kindRatio {
		v = math.Round(v*ppmScale) / ppmScale
	}
	return v, true
}

// ParamError reports a query parameter whose value the lab cannot use. The lab
// answers it with 400 and a JSON body naming the parameter.
type ParamError struct {
	Param   string // the parameter's name, or "query" when the query string itself is malformed
	Message string // what was expected and what was given
}

func (e *ParamError) Error() string { return e.Message }

// settings holds the parsed parameters of one parameter set. Each endpoint
// reads only the fields its parameters fill.
type settings struct {
	ms, jitter, extra time.Duration
	n                 uint64
	every, pause      time.Duration // pause is the "for" parameter
	size              int
	ppm               uint64 // ratio in parts per million
	code              int
	perDay            time.Duration // /search cost per day of the range
	liveMB, allocKB   int           // /gc
	rows              int           // /lookup table size
	index             bool          // /lookup through the index
}

// parseParams parses a raw query for ep. It returns the settings and the
// canonical form of the parameter set: the endpoint's known parameters that
// differ from their defaults, normalised and sorted by name, as name=value
// joined by '&'. Unknown parameters are ignored, so cache busters and ids a
// client adds do not split one parameter set into many.
func parseParams(ep *endpoint, raw string) (settings, string, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return settings{}, "", &ParamError{Param: "query", Message: fmt.Sprintf("query: cannot parse %q: %v", raw, err)}
	}
	vals := make(map[string]float64, len(ep.params))
	var canon strings.Builder
	for _, p := range ep.params { // specs are sorted by name
		v := p.def
		if given := q[p.name]; len(given) > 0 {
			for _, g := range given[1:] {
				if g != given[0] {
					return settings{}, "", &ParamError{Param: p.name, Message: fmt.Sprintf("%s: given more than once with different values (%q, %q)", p.name, given[0], g)}
				}
			}
			if v, err = p.parse(given[0]); err != nil {
				return settings{}, "", err
			}
		}
		vals[p.name] = v
		if p.format(v) != p.format(p.def) {
			if canon.Len() > 0 {
				canon.WriteByte('&')
			}
			canon.WriteString(p.name + "=" + p.format(v))
		}
	}
	s := settings{
		ms:      msToDuration(vals["ms"]),
		jitter:  msToDuration(vals["jitter"]),
		extra:   msToDuration(vals["extra"]),
		n:       uint64(vals["n"]),
		every:   msToDuration(vals["every"]),
		pause:   msToDuration(vals["for"]),
		size:    int(vals["size"]),
		ppm:     uint64(math.Round(vals["ratio"] * ppmScale)),
		code:    int(vals["code"]),
		perDay:  msToDuration(vals["per_day"]),
		liveMB:  int(vals["live"]),
		allocKB: int(vals["alloc"]),
		rows:    int(vals["rows"]),
		index:   vals["index"] == 1,
	}
	if ep.check != nil {
		if err := ep.check(s); err != nil {
			return settings{}, "", err
		}
	}
	return s, canon.String(), nil
}

// msToDuration converts milliseconds to a duration, rounded to the nanosecond.
func msToDuration(ms float64) time.Duration {
	return time.Duration(math.Round(ms * float64(time.Millisecond)))
}

// durationToMs converts a duration to fractional milliseconds.
func durationToMs(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}
