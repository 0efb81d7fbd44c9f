package threshold

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// readSummary writes results under the header m to a results file, reads
// the file back and returns its summary, as 'surge report' would.
func readSummary(t *testing.T, m *result.Meta, rs []result.Result) *summary.Summary {
	t.Helper()
	var buf bytes.Buffer
	w, err := result.NewWriter(&buf, m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rs {
		if err := w.Write(&rs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sm := summary.New(summary.Options{})
	rd := result.NewReader(&buf)
	var r result.Result
	for {
		err := rd.Read(&r)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sm.Add(rd.Meta(), &r)
	}
	return sm
}

// checkResults are 10 requests of two labels over 1s: search takes 10ms
// and fails its check twice, login takes 100ms and fails its extraction
// once; one search gets a 500.
func checkResults() []result.Result {
	var rs []result.Result
	for i := 0; i < 10; i++ {
		r := result.Result{Seq: uint64(i), Label: "search", Intended: time.Duration(i) * 100 * time.Millisecond, Latency: 10 * time.Millisecond, Status: 200}
		switch {
		case i >= 8:
			r.Label, r.Latency = "login", 100*time.Millisecond
			if i == 9 {
				r.Error = "extract token"
			}
		case i < 2:
			r.Error = "status in [200]"
		case i == 2:
			r.Status, r.Error = 500, "500 Internal Server Error"
		}
		r.Sent = r.Intended
		rs = append(rs, r)
	}
	return rs
}

// TestMeasureSummary: each metric measured on a summary, with and without
// a label filter, and the failures check_failures counts from the run's
// header, in the field of today's files and in the attribute of older
// ones.
func TestMeasureSummary(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	headers := map[string]*result.Meta{
		"Checks field": {ID: "new", Start: start, Checks: []string{"status in [200]", "extract token"}},
		"old checks attr": {ID: "old", Start: start, Attrs: map[string]string{
			result.AttrChecks: "status in [200]\nextract token", "scenario": "s"}},
	}
	for name, m := range headers {
		t.Run(name, func(t *testing.T) {
			sm := readSummary(t, m, checkResults())
			get := MeasureSummary(sm, Checks(sm.Runs))
			tests := []struct {
				expr string
				want string // the verdict and the measured value
			}{
				{"check_failures == 3", "PASS 3"},
				{"check_failures{name:search} == 2", "PASS 2"},
				{"requests == 10", "PASS 10"},
				{"error_rate <= 40%", "PASS 40%"},
				{"error_rate{name:login} <= 50%", "PASS 50%"},
				{"p50 < 10ms", "FAIL 10ms"},
				{"max{name:login} == 100ms", "PASS 100ms"},
				{"min{label:search} > 0", "PASS 10ms"},
				{"mean < 50ms", "PASS 28ms"},
				{"rps > 9", "PASS 10.0/s"},
				{"p99{name:none} < 1s", `FAIL no data: threshold "p99{name:none} < 1s": no data for p99{name:none}`},
				{"p99{status:200} < 1s", `FAIL no data: threshold "p99{status:200} < 1s": no data for p99{status:200}`},
			}
			var ths []Threshold
			for _, tt := range tests {
				th, err := ParseThreshold(tt.expr)
				if err != nil {
					t.Fatal(err)
				}
				ths = append(ths, th)
			}
			vs := Check(ths, get)
			fails := 0
			for i, v := range vs {
				mark := "PASS"
				if !v.Pass {
					mark = "FAIL"
					fails++
				}
				if got := mark + " " + v.Measured(); got != tests[i].want {
					t.Errorf("%s: %s, want %s", tests[i].expr, got, tests[i].want)
				}
			}
			if Failed(vs) != fails {
				t.Errorf("Failed = %d, want %d", Failed(vs), fails)
			}
		})
	}
}

// TestChecks: the check names of several runs, old and new, and of a
// scenario given besides.
func TestChecks(t *testing.T) {
	runs := []result.Meta{
		{Checks: []string{"a", "b"}},
		{Attrs: map[string]string{result.AttrChecks: "c\nextract v"}},
		{},
	}
	got := Checks(runs, "d", "")
	for _, n := range []string{"a", "b", "c", "extract v", "d"} {
		if !got[n] {
			t.Errorf("check %q missing from %v", n, got)
		}
	}
	if len(got) != 5 {
		t.Errorf("Checks = %v, want 5 names", got)
	}
}

func TestRead(t *testing.T) {
	ths, err := Read(strings.NewReader("# SLO\np99 < 5ms\n\n  error_rate == 0  \n"), "slo.txt")
	if err != nil || len(ths) != 2 || ths[0].Line != 2 || ths[1].Line != 4 || ths[1].Expr != "error_rate == 0" {
		t.Fatalf("Read = %+v, %v", ths, err)
	}
	for in, want := range map[string]string{
		"p99 < 5ms\nlatency < 1s\n": `slo.txt:2: threshold "latency < 1s": unknown metric "latency"`,
		"# nothing\n\n":             "slo.txt: no thresholds",
	} {
		if _, err := Read(strings.NewReader(in), "slo.txt"); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Read(%q) error = %v, want %s…", in, err, want)
		}
	}
}
