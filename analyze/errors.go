package analyze

import (
	"fmt"
	"math"

	"github.com/surge-dev/surge/summary"
)

// Thresholds of the error-rate finding; see docs/methods.md.
const (
	// ErrorMinFailed is the fewest failed requests a label needs for its
	// errors to be a finding: one or two failures are an anecdote.
	ErrorMinFailed = 5
	// ErrorMinRatio is the smallest share of a label's sent requests that
	// must fail.
	ErrorMinRatio = 0.005
	// ErrorAlpha is the one-sided significance level of the test that a
	// label fails more often than the other labels together (Fisher's
	// exact test), before the Bonferroni correction over the labels.
	ErrorAlpha = 0.01
	// ErrorMinFactor is how many times the others' error ratio a label's
	// must reach: with many requests a tiny difference is significant and
	// still not what a reader should look at first.
	ErrorMinFactor = 2
)

// ErrorRate is the finding on a label's failed requests: found when they
// are enough and, beside other labels, far above theirs. Requests that
// never went out are the generator's and are not counted.
type ErrorRate struct {
	Detected bool `json:"detected"`
	// Failed of Sent requests of the label failed (an error or a failing
	// status, a failed check); Ratio is Failed / Sent.
	Failed int64   `json:"failed"`
	Sent   int64   `json:"sent"`
	Ratio  float64 `json:"ratio"`
	// The same of all the other labels together; OthersSent is 0 when the
	// run had one label.
	OthersFailed int64   `json:"others_failed"`
	OthersSent   int64   `json:"others_sent"`
	OthersRatio  float64 `json:"others_ratio"`
	// P is the one-sided p-value of the label's ratio against the
	// others' (Fisher's exact test; 1 when there are no others).
	P float64 `json:"p"`
	// Top is the label's most frequent error and Count its count.
	Top   string `json:"top,omitempty"`
	Count int64  `json:"top_count,omitempty"`
	Text  string `json:"text"`
}

// detectErrors judges st's failed requests against those of the other
// labels of s, with the Bonferroni correction over the labels; nil when
// the label had no failure at all.
func detectErrors(s *summary.Summary, st *summary.Stats) *ErrorRate {
	failed := st.Sent - sentOK(st)
	if st.Sent == 0 || failed <= 0 {
		return nil
	}
	e := &ErrorRate{Failed: failed, Sent: st.Sent, Ratio: float64(failed) / float64(st.Sent), P: 1}
	labels := s.Labels()
	for _, o := range labels {
		if o.Label != st.Label {
			e.OthersSent += o.Sent
			e.OthersFailed += o.Sent - sentOK(o)
		}
	}
	for _, ec := range st.Errors {
		if ec.Count > e.Count {
			e.Top, e.Count = ec.Error, ec.Count
		}
	}
	enough := failed >= ErrorMinFailed && e.Ratio >= ErrorMinRatio
	what := fmt.Sprintf("%d of %d requests sent failed (%.1f%%", failed, st.Sent, 100*e.Ratio)
	if e.Top != "" {
		what += fmt.Sprintf("; most often %s ×%d", e.Top, e.Count)
	}
	what += ")"
	if e.OthersSent == 0 {
		e.Detected = enough
		if e.Detected {
			e.Text = "errors: " + what
		}
		return e
	}
	e.OthersRatio = float64(e.OthersFailed) / float64(e.OthersSent)
	e.P = twoProportionP(failed, st.Sent, e.OthersFailed, e.OthersSent)
	alpha := ErrorAlpha / float64(len(labels))
	e.Detected = enough && e.P < alpha && e.Ratio >= ErrorMinFactor*e.OthersRatio
	if e.Detected {
		e.Text = fmt.Sprintf("errors far above the other labels': %s against %.1f%% of theirs (%d of %d; one-sided p = %.1g < %.1g)",
			what, 100*e.OthersRatio, e.OthersFailed, e.OthersSent, e.P, alpha)
	}
	return e
}

// sentOK is the label's successful requests; every success was sent.
func sentOK(st *summary.Stats) int64 { return st.Success }

// twoProportionP is the one-sided p-value that the first proportion
// (f1 of n1) exceeds the second (f2 of n2): Fisher's exact test (the
// hypergeometric upper tail of f1 given the f1+f2 failures among the
// n1+n2 requests), which small counts need, and the pooled
// two-proportion z-test once the failures are many (over 10,000), where
// it agrees and the exact sum would be long.
func twoProportionP(f1, n1, f2, n2 int64) float64 {
	k, n := f1+f2, n1+n2
	if k == 0 || k == n {
		return 1
	}
	if k > 10000 {
		p1, p2 := float64(f1)/float64(n1), float64(f2)/float64(n2)
		p := float64(k) / float64(n)
		z := (p1 - p2) / math.Sqrt(p*(1-p)*(1/float64(n1)+1/float64(n2)))
		return 0.5 * math.Erfc(z/math.Sqrt2)
	}
	lc := func(a, b int64) float64 { // log of a choose b
		x, _ := math.Lgamma(float64(a + 1))
		y, _ := math.Lgamma(float64(b + 1))
		z, _ := math.Lgamma(float64(a - b + 1))
		return x - y - z
	}
	total := lc(n, n1)
	p := 0.0
	for i := f1; i <= min(k, n1); i++ {
		if n1-i > n-k {
			continue
		}
		p += math.Exp(lc(k, i) + lc(n-k, n1-i) - total)
	}
	return min(p, 1)
}
