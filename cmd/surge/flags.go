package main

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/surge-dev/surge/attack"
)

// headerFlag collects repeatable -header "Key: Value" flags.
type headerFlag struct{ h http.Header }

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
	return nil
}

// rateFlag parses -rate values: 100/1s, 5/100ms, 100, 0 or max.
type rateFlag struct{ r attack.Rate }

func (f *rateFlag) String() string { return f.r.String() }

func (f *rateFlag) Set(s string) (err error) {
	f.r, err = attack.ParseRate(s)
	return err
}
