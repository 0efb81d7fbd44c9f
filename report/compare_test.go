package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// A comparison names the run the generator limited, in text and
// Markdown, and says what its intervals cover.
func TestCompareNamesLimitedRun(t *testing.T) {
	sides := [2]*summary.Blocks{summary.NewBlocks(0), summary.NewBlocks(0)}
	for s, lag := range []int64{0, 40e6} {
		sides[s].Source = []string{"before.srg", "after.srg"}[s]
		m := &result.Meta{ID: sides[s].Source}
		for i := range 300 {
			at := int64(i) * 10e6
			r := result.Result{Seq: uint64(i), Intended: durationOf(at), Sent: durationOf(at + lag), Latency: durationOf(20e6 + lag), Status: 200}
			sides[s].Add(m, &r)
		}
	}
	c := analyze.Compare(sides[0], sides[1], analyze.CompareOptions{Warmup: 0, Resamples: 100})
	for name, render := range map[string]func(*bytes.Buffer, *analyze.Comparison) error{
		"text":     func(b *bytes.Buffer, c *analyze.Comparison) error { return CompareText(b, c) },
		"markdown": func(b *bytes.Buffer, c *analyze.Comparison) error { return CompareMarkdown(b, c) },
	} {
		var b bytes.Buffer
		if err := render(&b, c); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, want := range []string{"after run 1 (after.srg): the generator limited this run", "left out of the verdicts (-include-limited keeps it)", "no run left to judge"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: no %q in\n%s", name, want, out)
			}
		}
		if strings.Contains(out, "regressed") {
			t.Errorf("%s: the limited run was judged:\n%s", name, out)
		}
	}
}

func durationOf(ns int64) time.Duration { return time.Duration(ns) }
