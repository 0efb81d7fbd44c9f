package schedule

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Rate
		err  bool
	}{
		{"100/1s", Rate{100, time.Second}, false},
		{"5/100ms", Rate{5, 100 * time.Millisecond}, false},
		{"10/100ms", Rate{10, 100 * time.Millisecond}, false}, // a whole number keeps its duration
		{"100", Rate{100, time.Second}, false},
		{"50/s", Rate{50, time.Second}, false},
		{" 20 / 1s ", Rate{20, time.Second}, false},
		{"30/1m", Rate{30, time.Minute}, false},
		{"0", Rate{}, false},
		{"0/1s", Rate{}, false},
		// Decimals become exact fractions.
		{"0.5/1s", Rate{1, 2 * time.Second}, false},
		{"0.5", Rate{1, 2 * time.Second}, false},
		{".5/s", Rate{1, 2 * time.Second}, false},
		{"2.5/100ms", Rate{5, 200 * time.Millisecond}, false},
		{"1.50/1s", Rate{3, 2 * time.Second}, false},
		{"0.001/1s", Rate{1, 1000 * time.Second}, false},
		{"33.3/1s", Rate{333, 10 * time.Second}, false},
		{"1e3/1m", Rate{1000, time.Minute}, false},
		{"2.5E-1/1s", Rate{1, 4 * time.Second}, false},
		{"100.0", Rate{100, time.Second}, false},
		{"-0", Rate{}, false},
		{"max", Rate{}, true}, // the CLI's word, not a rate
		{"-1", Rate{}, true},
		{"-0.5/1s", Rate{}, true},
		{"10/0s", Rate{}, true},
		{"fast", Rate{}, true},
		{"1.2.3", Rate{}, true},
		{".", Rate{}, true},
		{"1e", Rate{}, true},
		{"0x10", Rate{}, true},
		{"1_000", Rate{}, true},
		{"Inf", Rate{}, true},
		{"NaN", Rate{}, true},
		{"1/", Rate{}, true},
		{"0.0000000001/1h", Rate{}, true}, // its Per would outlast a Duration
	} {
		got, err := ParseRate(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "rate "+strconv.Quote(strings.TrimSpace(tc.in))+": ") {
			t.Errorf("ParseRate(%q) error %q does not start by naming the rate", tc.in, err)
		}
	}
}

// TestParseRateMessages: the reasons a user reads.
func TestParseRateMessages(t *testing.T) {
	for in, want := range map[string]string{
		"fast":          `rate "fast": expected N or N/DURATION, like 100, 100/1s, 0.5/1s or 5/100ms`,
		"20/0s":         `rate "20/0s": expected a positive duration after '/', like 1s or 100ms`,
		"1000000000/1s": `rate "1000000000/1s": 1000000000/s is above the ceiling of 1000000/s that one surge process accepts (split higher load over several workers)`,
		"1e30":          `rate "1e30": 1e+30/s is above the ceiling of 1000000/s that one surge process accepts (split higher load over several workers)`,
	} {
		if _, err := ParseRate(in); err == nil || err.Error() != want {
			t.Errorf("ParseRate(%q) error\n got: %v\nwant: %s", in, err, want)
		}
	}
}

// TestRateCeiling: a rate above MaxRate is refused, with the ceiling in the
// message.
func TestRateCeiling(t *testing.T) {
	for _, s := range []string{"1000000000/1s", "1000001/1s", "100000000000/1ns", "2/1us", "1001/1ms", "1000000.5/1s", "1e7", "12345678901234567890123"} {
		if _, err := ParseRate(s); !errors.Is(err, ErrRateTooHigh) || !strings.Contains(err.Error(), "1000000/s") {
			t.Errorf("ParseRate(%q) = %v; want ErrRateTooHigh naming the ceiling 1000000/s", s, err)
		}
	}
	for _, s := range []string{"1000000/1s", "1000/1ms", "1/1us", "0.001/1ns", "1e6"} {
		if r, err := ParseRate(s); err != nil || r.PerSecond() != MaxRate {
			t.Errorf("ParseRate(%q) = %v, %v; want the ceiling itself accepted", s, r, err)
		}
	}
}

