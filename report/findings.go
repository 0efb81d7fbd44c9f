package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/summary"
)

// findingsWarning returns the first-line warning for what generatorWarning
// does not see (the generator's CPU), "" otherwise.
func findingsWarning(s *summary.Summary, f *analyze.Findings) string {
	if f != nil && generatorWarning(s) == "" && f.Generator.Limited {
		return f.Generator.Text
	}
	return ""
}

// writeFindings writes the diagnoses, one finding a line (see
// findingLines).
func writeFindings(w io.Writer, f *analyze.Findings) {
	fmt.Fprintln(w, "Findings:")
	for _, l := range findingLines(f) {
		fmt.Fprintf(w, "  %s: %s\n", l.Who, l.Text)
	}
}

// findingLine is one line of the findings: whom it is about (the
// generator, a label, a target's stages) and its sentence. A Text starting
// with two spaces details the line before it.
type findingLine struct {
	Who  string `json:"who"`
	Text string `json:"text"`
}

// findingLines returns the diagnoses as the text report and the HTML
// report show them: the generator's health, then per label what was found
// (cold phase and the steady state without it, spikes, saturation, the
// concurrency ceiling or why it was not judged), one sentence each with
// its numbers.
func findingLines(f *analyze.Findings) []findingLine {
	out := []findingLine{{"generator", f.Generator.Text}}
	for _, lf := range f.Labels {
		var lines []string
		if lf.Errors != nil && lf.Errors.Detected {
			lines = append(lines, lf.Errors.Text)
		}
		if lf.Cold != nil {
			lines = append(lines, lf.Cold.Text)
		}
		if lf.Steady != nil {
			lines = append(lines, lf.Steady.Text)
		}
		if lf.Stall != nil {
			lines = append(lines, lf.Stall.Text)
		}
		if lf.Spikes != nil && lf.Spikes.Unjudged != "" {
			lines = append(lines, lf.Spikes.Text)
		} else if lf.Spikes != nil && len(lf.Spikes.Episodes) > 0 {
			lines = append(lines, lf.Spikes.Text)
			for _, e := range lf.Spikes.Episodes {
				lines = append(lines, fmt.Sprintf("  spike at +%s for %s: p99 %s, max %s, %d of %d requests slow (%.0f%% of all slow ones)",
					e.Offset, e.End.Sub(e.Start), round(e.Peak), round(e.Max), e.Slow, e.Requests, 100*e.Share))
			}
		}
		if lf.Saturation != nil && lf.Saturation.Detected {
			lines = append(lines, lf.Saturation.Text)
		}
		if c := lf.Ceiling; c != nil && (c.Detected || c.Unjudged != "") {
			lines = append(lines, c.Text)
		}
		lines = append(lines, signalLines(lf.Signals)...)
		name := lf.Label
		if name == "" {
			name = "-"
		}
		if len(lines) == 0 {
			if len(lf.Judged) == 0 {
				lines = append(lines, "too few requests or time windows to judge a cold phase, spikes or saturation")
			} else {
				lines = append(lines, "none found (looked for: "+strings.ReplaceAll(strings.Join(lf.Judged, ", "), "_", " ")+")")
			}
		}
		for _, l := range lines {
			out = append(out, findingLine{name, l})
		}
	}
	if st := f.Stages; st != nil && (st.Ceiling.Detected || st.Ceiling.Unjudged != "") {
		out = append(out, findingLine{fmt.Sprintf("%s, its %d stages together", st.Target, len(st.Labels)), st.Ceiling.Text})
	}
	return out
}

// signalLines are the server-signal finding: what was tested and, for
// each series that moved with the latency, its sentence; nothing when the
// run recorded no signals.
func signalLines(sf *analyze.SignalFindings) []string {
	if sf == nil {
		return nil
	}
	lines := []string{sf.Text}
	if sf.Unjudged != "" {
		return lines
	}
	for _, m := range sf.Matches {
		lines = append(lines, "  "+m.Text)
	}
	return lines
}
