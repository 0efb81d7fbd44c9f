package scenario

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"text/template"
	"time"
)

// testClock is 2024-02-15 13:14:15.5 UTC, in a leap-year February.
var testClock = time.Date(2024, 2, 15, 13, 14, 15, 500_000_000, time.UTC)

func newFuncs(seed uint64) *funcs {
	return &funcs{rng: rand.New(rand.NewPCG(seed, 0)), id: 7, seq: 41, clock: func() time.Time { return testClock }}
}

// execFunc renders src with f's functions and data.
func execFunc(f *funcs, src string, data any) (string, error) {
	t, err := template.New("t").Option("missingkey=error").Funcs(f.funcMap()).Parse(src)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = t.Execute(&b, data)
	return b.String(), err
}

func TestTemplateFuncs(t *testing.T) {
	t.Setenv("SURGE_TEST_TOKEN", "s3cret")
	data := map[string]any{"lo": "2", "hi": "4", "day": time.Date(2024, 3, 9, 23, 0, 0, 0, time.UTC)}
	tests := []struct {
		name    string
		src     string
		want    string // exact output, when set
		match   string // regexp the output must match, when set
		wantErr string // substring of the error, when set
	}{
		{name: "seq", src: "{{seq}}", want: "41"},
		{name: "vu", src: "{{vu}}", want: "7"},
		{name: "uuid", src: "{{uuid}}", match: `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`},
		{name: "randInt", src: "{{randInt 1 3}}", match: `^[123]$`},
		{name: "randInt one value", src: "{{randInt 5 5}}", want: "5"},
		{name: "randInt negative", src: "{{randInt -3 -3}}", want: "-3"},
		{name: "randInt from strings", src: "{{randInt .lo .hi}}", match: `^[234]$`},
		{name: "randInt min above max", src: "{{randInt 3 1}}", wantErr: "minimum 3 is above maximum 1"},
		{name: "randInt not a number", src: `{{randInt "x" 1}}`, wantErr: "expected a whole number"},
		{name: "randChoice", src: `{{randChoice "a" "b" "c"}}`, match: `^[abc]$`},
		{name: "randChoice one", src: `{{randChoice 9}}`, want: "9"},
		{name: "randChoice none", src: `{{randChoice}}`, wantErr: "at least one choice"},
		{name: "randDate", src: `{{randDate "2024-02-27" "2024-03-02"}}`, match: `^2024-(02-2[789]|03-0[12])$`},
		{name: "randDate one day", src: `{{randDate "2024-02-29" "2024-02-29"}}`, want: "2024-02-29"},
		{name: "randDate time value", src: `{{randDate .day .day}}`, want: "2024-03-09"},
		{name: "randDate rfc3339", src: `{{randDate "2024-01-05T10:00:00Z" "2024-01-05T23:00:00Z"}}`, want: "2024-01-05"},
		{name: "randDate reversed", src: `{{randDate "2024-03-02" "2024-02-27"}}`, wantErr: "2024-03-02 is after 2024-02-27"},
		{name: "randDate malformed", src: `{{randDate "02/27/2024" "2024-03-01"}}`, wantErr: "expected a date like 2006-01-02"},
		{name: "randDate in month", src: `{{randDate (monthStart) (monthEnd)}}`, match: `^2024-02-[012][0-9]$`},
		{name: "monthStart", src: "{{monthStart}}", want: "2024-02-01"},
		{name: "monthEnd leap year", src: "{{monthEnd}}", want: "2024-02-29"},
		{name: "today", src: "{{today}}", want: "2024-02-15"},
		{name: "now default", src: "{{now}}", want: "2024-02-15T13:14:15Z"},
		{name: "now rfc3339", src: `{{now "rfc3339"}}`, want: "2024-02-15T13:14:15Z"},
		{name: "now unix", src: `{{now "unix"}}`, want: "1708002855"},
		{name: "now unixms", src: `{{now "unixms"}}`, want: "1708002855500"},
		{name: "now date", src: `{{now "date"}}`, want: "2024-02-15"},
		{name: "now layout", src: `{{now "02/01/2006 15:04"}}`, want: "15/02/2024 13:14"},
		{name: "now two formats", src: `{{now "unix" "date"}}`, wantErr: "at most one format"},
		{name: "env", src: `{{env "SURGE_TEST_TOKEN"}}`, want: "s3cret"},
		{name: "env unset", src: `{{env "SURGE_TEST_SURELY_UNSET"}}`, wantErr: "SURGE_TEST_SURELY_UNSET is not set"},
		{name: "randString", src: "{{randString 12}}", match: `^[a-zA-Z0-9]{12}$`},
		{name: "randString empty", src: "{{randString 0}}", want: ""},
		{name: "randString negative", src: "{{randString -1}}", wantErr: "expected a length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := uint64(0); seed < 50; seed++ { // random functions: many draws
				got, err := execFunc(newFuncs(seed), tt.src, data)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("%s: got error %v, want one containing %q", tt.src, err, tt.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s: %v", tt.src, err)
				}
				if tt.match != "" && !regexp.MustCompile(tt.match).MatchString(got) {
					t.Fatalf("%s = %q, want a match of %s", tt.src, got, tt.match)
				}
				if tt.match == "" && got != tt.want {
					t.Fatalf("%s = %q, want %q", tt.src, got, tt.want)
				}
			}
		})
	}
}

