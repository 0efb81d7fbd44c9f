package main

import (
	"io"
	"strings"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/report"
	"github.com/surge-dev/surge/summary"
)

// reportFlags are the flags that shape a report: surge report's, and the
// same for the closing report of surge run, so that what one command
// reports the other can too.
type reportFlags struct {
	typ, bounds, pcts, output *string
	warm                      *bool

	opts    report.Options
	buckets []time.Duration // of -type hist[...]
}

// register adds the flags to fs; output names the report's -output flag
// ("" leaves it out: surge run's -output is its results file, so its
// report goes to -report-output).
func (r *reportFlags) register(fs interface {
	String(name, value, usage string) *string
	Bool(name string, value bool, usage string) *bool
}, output string) {
	r.typ = fs.String("type", "text", "report type: text, json, html, hist[BOUNDS]")
	r.bounds = fs.String("bounds", "800ms,1200ms", "Gatling-style distribution bounds")
	r.pcts = fs.String("percentiles", "", "percentiles to show, e.g. 50,75,90,99,99.9 (default: 50,90,95,99,99.9,99.99)")
	r.warm = fs.Bool("include-warmup", false, "count results recorded during warm-up")
	r.output = fs.String(output, "stdout", "where to write the report")
}

// check parses the flags' values, before any load is sent.
func (r *reportFlags) check() error {
	var err error
	if r.opts.Bounds, err = report.ParseBounds(*r.bounds); err != nil {
		return usagef("-bounds: %v", err)
	}
	if *r.pcts != "" {
		if r.opts.Percentiles, err = report.ParsePercentiles(*r.pcts); err != nil {
			return usagef("-percentiles: %v", err)
		}
	}
	switch t := *r.typ; {
	case t == "text", t == "json", t == "html":
	case strings.HasPrefix(t, "hist"):
		if r.buckets, err = report.ParseHistSpec(t); err != nil {
			return usagef("-type: %v", err)
		}
	default:
		return usagef("-type %q: expected text, json, html or hist[...]", t)
	}
	return nil
}

// summaryOptions are the summary's options the report needs (hist buckets
// are counted exactly as results stream in).
func (r *reportFlags) summaryOptions() summary.Options {
	return summary.Options{Bounds: r.opts.Bounds, IncludeWarmup: *r.warm, Hist: r.buckets}
}

// write reads files and writes the report of their results; it returns
// the summary for thresholds (nil for -type html, which reads them itself).
func (r *reportFlags) write(e *env, files []string) (*summary.Summary, error) {
	if *r.typ == "html" {
		so := r.summaryOptions()
		so.Hist = nil
		return nil, writeHTMLReport(e, files, false, so, report.DefaultMaxPoints, *r.output)
	}
	s := summary.New(r.summaryOptions())
	if err := readResults(e, files, s, s.AddInput); err != nil {
		return nil, err
	}
	f := analyze.Diagnose(s)
	err := writeOutput(e, *r.output, func(w io.Writer) error {
		switch t := *r.typ; {
		case t == "json":
			return report.JSON(w, s, f, r.opts)
		case strings.HasPrefix(t, "hist"):
			return report.Hist(w, s, r.buckets)
		}
		return report.Text(w, s, f, r.opts)
	})
	return s, err
}
