package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/surge-dev/surge/analyze"
)

// CompareText writes a comparison as a table per label: each figure before
// → after, its change with the confidence interval, and the verdict.
func CompareText(w io.Writer, c *analyze.Comparison) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "Compared %d run(s) before with %d after; %s.\n", c.BeforeRuns, c.AfterRuns, c.ExcludedWhy)
	fmt.Fprintf(ew, "Intervals: %.0f%% bootstrap over %s time blocks drawn %d at a time within each run (%d resamples); changes under %.0f%% are not called.\n\n",
		100*c.Confidence, c.Block, c.BlockLength, c.Resamples, 100*c.MinChange)
	for i, lc := range c.Labels {
		if i > 0 {
			fmt.Fprintln(ew)
		}
		fmt.Fprintln(ew, labelTitle(lc))
		tw := newTabWriter(ew)
		fmt.Fprintln(tw, "Metric\tBefore\tAfter\tChange\tInterval\tVerdict")
		for _, m := range lc.Metrics {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, metricValue(m, m.Before), metricValue(m, m.After),
				changeString(m, m.Change), "["+changeString(m, m.Low)+", "+changeString(m, m.High)+"]", m.Verdict)
		}
		tw.Flush()
	}
	return ew.err
}

// CompareMarkdown writes a comparison as Markdown tables for a pull request.
func CompareMarkdown(w io.Writer, c *analyze.Comparison) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "%d run(s) before, %d after; %s. %.0f%% bootstrap intervals over %s time blocks.\n",
		c.BeforeRuns, c.AfterRuns, c.ExcludedWhy, 100*c.Confidence, c.Block)
	for _, lc := range c.Labels {
		fmt.Fprintf(ew, "\n**%s**\n\n| Metric | Before | After | Change | %.0f%% interval | Verdict |\n|---|---:|---:|---:|---|---|\n",
			strings.ReplaceAll(labelTitle(lc), "|", `\|`), 100*c.Confidence)
		for _, m := range lc.Metrics {
			v := m.Verdict
			switch v {
			case analyze.Improved:
				v = "✅ " + v
			case analyze.Regressed:
				v = "❌ " + v
			}
			fmt.Fprintf(ew, "| %s | %s | %s | %s | [%s, %s] | %s |\n", m.Name, metricValue(m, m.Before), metricValue(m, m.After),
				changeString(m, m.Change), changeString(m, m.Low), changeString(m, m.High), v)
		}
	}
	return ew.err
}

// CompareJSON writes a comparison as one line of JSON: the fields of
// analyze.Comparison (durations and latency figures in ns, error rates as
// ratios in [0,1], changes as ratios: 0.05 = +5 %, for errors the
// difference of the rates).
func CompareJSON(w io.Writer, c *analyze.Comparison) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(c)
}

func labelTitle(lc analyze.LabelComparison) string {
	if lc.All {
		return "All requests"
	}
	if lc.Label == "" {
		return "(unlabelled)"
	}
	return lc.Label
}

func metricValue(m analyze.Metric, v float64) string {
	switch m.Unit {
	case "ns":
		return round(time.Duration(v)).String()
	case "ratio":
		return fmt.Sprintf("%.2f%%", 100*v)
	case "req/s":
		return fmt.Sprintf("%.2f/s", v)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

func changeString(m analyze.Metric, v float64) string {
	if m.Relative {
		return fmt.Sprintf("%+.1f%%", 100*v)
	}
	return fmt.Sprintf("%+.2fpp", 100*v)
}