// TestRandomFuncsCoverRange checks that the ranges are inclusive at both
// ends and that every value comes up.
func TestRandomFuncsCoverRange(t *testing.T) {
	tests := []struct {
		src  string
		want []string
	}{
		{"{{randInt 1 3}}", []string{"1", "2", "3"}},
		{`{{randChoice "a" "b" "c"}}`, []string{"a", "b", "c"}},
		{`{{randDate "2024-02-27" "2024-03-01"}}`, []string{"2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"}},
	}
	for _, tt := range tests {
		f := newFuncs(1)
		seen := map[string]bool{}
		for i := 0; i < 500; i++ {
			got, err := execFunc(f, tt.src, nil)
			if err != nil {
				t.Fatal(err)
			}
			seen[got] = true
		}
		if len(seen) != len(tt.want) {
			t.Errorf("%s gave %v, want exactly %v", tt.src, seen, tt.want)
		}
		for _, w := range tt.want {
			if !seen[w] {
				t.Errorf("%s never gave %s in 500 draws", tt.src, w)
			}
		}
	}
}

func TestMonthBounds(t *testing.T) {
	tests := []struct {
		now        time.Time
		start, end string
	}{
		{time.Date(2023, 2, 1, 0, 0, 0, 0, time.UTC), "2023-02-01", "2023-02-28"},
		{time.Date(2024, 12, 31, 23, 59, 0, 0, time.UTC), "2024-12-01", "2024-12-31"},
		{time.Date(2024, 4, 30, 12, 0, 0, 0, time.FixedZone("X", -5*3600)), "2024-04-01", "2024-04-30"},
	}
	for _, tt := range tests {
		f := &funcs{clock: func() time.Time { return tt.now }}
		if got := f.monthStart(); got != tt.start {
			t.Errorf("monthStart at %v = %s, want %s", tt.now, got, tt.start)
		}
		if got := f.monthEnd(); got != tt.end {
			t.Errorf("monthEnd at %v = %s, want %s", tt.now, got, tt.end)
		}
	}
}

func TestUUIDReproducibleAndUnique(t *testing.T) {
	a, b := newFuncs(3), newFuncs(3)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		x, y := a.uuid(), b.uuid()
		if x != y {
			t.Fatalf("same seed gave %s and %s", x, y)
		}
		if seen[x] {
			t.Fatalf("uuid %s repeated", x)
		}
		seen[x] = true
	}
}
