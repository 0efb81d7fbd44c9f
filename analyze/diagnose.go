package analyze

import (
	"fmt"
	"strings"
	"time"

	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/summary"
)

// Findings are the diagnoses of a summarised run.
type Findings struct {
	Generator Generator       `json:"generator"`
	Labels    []LabelFindings `json:"labels"`
	// Stages is the concurrency ceiling judged on all results together
	// when every label is one target's stage (`-rate a,b,c` labels each
	// rate "GET / [104/1s]"), so that the ramp across them is seen; nil
	// otherwise.
	Stages *StagesCeiling `json:"stages,omitempty"`
}

// StagesCeiling is the ceiling of one target's stages taken together.
type StagesCeiling struct {
	// Target is the label without its stage, Labels the stage labels.
	Target  string   `json:"target"`
	Labels  []string `json:"labels"`
	Ceiling *Ceiling `json:"ceiling"`
}

// LabelFindings are the diagnoses of one label's results (an endpoint).
type LabelFindings struct {
	Label string `json:"label"`
	// Cold is the cold phase at the start, nil when none was found.
	Cold *ColdPhase `json:"cold_phase"`
	// Stall is a slow stretch the cold-phase search found after a start
	// at the steady level, nil when none: it is not a cold phase.
	Stall *Stall `json:"stall,omitempty"`
	// Steady holds the figures of the rest of the run when there was a
	// cold phase, nil otherwise (the whole run is then the steady state).
	Steady     *Steady     `json:"steady_state"`
	Spikes     *Spikes     `json:"spikes"`
	Saturation *Saturation `json:"saturation"`
	// Ceiling is the server's concurrency ceiling by Little's law, nil
	// when saturation is not judged.
	Ceiling *Ceiling `json:"ceiling"`
	// Signals are the recorded server signals that moved with the
	// latency; nil when the run recorded none.
	Signals *SignalFindings `json:"signals,omitempty"`
	// Errors is the finding on the label's failed requests, nil when
	// none failed.
	Errors *ErrorRate `json:"errors,omitempty"`
	// Judged names the analyses that had enough data to run: "cold_phase",
	// "spikes", "saturation", "ceiling".
	Judged []string `json:"judged"`
}

// Steady are the latency figures of a run with its cold phase left out.
// They come from the time windows that start after the cold phase, to
// within 1 %.
type Steady struct {
	// From is the offset from each run's start where they begin.
	From     time.Duration `json:"from"`
	Requests int64         `json:"requests"`
	Mean     time.Duration `json:"mean"`
	P50      time.Duration `json:"p50"`
	P90      time.Duration `json:"p90"`
	P99      time.Duration `json:"p99"`
	Max      time.Duration `json:"max"`
	Text     string        `json:"text"`
}

// Diagnose runs every analysis on s: the generator's health, then per
// label the cold phase (on the label's request-order series), the steady
// state without it, spikes and saturation (on its time windows).
func Diagnose(s *summary.Summary) *Findings {
	f := &Findings{Generator: GeneratorHealth(s), Labels: []LabelFindings{}}
	for _, st := range s.Labels() {
		f.Labels = append(f.Labels, diagnoseLabel(s, st, f.Generator))
	}
	recs := recordedSignals(s)
	tracks := s.Signals()
	for i := range f.Labels {
		f.Labels[i].Spikes.discount(f.Generator)
		if st := s.Label(f.Labels[i].Label); st != nil {
			confirmCeiling(f.Labels[i].Ceiling, st.Series, s.Runs, tracks)
		}
		if len(recs) > 0 {
			f.Labels[i].Signals = DetectSignals(s.Label(f.Labels[i].Label), recs, f.Labels[i].Spikes, coldSkip(s, f.Labels[i]))
			f.Labels[i].Signals.unjudge(machineBusy(f.Generator))
		}
	}
	if base, labels := stagesOf(s); base != "" {
		if c := DetectCeiling(s.Total, nil, f.Generator); c != nil {
			confirmCeiling(c, s.Total.Series, s.Runs, tracks)
			f.Stages = &StagesCeiling{Target: base, Labels: labels, Ceiling: c}
		}
	}
	return f
}

