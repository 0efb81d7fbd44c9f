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
	fmt.Fprintf(ew, "Compared %d run(s) before with %d after%s; %s.\n", c.BeforeRuns, c.AfterRuns, judgedText(c), c.ExcludedWhy)
	for _, l := range limitedLines(c) {
		fmt.Fprintln(ew, "WARNING: "+l)
	}
	fmt.Fprintf(ew, "Noise: %s.\n", c.Noise)
	fmt.Fprintf(ew, "Intervals: %.0f%% bootstrap over %s time blocks drawn %d at a time within each run (%d resamples)%s.\n\n",
		100*c.Confidence, c.Block, c.BlockLength, c.Resamples, minText(c))
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
	fmt.Fprintf(ew, "%d run(s) before, %d after%s; %s. %.0f%% bootstrap intervals over %s time blocks. %s.\n",
		c.BeforeRuns, c.AfterRuns, judgedText(c), c.ExcludedWhy, 100*c.Confidence, c.Block, upper(c.Noise))
	for _, l := range limitedLines(c) {
		fmt.Fprintf(ew, "\n> **Warning:** %s\n", l)
	}
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

// limitedLines says, per run the generator limited, which run and why,
// and whether it was judged all the same.
func limitedLines(c *analyze.Comparison) []string {
	var out []string
	for _, l := range c.Limited {
		name := fmt.Sprintf("%s run %d", l.Side, l.Run)
		if l.Source != "" {
			name += " (" + l.Source + ")"
		}
		what := "left out of the verdicts (-include-limited keeps it)"
		if l.Included {
			what = "judged all the same (-include-limited)"
		}
		out = append(out, fmt.Sprintf("%s: %s; %s", name, l.Why, what))
	}
	return out
}

// judgedText says how many runs were judged when some were left out.
func judgedText(c *analyze.Comparison) string {
	if c.BeforeJudged == c.BeforeRuns && c.AfterJudged == c.AfterRuns {
		return ""
	}
	return fmt.Sprintf(" (%d and %d judged)", c.BeforeJudged, c.AfterJudged)
}

// minText says which changes are too small to be called.
func minText(c *analyze.Comparison) string {
	if c.Hierarchical {
		if c.MinChange > 0 {
			return fmt.Sprintf("; changes under %.0f%% are not called", 100*c.MinChange)
		}
		return ""
	}
	if len(c.Labels) == 0 {
		return ""
	}
	var parts []string
	for _, m := range c.Labels[0].Metrics {
		if m.Verdict != analyze.NotJudged && m.Min > 0 {
			parts = append(parts, m.Name+" "+changeString(m, m.Min))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("; with fewer than %d runs a side, changes under %s (and latency changes under the same figure of the send lag, p99 %s) are not called",
		analyze.MinRuns, strings.Join(parts, ", "), round(c.Jitter))
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
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
