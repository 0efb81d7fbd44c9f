package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/target"
)

// headerFlag collects repeatable -header "Key: Value" flags.
type headerFlag struct {
	h     http.Header
	order [][2]string // key and value of each flag, as given
}

func (f *headerFlag) String() string {
	if f.h == nil {
		return ""
	}
	var b strings.Builder
	for k, vs := range f.h {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s; ", k, v)
		}
	}
	return b.String()
}

func (f *headerFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, ":")
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	if !ok || k == "" {
		return fmt.Errorf("expected \"Key: Value\", got %q", s)
	}
	if f.h == nil {
		f.h = http.Header{}
	}
	// Keep the key as written, as target files do: some servers care.
	f.h[k] = append(f.h[k], v)
	f.order = append(f.order, [2]string{k, v})
	return nil
}

// redactedValues returns each header as given, the values of secret
// headers (see target.IsSecretHeader) replaced by target.Redacted.
func (f *headerFlag) redactedValues() []string {
	out := make([]string, 0, len(f.order))
	for _, kv := range f.order {
		v := redactValue(kv[1])
		if target.IsSecretHeader(kv[0]) {
			v = target.Redacted
		}
		out = append(out, kv[0]+": "+v)
	}
	return out
}

// rateFlag parses -rate values: 100/1s, 5/100ms, 0.5/1s, 100, 0 or max.
type rateFlag struct{ r schedule.Rate }

func (f *rateFlag) String() string { return f.r.String() }

func (f *rateFlag) Set(s string) (err error) {
	f.r, err = parseRate(s)
	return err
}

// parseRate parses a rate flag's value: a rate in schedule.ParseRate's
// grammar, or max (infinity), as fast as the in-flight cap allows, which
// is also what 0 means.
func parseRate(s string) (schedule.Rate, error) {
	if t := strings.TrimSpace(s); t == "max" || t == "infinity" {
		return schedule.Rate{}, nil
	}
	return schedule.ParseRate(s)
}

// positiveFlag is an int flag that, when given, must be positive: its
// zero value means "the default", which the flag cannot say, so
// "-connections 0" is an error rather than silently the default.
type positiveFlag struct{ p *int }

func (f positiveFlag) String() string {
	if f.p == nil || *f.p == 0 {
		return ""
	}
	return strconv.Itoa(*f.p)
}

func (f positiveFlag) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 {
		return fmt.Errorf("expected a positive whole number (leave the flag out for the default)")
	}
	*f.p = n
	return nil
}