// stagesOf returns the one target whose stages s's labels are (each
// "TARGET [STAGE]", two or more) and the labels, "" when they are not.
func stagesOf(s *summary.Summary) (string, []string) {
	var base string
	var labels []string
	for _, st := range s.Labels() {
		l := st.Label
		i := strings.LastIndex(l, " [")
		if i <= 0 || !strings.HasSuffix(l, "]") || base != "" && l[:i] != base {
			return "", nil
		}
		base = l[:i]
		labels = append(labels, l)
	}
	if len(labels) < 2 {
		return "", nil
	}
	return base, labels
}

func diagnoseLabel(s *summary.Summary, st *summary.Stats, g Generator) LabelFindings {
	seq := st.Sequence
	lf := LabelFindings{Label: st.Label, Judged: []string{}}
	lf.Errors = detectErrors(s, st)
	lf.Cold, lf.Stall = detectStart(seq)
	if seq != nil && len(batches(seq.Buckets)) >= 2*coldMinBatches {
		lf.Judged = append(lf.Judged, "cold_phase")
	}
	var skip func(time.Time) bool
	why := machineBusy(g)
	if lf.Stall != nil && why != "" {
		lf.Stall.unjudge(why)
	}
	if c := lf.Cold; c != nil {
		skip = coldSkip(s, lf)
		lf.Steady = steadyStats(st.Series, skip, c.End)
		switch {
		case why != "" && (lf.Steady.Requests == 0 || c.ColdMedian <= lf.Steady.Max):
			// A busy machine delays requests; a cold phase whose median
			// batch is slower than the slowest steady request, which
			// the same machine delayed, is still the server's (the lab's
			// /cold at 61×; with the p99 instead, nginx at max rate had
			// a start of 768 requests at 6× called one).
			lf.Cold.unjudge(why)
			lf.Steady, skip = nil, nil
		case lf.Steady.Requests == 0:
			lf.Steady = nil
			c.Text += " The run ended within a time window of its end, so there is no steady state to report; run longer."
		case why != "":
			c.Text += fmt.Sprintf(" The machine was busy (%s), but their median batch is over the slowest steady request, %s, which it delayed too. Steady-state figures exclude them.",
				why, latency.Round3(lf.Steady.Max))
		default:
			c.Text += " Steady-state figures exclude them."
		}
	}
	lf.Spikes = DetectSpikes(st.Series, skip)
	lf.Saturation = DetectSaturation(st.Series, skip)
	lf.Ceiling = DetectCeiling(st, skip, g)
	if lf.Spikes != nil {
		lf.Judged = append(lf.Judged, "spikes")
	}
	if lf.Saturation != nil && !lf.Saturation.Unscheduled {
		lf.Judged = append(lf.Judged, "saturation")
	}
	if lf.Ceiling != nil {
		lf.Judged = append(lf.Judged, "ceiling")
	}
	return lf
}

// coldSkip returns whether a window starting at from lies in lf's cold
// phase in any run, nil when lf has none.
func coldSkip(s *summary.Summary, lf LabelFindings) func(time.Time) bool {
	c := lf.Cold
	if c == nil || c.Unjudged != "" {
		return nil
	}
	st := s.Label(lf.Label)
	return func(from time.Time) bool {
		for _, m := range s.Runs {
			if !from.Before(m.Start.Add(-st.Series.Width)) && from.Before(m.Start.Add(c.End)) {
				return true
			}
		}
		return false
	}
}

func steadyStats(s *summary.Series, skip func(time.Time) bool, from time.Duration) *Steady {
	var h latency.Coarse
	for i := range s.Windows {
		if l := s.Windows[i].Latency; l != nil && !skip(s.From(i)) {
			h.Merge(l)
		}
	}
	st := &Steady{From: from, Requests: h.Count()}
	if h.Count() == 0 {
		st.Text = "no steady state: the run ended inside its cold phase; run longer"
		return st
	}
	st.Mean, st.P50, st.P90, st.P99, st.Max = h.Mean(), h.Quantile(0.5), h.Quantile(0.9), h.Quantile(0.99), h.Max()
	st.Text = fmt.Sprintf("steady state (from %s into the run, cold phase excluded, %d requests): mean %s, p50 %s, p90 %s, p99 %s, max %s",
		latency.Round3(from), st.Requests, latency.Round3(st.Mean), latency.Round3(st.P50), latency.Round3(st.P90), latency.Round3(st.P99), latency.Round3(st.Max))
	return st
}
