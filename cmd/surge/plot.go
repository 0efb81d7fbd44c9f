package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/report"
	"github.com/surge-dev/surge/summary"
)

const plotUsage = `plot [flags] [results files...]

Writes one self-contained HTML page (no network needed to open it) with
charts of the runs: the latency of every request over time, coloured by
status (sampled above -points requests, the slowest of every time slice
kept); percentiles, throughput, offered rate, errors and in-flight over
time, with the spike episodes the analysis found shaded; the server
signals recorded during the run (-scrape, -watch) under them on the same
time axis; the latency distribution with the Gatling bounds; the percentile
spectrum; the findings, per-label figures and each run's metadata. Each file is one run,
overlaid in its own colour (stdin when no file is named).

Examples:
  surge plot run.srg > run.html
  surge plot -output rates.html rate1.srg rate20.srg rate50.srg
  surge attack -rate 100 -duration 10s < targets.txt | surge plot > run.html`

func runPlot(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "plot", plotUsage)
	bounds := fs.String("bounds", "800ms,1200ms", "Gatling-style distribution bounds")
	warm := fs.Bool("include-warmup", false, "count results recorded during warm-up")
	points := fs.Int("points", report.DefaultMaxPoints, "most request points drawn per page, shared by the runs")
	output := fs.String("output", "stdout", "where to write the HTML page")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	b, err := report.ParseBounds(*bounds)
	if err != nil {
		return usagef("-bounds: %v", err)
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	return writeHTMLReport(e, files, true, summary.Options{Bounds: b, IncludeWarmup: *warm}, *points, *output)
}

// htmlWindow is the initial width of the time windows of HTML reports:
// fine enough to see a 300ms pause in a short run; long runs widen it.
const htmlWindow = 250 * time.Millisecond

// writeHTMLReport reads files and writes their HTML report to output: one
// run per file when perFile, else one merged run (as 'surge report' merges).
// maxPoints is the request-point budget of the whole page.
func writeHTMLReport(e *env, files []string, perFile bool, so summary.Options, maxPoints int, output string) error {
	groups := [][]string{files}
	if perFile {
		groups = nil
		for _, f := range files {
			groups = append(groups, []string{f})
		}
	}
	if so.Window == 0 {
		so.Window = htmlWindow
	}
	runs := make([]report.Run, 0, len(groups))
	for _, g := range groups {
		run := report.Run{Name: runName(g), Summary: summary.New(so), Points: report.NewPoints(maxPoints / len(groups))}
		if err := readResults(e, g, &run, run.Summary.AddInput); err != nil {
			return err
		}
		run.Findings = analyze.Diagnose(run.Summary)
		runs = append(runs, run)
	}
	return writeOutput(e, output, func(w io.Writer) error {
		return report.HTML(w, runs, report.Options{Bounds: so.Bounds})
	})
}

// runName names a run in legends: its file name without .srg, or stdin.
func runName(files []string) string {
	names := make([]string, len(files))
	for i, f := range files {
		if f == "-" {
			names[i] = "stdin"
			continue
		}
		names[i] = strings.TrimSuffix(filepath.Base(f), ".srg")
	}
	return strings.Join(names, "+")
}
