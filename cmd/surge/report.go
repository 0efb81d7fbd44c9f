package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/scenario"
	"github.com/surge-dev/surge/summary"
	"github.com/surge-dev/surge/threshold"
)

const reportUsage = `report [flags] [results files...]

Summarises one or more results files (stdin when none) as one report:
several files are merged, their percentiles computed from merged HDR
histograms. Reads stream; memory does not grow with the number of results.

Types:
  text                      vegeta's text report, then surge's additions
  html                      one self-contained HTML page with charts (as 'surge plot', files merged)
  json                      vegeta's JSON keys, then surge's additions
  hist[0,10ms,50ms,100ms]   a latency histogram with these bucket bounds

Examples:
  surge report run.srg
  surge report -type json run.srg > run.json
  surge report -type 'hist[0,10ms,50ms,100ms]' run.srg
  surge attack -rate 100 -duration 10s < targets.txt | surge report
  surge report -bounds 100ms,500ms -percentiles 50,90,99,99.9 shard-*.srg
  surge report -thresholds examples/search.yaml search.srg    # exit code 3 when one fails
  surge report -thresholds slo.txt run.srg                     # slo.txt: "p99 < 500ms" per line`

func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "report", reportUsage)
	var rf reportFlags
	rf.register(fs, "output")
	thfile := fs.String("thresholds", "", "evaluate the thresholds of this scenario YAML, or of this text file (one per line), after the report; exit code 3 when any fails")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var ths []threshold.Threshold
	var thScenario *scenario.Scenario
	if *thfile != "" {
		var err error
		if ths, thScenario, err = loadThresholds(*thfile); err != nil {
			return err
		}
	}
	if err := rf.check(); err != nil {
		return err
	}
	s, err := rf.write(e, fs.Args())
	if err != nil || s == nil {
		return err
	}
	var extra []string
	if thScenario != nil {
		extra = thScenario.CheckNames()
	}
	return checkThresholds(e.stdout, ths, threshold.MeasureSummary(s, threshold.Checks(s.Runs, extra...)))
}

// readResults streams every result of the named files (stdin when none) to
// c, with the server-signal readings in stream order (when c takes them)
// and each file's phase markers after its results, printing recoverable
// problems (truncated file, corrupt block, damaged header, no end-of-run
// record) to stderr with the file name. onInput (when not nil) gets, file
// by file, what was read of each run, for the reports' warnings. A
// consumer with an Err method that returns an error (an encoder whose
// output failed) stops the reading with that error.
func readResults(e *env, files []string, c result.Consumer, onInput func(summary.Input)) error {
	if len(files) == 0 {
		files = []string{"-"}
	}
	for _, name := range files {
		if err := readFile(e, name, c, onInput); err != nil {
			return err
		}
	}
	return nil
}

// failer is a result.Consumer that can fail.
type failer interface{ Err() error }

// readFile is readResults for one file ("-" for stdin), which it closes
// before returning.
func readFile(e *env, name string, c result.Consumer, onInput func(summary.Input)) error {
	var src io.Reader = e.stdin
	display := "stdin"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		src, display = f, name
	}
	rd := result.NewReader(src)
	rd.Warn = func(err error) {
		if errors.Is(err, result.ErrTruncated) {
			fmt.Fprintf(e.stderr, "warning: %s: %v (every whole block before it was read)\n", display, err)
			return
		}
		fmt.Fprintf(e.stderr, "warning: %s: %v\n", display, err)
	}
	if _, ok := c.(result.ScrapeConsumer); ok {
		rd.Scrape = func(s *result.Scrape) { result.AddScrape(c, &rd.Metas()[s.Run], s) }
	}
	fail, _ := c.(failer)
	var r result.Result
	for {
		err := rd.Read(&r)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", display, err)
		}
		c.Add(rd.Meta(), &r)
		if fail != nil {
			if err := fail.Err(); err != nil {
				return err
			}
		}
	}
	metas := rd.Metas()
	for _, mk := range rd.Markers() {
		c.AddMarker(&metas[mk.Run], mk)
	}
	runs := rd.Runs()
	for i, rr := range runs {
		in := summary.Input{File: display, Run: i + 1, Runs: len(runs), Read: rr}
		if w := in.Warning(); w != "" {
			fmt.Fprintf(e.stderr, "warning: %s\n", w)
		}
		if onInput != nil {
			onInput(in)
		}
	}
	return nil
}

// writeOutput runs write on stdout or on the named file.
func writeOutput(e *env, name string, write func(io.Writer) error) error {
	if name == "" || name == "stdout" || name == "-" {
		return write(e.stdout)
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
