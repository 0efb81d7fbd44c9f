package analyze

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// errSummary folds, for each label, n requests of which the first failed
// answer 500.
func errSummary(t *testing.T, labels map[string][2]int) *summary.Summary {
	t.Helper()
	s := summary.New(summary.Options{})
	m := &result.Meta{ID: "e", Start: time.Unix(0, 0)}
	seq := uint64(0)
	for label, nf := range labels {
		for i := range nf[0] {
			r := result.Result{Seq: seq, Label: label, Intended: time.Duration(seq) * time.Millisecond, Status: 200, Latency: time.Millisecond}
			r.Sent = r.Intended
			if i < nf[1] {
				r.Status = 500
			}
			s.Add(m, &r)
			seq++
		}
	}
	return s
}

func TestDetectErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		labels map[string][2]int // label: requests, failed
		want   map[string]bool   // labels found
	}{
		{"the demo: /error's 5 % among clean labels", map[string][2]int{"/fixed": {250, 0}, "/cold": {250, 0}, "/pause": {250, 0}, "/error": {250, 13}}, map[string]bool{"/error": true}},
		{"every label fails alike: none stands out", map[string][2]int{"/a": {1000, 50}, "/b": {1000, 52}, "/c": {1000, 48}}, map[string]bool{}},
		{"four failures are an anecdote", map[string][2]int{"/a": {1000, 0}, "/b": {1000, 4}}, map[string]bool{}},
		{"significant but under twice the others'", map[string][2]int{"/a": {100000, 5000}, "/b": {100000, 6000}}, map[string]bool{}},
		{"one label, 2 % failing", map[string][2]int{"/only": {500, 10}}, map[string]bool{"/only": true}},
		{"one label, 0.2 % failing", map[string][2]int{"/only": {5000, 10}}, map[string]bool{}},
	} {
		s := errSummary(t, c.labels)
		for _, st := range s.Labels() {
			e := detectErrors(s, st)
			got := e != nil && e.Detected
			if got != c.want[st.Label] {
				t.Errorf("%s: %s found %v, want %v (%+v)", c.name, st.Label, got, c.want[st.Label], e)
			}
			if got && (!strings.Contains(e.Text, fmt.Sprintf("%d of %d requests sent failed", e.Failed, e.Sent)) || !strings.Contains(e.Text, "500 Internal Server Error ×")) {
				t.Errorf("%s: text %q does not give its numbers", c.name, e.Text)
			}
		}
	}
}

// TestTwoProportionP checks the test against values computed by hand.
func TestTwoProportionP(t *testing.T) {
	// 5 of 100 against 0 of 200: all 5 failures in the first 100 of 300,
	// C(100,5)/C(300,5) = 0.003845.
	if p := twoProportionP(5, 100, 0, 200); p < 0.003844 || p > 0.003846 {
		t.Errorf("5/100 v 0/200: p = %g, want 0.003845", p)
	}
	// 1 of 2 against 0 of 2: P(the one failure is among the first 2 of 4) = 1/2.
	if p := twoProportionP(1, 2, 0, 2); p < 0.4999 || p > 0.5001 {
		t.Errorf("1/2 v 0/2: p = %g, want 0.5", p)
	}
	// Equal proportions, many failures (the z-test): z = 0, p = 0.5.
	if p := twoProportionP(20000, 100000, 20000, 100000); p < 0.499 || p > 0.501 {
		t.Errorf("equal: p = %g, want 0.5", p)
	}
	if p := twoProportionP(0, 10, 0, 10); p != 1 {
		t.Errorf("no failures: p = %g, want 1", p)
	}
}
