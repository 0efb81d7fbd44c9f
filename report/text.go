// Package report renders a summary.Summary, with the findings analyze
// computed on it, as text, JSON, HTML or a vegeta-style latency histogram,
// and analyze's comparisons and capacity searches. It computes no figures
// of its own beyond formatting them.
//
// The text, JSON and histogram reports start with exactly what vegeta's
// report command prints for the same figures (vegeta lib/reporters.go,
// lib/metrics.go, lib/histogram.go), so scripts written against vegeta keep
// working; surge's additions follow.
package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/summary"
)

// DefaultPercentiles are the quantiles reported when Options.Percentiles is
// empty.
var DefaultPercentiles = []float64{0.5, 0.9, 0.95, 0.99, 0.999, 0.9999}

// LagWarning is the send-lag p99 above which the reports say the generator,
// not the server, limited the run.
const LagWarning = 10 * time.Millisecond

// Options configures the text and JSON reports. The zero value is usable.
type Options struct {
	// Percentiles are quantiles, q in [0,1], for the extra list; empty
	// means DefaultPercentiles. In the text report, setting them replaces
	// the Latencies+ line with a Percentiles line.
	Percentiles []float64
	// Bounds are the summary's distribution bounds, for the labels of its
	// buckets; empty means the summary's own (summary.Options.Bounds).
	Bounds []time.Duration
}

func (o Options) resolve(s *summary.Summary) (Options, error) {
	if len(o.Percentiles) == 0 {
		o.Percentiles = DefaultPercentiles
	}
	for _, q := range o.Percentiles {
		if !(q >= 0 && q <= 1) {
			return o, fmt.Errorf("percentile %v is not a quantile in [0,1]", q)
		}
	}
	if len(o.Bounds) == 0 {
		o.Bounds = s.Options().Bounds
	}
	if len(o.Bounds)+2 != len(s.Total.Buckets) {
		return o, fmt.Errorf("%d distribution bounds given for a summary counted with %d", len(o.Bounds), len(s.Total.Buckets)-2)
	}
	return o, nil
}

// errWriter keeps the first write error and drops later writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func newTabWriter(w io.Writer) *tabwriter.Writer {
	// vegeta's settings: minwidth 0, tabwidth 8, padding 2, spaces.
	return tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.StripEscape)
}

// Text writes the text report of s to w: a warning first for every input
// that could not be read whole and when the generator limited the run,
// vegeta's text report of the total, then surge's
// additions (extra percentiles, distribution, schedule, warm-up), with
// more than one label a table per label, and last the findings f
// (analyze.Diagnose of s; nil leaves them out).
func Text(w io.Writer, s *summary.Summary, f *analyze.Findings, o Options) error {
	custom := len(o.Percentiles) > 0
	o, err := o.resolve(s)
	if err != nil {
		return err
	}
	ew := &errWriter{w: w}
	writeInputWarnings(ew, s)
	if msg := generatorWarning(s); msg != "" {
		fmt.Fprintf(ew, "WARNING: %s\n\n", msg)
	} else if msg := findingsWarning(s, f); msg != "" {
		fmt.Fprintf(ew, "WARNING: %s\n\n", msg)
	}
	writeVegetaText(ew, s.Total)
	fmt.Fprintln(ew)
	writeAdditions(ew, s, o, custom)
	if labels := s.Labels(); len(labels) > 1 {
		fmt.Fprintln(ew)
		writeLabelTable(ew, labels)
	}
	if f != nil {
		fmt.Fprintln(ew)
		writeFindings(ew, f)
	}
	return ew.err
}