// TestConstantPacerDecimal: a decimal rate paces exactly, by whole
// nanoseconds: 0.5/1s every 2s, 2.5/100ms every 40ms, 1/3 of 1/1s never
// drifting.
func TestConstantPacerDecimal(t *testing.T) {
	for _, tc := range []struct {
		rate string
		seq  uint64
		want time.Duration
	}{
		{"0.5/1s", 1, 2 * time.Second},
		{"0.5/1s", 3600, 2 * time.Hour},
		{"2.5/100ms", 1, 40 * time.Millisecond},
		{"2.5/100ms", 25_000, 1000 * time.Second},
		{"0.3/1ms", 3_000_000, 10_000 * time.Second},
	} {
		r, err := ParseRate(tc.rate)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := (ConstantPacer{Rate: r}).At(tc.seq); !ok || got != tc.want {
			t.Errorf("%s: At(%d) = %v, %v; want %v", tc.rate, tc.seq, got, ok, tc.want)
		}
	}
}

// oldRate is how rates were read before the one grammar: attack's
// integer-only ParseRate (ok, with its Rate) and scenario files' float
// parseRate (okFloat, with its requests per second). They are the oracle
// FuzzParseRate holds ParseRate to: it must read every input either took
// the same way.
func oldRate(s string) (r Rate, ok bool, perSecond float64, okFloat bool) {
	s = strings.TrimSpace(s)
	num, per, hasPer := strings.Cut(s, "/")
	d := time.Second
	if hasPer {
		per = strings.TrimSpace(per)
		if per != "" && (per[0] < '0' || per[0] > '9') {
			per = "1" + per
		}
		var err error
		if d, err = time.ParseDuration(per); err != nil || d <= 0 {
			return Rate{}, false, 0, false
		}
	}
	if f, err := strconv.Atoi(num); err == nil && f >= 0 {
		r, ok = Rate{Freq: f, Per: d}, true
	}
	num = strings.TrimSpace(num)
	f, err := strconv.ParseFloat(num, 64)
	if err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && !strings.ContainsAny(num, "xXpP_") && f >= 0 {
		perSecond, okFloat = f/d.Seconds(), true
	}
	return r, ok, perSecond, okFloat
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"100/1s", "5/100ms", "max", "1/s", "0", "0.5/1s", "2.5/100ms", "1e3/1m", " 7 / 3ms", ".25", "-0", "1.5e-3/1us"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			checkRefusal(t, s, err)
			return
		}
		checkRate(t, s, r)
		if r.IsMax() {
			return // "max", which ParseRate leaves to the CLI
		}
		again, err := ParseRate(r.String())
		if err != nil || again != r {
			t.Fatalf("ParseRate(%q) = %#v, whose String %q reads back as %#v, %v", s, r, r.String(), again, err)
		}
	})
}

// checkRefusal fails t when ParseRate refused s, with err, though an old
// grammar read it as a rate within MaxRate. The float grammar's rates of
// more than 19 figures, or too slow to hold as a fraction, may be refused.
func checkRefusal(t *testing.T, s string, err error) {
	old, ok, ps, okFloat := oldRate(s)
	refusable := errors.Is(err, ErrRateTooHigh) && ps > MaxRate*(1-1e-12) ||
		strings.Contains(err.Error(), "significant digits") || strings.Contains(err.Error(), "too slow")
	if ok && old.PerSecond() <= MaxRate || okFloat && ps <= MaxRate && !refusable {
		t.Fatalf("ParseRate(%q): %v; the old grammars took it (%v, %v/s)", s, err, old, ps)
	}
}

// checkRate fails t when r, which ParseRate read from s, is not what the
// old grammars read: the same Rate as the integer grammar, the same rate
// per second (to 1e-12) as the float one.
func checkRate(t *testing.T, s string, r Rate) {
	old, ok, ps, okFloat := oldRate(s)
	switch {
	case r.IsMax():
		if r != (Rate{}) || okFloat && ps != 0 || ok && !old.IsMax() {
			t.Fatalf("ParseRate(%q) = %#v; want the zero Rate only for 0 (old: %v, %v/s)", s, r, old, ps)
		}
	case r.Freq <= 0 || r.Per <= 0 || r.PerSecond() > MaxRate:
		t.Fatalf("ParseRate(%q) = %#v without error", s, r)
	case ok && r != old:
		t.Fatalf("ParseRate(%q) = %#v; the integer grammar read %#v", s, r, old)
	case okFloat && math.Abs(r.PerSecond()-ps) > 1e-12*ps:
		t.Fatalf("ParseRate(%q) = %v, %v/s; the float grammar read %v/s", s, r, r.PerSecond(), ps)
	}
}
