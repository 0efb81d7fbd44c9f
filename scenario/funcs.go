package scenario

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// dateLayout is the format of dates that template functions take and give.
const dateLayout = "2006-01-02"

// funcs holds what the template functions of one virtual user need: its
// RNG, its id, the current iteration's sequence number and the clock.
type funcs struct {
	rng   *rand.Rand
	id    int
	seq   uint64
	clock func() time.Time
}

// funcMap returns the template functions bound to f. Templates are parsed
// with the functions of a throw-away funcs and every VU rebinds them to its
// own with Template.Funcs on its clone.
func (f *funcs) funcMap() template.FuncMap {
	return template.FuncMap{
		"seq":        func() uint64 { return f.seq },
		"vu":         func() int { return f.id },
		"uuid":       f.uuid,
		"randInt":    f.randInt,
		"randChoice": f.randChoice,
		"randDate":   f.randDate,
		"randString": f.randString,
		"monthStart": f.monthStart,
		"monthEnd":   f.monthEnd,
		"today":      func() string { return f.clock().Format(dateLayout) },
		"now":        f.now,
		"env":        env,
	}
}

// uuid returns a random (version 4) UUID drawn from the VU's RNG, so runs
// with a fixed seed send the same UUIDs.
func (f *funcs) uuid() string {
	var b [16]byte
	hi, lo := f.rng.Uint64(), f.rng.Uint64()
	for i := 0; i < 8; i++ {
		b[i], b[8+i] = byte(hi>>(56-8*i)), byte(lo>>(56-8*i))
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	const hex = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hex[c>>4], hex[c&0xf]
		j += 2
	}
	return string(out[:])
}

// toInt converts a template argument (a number literal, or a string from a
// var, a feeder or an extraction) to an int.
func toInt(v any) (int, error) {
	switch v := v.(type) {
	case int:
		return v, nil
	case int64:
		return int(v), nil
	case uint64:
		return int(v), nil
	case float64:
		if v == float64(int(v)) {
			return int(v), nil
		}
	case json.Number:
		return toInt(string(v))
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("expected a whole number, got %v", v)
}

// randInt returns a uniform integer in [lo, hi].
func (f *funcs) randInt(lo, hi any) (int, error) {
	a, err := toInt(lo)
	if err != nil {
		return 0, fmt.Errorf("randInt: %w", err)
	}
	b, err := toInt(hi)
	if err != nil {
		return 0, fmt.Errorf("randInt: %w", err)
	}
	if a > b {
		return 0, fmt.Errorf("randInt: minimum %d is above maximum %d", a, b)
	}
	return a + int(f.rng.Uint64N(uint64(b-a)+1)), nil
}

// randChoice returns one of its arguments, uniformly.
func (f *funcs) randChoice(choices ...any) (any, error) {
	if len(choices) == 0 {
		return nil, errors.New("randChoice: expected at least one choice")
	}
	return choices[f.rng.IntN(len(choices))], nil
}

// toDate converts a template argument to a date (midnight UTC of its day):
// a time.Time, or a string as 2006-01-02 or RFC 3339.
func toDate(v any) (time.Time, error) {
	var t time.Time
	switch v := v.(type) {
	case time.Time:
		t = v
	case string:
		var err error
		if t, err = time.Parse(dateLayout, v); err != nil {
			if t, err = time.Parse(time.RFC3339, v); err != nil {
				return t, fmt.Errorf("expected a date like 2006-01-02, got %q", v)
			}
		}
	default:
		return t, fmt.Errorf("expected a date like 2006-01-02, got %v", v)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
}

// randDate returns a uniform date in [from, to] (both inclusive) as
// 2006-01-02.
func (f *funcs) randDate(from, to any) (string, error) {
	a, err := toDate(from)
	if err != nil {
		return "", fmt.Errorf("randDate: %w", err)
	}
	b, err := toDate(to)
	if err != nil {
		return "", fmt.Errorf("randDate: %w", err)
	}
	if a.After(b) {
		return "", fmt.Errorf("randDate: %s is after %s", a.Format(dateLayout), b.Format(dateLayout))
	}
	days := int(b.Sub(a).Hours() / 24) // UTC midnights: whole days, no DST
	return a.AddDate(0, 0, f.rng.IntN(days+1)).Format(dateLayout), nil
}

// randString returns n random letters and digits.
func (f *funcs) randString(n any) (string, error) {
	k, err := toInt(n)
	if err != nil || k < 0 || k > 1<<20 {
		return "", fmt.Errorf("randString: expected a length between 0 and 1048576, got %v", n)
	}
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, k)
	for i := range b {
		b[i] = chars[f.rng.IntN(len(chars))]
	}
	return string(b), nil
}

// monthStart returns the first day of the current month (local time).
func (f *funcs) monthStart() string {
	now := f.clock()
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location()).Format(dateLayout)
}

// monthEnd returns the last day of the current month (local time).
func (f *funcs) monthEnd() string {
	now := f.clock()
	return time.Date(now.Year(), now.Month()+1, 0, 0, 0, 0, 0, now.Location()).Format(dateLayout)
}

// now formats the current time: with a Go layout, or "unix" (seconds),
// "unixms" (milliseconds), "unixnano", "rfc3339" (the default), "date"
// (2006-01-02).
func (f *funcs) now(format ...string) (string, error) {
	t := f.clock()
	if len(format) > 1 {
		return "", errors.New("now: expected at most one format")
	}
	layout := "rfc3339"
	if len(format) == 1 {
		layout = format[0]
	}
	switch layout {
	case "unix":
		return strconv.FormatInt(t.Unix(), 10), nil
	case "unixms":
		return strconv.FormatInt(t.UnixMilli(), 10), nil
	case "unixnano":
		return strconv.FormatInt(t.UnixNano(), 10), nil
	case "rfc3339":
		return t.Format(time.RFC3339), nil
	case "date":
		return t.Format(dateLayout), nil
	}
	return t.Format(layout), nil
}

// env returns the value of an environment variable; unset is an error.
// Load also reports, before any request, every env call with a literal name
// whose variable is unset.
func env(name string) (string, error) {
	v, ok := os.LookupEnv(name)
	if !ok {
		return "", fmt.Errorf("env: environment variable %s is not set", name)
	}
	return v, nil
}