// writeVegetaText writes st as vegeta's NewTextReporter does, except that
// each Error Set line ends with its count.
func writeVegetaText(w io.Writer, st *summary.Stats) {
	tw := newTabWriter(w)
	l := st.Latency
	fmt.Fprintf(tw, "Requests\t[total, rate, throughput]\t%d, %.2f, %.2f\n", st.Requests, st.Rate(), st.Throughput())
	fmt.Fprintf(tw, "Duration\t[total, attack, wait]\t%s, %s, %s\n",
		round(st.Duration()+st.Wait()), round(st.Duration()), round(st.Wait()))
	fmt.Fprintf(tw, "Latencies\t[min, mean, 50, 90, 95, 99, max]\t%s, %s, %s, %s, %s, %s, %s\n",
		round(l.Min()), round(l.Mean()), round(l.Quantile(0.5)), round(l.Quantile(0.9)),
		round(l.Quantile(0.95)), round(l.Quantile(0.99)), round(l.Max()))
	fmt.Fprintf(tw, "Bytes In\t[total, mean]\t%d, %.2f\n", st.BytesIn, perRequest(st.BytesIn, st.Requests))
	fmt.Fprintf(tw, "Bytes Out\t[total, mean]\t%d, %.2f\n", st.BytesOut, perRequest(st.BytesOut, st.Requests))
	fmt.Fprintf(tw, "Success\t[ratio]\t%.2f%%\n", st.SuccessRatio()*100)
	fmt.Fprintf(tw, "Status Codes\t[code:count]\t")
	for _, code := range statusCodes(st) {
		fmt.Fprintf(tw, "%s:%d  ", code, st.StatusCodes[atoi(code)])
	}
	// One line per error class (an example message, then how many
	// requests had an error of that class) and per message without one,
	// such as a status line: a reset storm is one line, not one per
	// ephemeral port.
	fmt.Fprintln(tw, "\nError Set:")
	for _, e := range st.Errors {
		fmt.Fprintf(tw, "%s (%d)\n", e.Error, e.Count)
	}
	if st.NotSentSilent > 0 {
		// Not-sent results carry no error text; without this line a run
		// that mostly never went out would show an empty set.
		fmt.Fprintf(tw, "not sent: due, but the generator never sent it (%d)\n", st.NotSentSilent)
	}
	if st.OtherErrors > 0 {
		fmt.Fprintf(tw, "(%d more requests failed with errors not listed: over %d distinct)\n", st.OtherErrors, summary.MaxErrors)
	}
	tw.Flush()
}

// statusCodes returns the codes of st as strings in vegeta's order, which
// sorts them as strings.
func statusCodes(st *summary.Stats) []string {
	codes := make([]string, 0, len(st.StatusCodes))
	for c := range st.StatusCodes {
		codes = append(codes, strconv.Itoa(c))
	}
	slices.Sort(codes)
	return codes
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s) // s came from strconv.Itoa
	return n
}

func perRequest(total, requests int64) float64 {
	if requests == 0 {
		return 0
	}
	return float64(total) / float64(requests)
}

// writeAdditions writes surge's figures in vegeta's style; custom says
// whether o.Percentiles were chosen by the user.
func writeAdditions(w io.Writer, s *summary.Summary, o Options, custom bool) {
	tw := newTabWriter(w)
	st := s.Total
	l := st.Latency
	if !custom {
		fmt.Fprintf(tw, "Latencies+\t[99.9, 99.99, stddev]\t%s, %s, %s\n",
			round(l.Quantile(0.999)), round(l.Quantile(0.9999)), round(l.StdDev()))
	} else {
		names := make([]string, len(o.Percentiles))
		values := make([]string, len(o.Percentiles))
		for i, q := range o.Percentiles {
			names[i] = percentLabel(q)
			values[i] = round(l.Quantile(q)).String()
		}
		fmt.Fprintf(tw, "Percentiles\t[%s]\t%s\n", strings.Join(names, ", "), strings.Join(values, ", "))
		fmt.Fprintf(tw, "Latencies+\t[stddev]\t%s\n", round(l.StdDev()))
	}
	for i, label := range distributionLabels(o.Bounds) {
		fmt.Fprintf(tw, "%s\t[count, ratio]\t%d, %.2f%%\n", label, st.Buckets[i], ratio(st.Buckets[i], st.Requests)*100)
	}
	lag := st.SendLag
	fmt.Fprintf(tw, "Schedule\t[send lag 50, 99, max; late, not sent]\t%s, %s, %s; %d, %d\n",
		round(lag.Quantile(0.5)), round(lag.Quantile(0.99)), round(lag.Max()), st.Late, st.NotSent)
	if st.Resent > 0 {
		// Only when it happened: the server received more requests than
		// the Requests line says.
		fmt.Fprintf(tw, "Resent\t[requests, ratio of sent]\t%d, %.2f%%\n", st.Resent, ratio(st.Resent, st.Sent)*100)
	}
	if s.WarmupSkipped > 0 {
		fmt.Fprintf(tw, "Warm-up\t[skipped]\t%d\n", s.WarmupSkipped)
	}
	tw.Flush()
}

