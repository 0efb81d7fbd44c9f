package report

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseHistSpec(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []time.Duration
		wantErr string // substring of the error; "" for success
	}{
		{"hist[0,10ms,50ms,100ms]", []time.Duration{0, 10 * ms, 50 * ms, 100 * ms}, ""},
		{" hist[ 0, 1s ] ", []time.Duration{0, time.Second}, ""},
		{"hist[5ms]", []time.Duration{5 * ms}, ""},
		{"hist[1m,1h]", []time.Duration{time.Minute, time.Hour}, ""},
		{"", nil, "want hist[d1,d2,...]"},
		{"hist", nil, "want hist[d1,d2,...]"},
		{"hist[", nil, "want hist[d1,d2,...]"},
		{"hist(0,1s)", nil, "want hist[d1,d2,...]"},
		{"histogram[0,1s]", nil, "want hist[d1,d2,...]"},
		{"[0,1s]", nil, "want hist[d1,d2,...]"},
		{"hist[]", nil, "the list is empty"},
		{"hist[0,,1s]", nil, `item 2, "", is not a duration`},
		{"hist[0,10]", nil, `item 2, "10", is not a duration`},
		{"hist[0,fast]", nil, `item 2, "fast", is not a duration`},
		{"hist[10ms,5ms]", nil, "5ms does not come after 10ms"},
		{"hist[10ms,10ms]", nil, "10ms does not come after 10ms"},
		{"hist[-1ms,5ms]", nil, "bucket -1ms is negative"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseHistSpec(tc.in)
			checkParse(t, got, err, tc.want, tc.wantErr)
		})
	}
}

func TestParseBounds(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []time.Duration
		wantErr string
	}{
		{"800ms,1200ms", []time.Duration{800 * ms, 1200 * ms}, ""},
		{"1s", []time.Duration{time.Second}, ""},
		{" 100ms , 1s , 1m ", []time.Duration{100 * ms, time.Second, time.Minute}, ""},
		{"", nil, "the list is empty; want ascending positive durations"},
		{"0,1s", nil, "bound 0s is not positive"},
		{"-5ms", nil, "bound -5ms is not positive"},
		{"1200ms,800ms", nil, "800ms does not come after 1.2s"},
		{"800", nil, `item 1, "800", is not a duration`},
		{"hist[800ms]", nil, "is not a duration"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseBounds(tc.in)
			checkParse(t, got, err, tc.want, tc.wantErr)
		})
	}
}

func TestParsePercentiles(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []float64
		wantErr string
	}{
		{"50,90,99,99.9", []float64{0.5, 0.9, 0.99, 0.999}, ""},
		{"99, 50", []float64{0.5, 0.99}, ""},
		{"50,50,0,100", []float64{0, 0.5, 1}, ""},
		{"99.99", []float64{0.9999}, ""},
		{"", nil, "the list is empty; want percents in [0,100]"},
		{"50,", nil, `item 2, "", is not a percent in [0,100]`},
		{"p99", nil, `item 1, "p99", is not a percent`},
		{"101", nil, `item 1, "101", is not a percent`},
		{"-1", nil, `item 1, "-1", is not a percent`},
		{"NaN", nil, `item 1, "NaN", is not a percent`},
		{"0.5,Inf", nil, `item 2, "Inf", is not a percent`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePercentiles(tc.in)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("ParsePercentiles(%q): %v", tc.in, err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("ParsePercentiles(%q) (-want +got):\n%s", tc.in, diff)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParsePercentiles(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
			}
		})
	}
}

func checkParse(t *testing.T, got []time.Duration, err error, want []time.Duration, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatalf("error: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Errorf("error = %v, want one containing %q", err, wantErr)
	}
}

func TestPercentLabel(t *testing.T) {
	qs, err := ParsePercentiles("0,50,99.9,99.99,99.999,100")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range qs {
		got = append(got, percentLabel(q))
	}
	if diff := cmp.Diff([]string{"0", "50", "99.9", "99.99", "99.999", "100"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDistributionLabels(t *testing.T) {
	got := distributionLabels([]time.Duration{500 * time.Microsecond, 800 * ms, 1200 * ms, 2 * time.Minute})
	want := []string{"t < 500µs", "500µs <= t < 800ms", "800ms <= t < 1200ms", "1200ms <= t < 2m0s", "t >= 2m0s", "failed"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func FuzzParseHistSpec(f *testing.F) {
	for _, s := range []string{"hist[0,10ms,50ms,100ms]", "hist[]", "hist[1s,1ms]", "hist[ 1h ]", "hist[-0]", "hist[0,0]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := ParseHistSpec(s)
		if err != nil {
			if ds != nil {
				t.Errorf("ParseHistSpec(%q) returned buckets with error %v", s, err)
			}
			return
		}
		if len(ds) == 0 || ds[0] < 0 {
			t.Fatalf("ParseHistSpec(%q) = %v: empty or negative", s, ds)
		}
		for i := 1; i < len(ds); i++ {
			if ds[i] <= ds[i-1] {
				t.Fatalf("ParseHistSpec(%q) = %v: not strictly ascending", s, ds)
			}
		}
	})
}

func FuzzParsePercentiles(f *testing.F) {
	for _, s := range []string{"50,90,99,99.9", "", "100", "0", "1e2", "NaN", "50,,50", "0x1p-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		qs, err := ParsePercentiles(s)
		if err != nil {
			return
		}
		if len(qs) == 0 {
			t.Fatalf("ParsePercentiles(%q) = no quantiles, no error", s)
		}
		for i, q := range qs {
			if !(q >= 0 && q <= 1) {
				t.Fatalf("ParsePercentiles(%q) = %v: %v is outside [0,1]", s, qs, q)
			}
			if i > 0 && q <= qs[i-1] {
				t.Fatalf("ParsePercentiles(%q) = %v: not strictly ascending", s, qs)
			}
		}
		if !slices.IsSorted(qs) {
			t.Fatalf("not sorted: %v", qs)
		}
		_ = percentLabel(qs[0])
	})
}