func writeLabelTable(w io.Writer, labels []*summary.Stats) {
	tw := newTabWriter(w)
	fmt.Fprintln(tw, "Label\tRequests\tSuccess\tRate\tp50\tp90\tp99\tMax\tErrors")
	for _, st := range labels {
		l := st.Latency
		name := st.Label
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f%%\t%.2f\t%s\t%s\t%s\t%s\t%d\n", name, st.Requests, st.SuccessRatio()*100, st.Rate(),
			round(l.Quantile(0.5)), round(l.Quantile(0.9)), round(l.Quantile(0.99)), round(l.Max()), st.Failed())
	}
	tw.Flush()
}

// distributionLabels returns the names of the buckets of summary.Stats
// counted over bounds: "t < 800ms", "800ms <= t < 1200ms", "t >= 1200ms",
// "failed".
func distributionLabels(bounds []time.Duration) []string {
	labels := make([]string, 0, len(bounds)+2)
	for i, b := range bounds {
		if i == 0 {
			labels = append(labels, "t < "+boundString(b))
		} else {
			labels = append(labels, boundString(bounds[i-1])+" <= t < "+boundString(b))
		}
	}
	if len(bounds) > 0 {
		labels = append(labels, "t >= "+boundString(bounds[len(bounds)-1]))
	}
	return append(labels, "failed")
}

// boundString writes whole milliseconds under a minute in milliseconds, as
// Gatling does (1200ms, not 1.2s), and other durations as time.Duration does.
func boundString(d time.Duration) string {
	if d > 0 && d < time.Minute && d%time.Millisecond == 0 {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return d.String()
}

func ratio(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// generatorWarning says, in words a backend engineer acts on, when the
// generator rather than the server limited the run: requests a local
// resource (descriptors, ports) kept from going out, requests that never
// went out otherwise, or a send-lag p99 above LagWarning. It returns ""
// otherwise.
func generatorWarning(s *summary.Summary) string {
	st := s.Total
	p99 := st.SendLag.Quantile(0.99)
	var parts []string
	if n := st.NotSent - st.NotSentLocal; n > 0 {
		parts = append(parts, fmt.Sprintf("%s never went out", requests(n)))
	}
	if p99 > LagWarning {
		parts = append(parts, fmt.Sprintf("%s went out more than %s late (send lag p99 %s)",
			requests(st.Late), s.Options().LateAfter, round(p99)))
	}
	var msg string
	if len(parts) > 0 {
		msg = strings.Join(parts, " and ") + ": " + analyze.GeneratorCause(s) +
			" limited this run, not the server; latencies include the wait (measured from the intended send time)"
	}
	if sh := analyze.LocalShortage(st); sh.NotSent > 0 {
		local := fmt.Sprintf("%s could not be sent: the generator ran out of %s (%s), which limited this run, not the server; "+
			"%s. They are counted as not sent, outside the latencies", requests(sh.NotSent), sh.Resource, sh.Example, sh.Advice)
		if msg == "" {
			return local
		}
		return local + "; also " + msg
	}
	return msg
}

func requests(n int64) string {
	if n == 1 {
		return "1 request"
	}
	return fmt.Sprintf("%d requests", n)
}

// round rounds d to the unit below its largest one, as vegeta's text report
// does: 1.234567s → 1.235s, 2m3.5s → 2m4s, 1.2345ms → 1.235ms.
func round(d time.Duration) time.Duration {
	units := [...]time.Duration{time.Hour, time.Minute, time.Second, time.Millisecond, time.Microsecond}
	for i, u := range units {
		if d >= u {
			if i+1 < len(units) {
				return d.Round(units[i+1])
			}
			return d.Round(time.Nanosecond)
		}
	}
	return d
}
