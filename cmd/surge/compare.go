package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/report"
	"github.com/surge-dev/surge/summary"
)

const compareUsage = `compare [flags] before.srg [more before...] -- after.srg [more after...]
       surge compare [flags] before.srg after.srg

Compares runs before and after a change, per label and overall: count,
error rate, mean, p50, p90, p95, p99, max and throughput, each before →
after with its change, a bootstrap confidence interval and a verdict
(improved, regressed, no significant change). Several files per side are
repeated runs (a file may hold several). Requests inside a run are not
independent (they share GC pauses, queues, caches), so the intervals
resample time blocks within each run, not single requests; and two runs of
the same thing differ by more than either varies inside, so with 3 or more
runs a side the runs are resampled too and the intervals cover the drift
between runs. With fewer that drift cannot be measured: only changes
beyond a figure's minimum (mean, p50 and throughput 10 %, p90 30 %, p95
50 %, p99 100 %, errors 1 point: the drift measured between single runs of
the same load) and beyond the same figure of the runs' send lag are called,
and the output says so. A run the generator limited, or that other
processes starved of CPU, is named and left out of the verdicts
(-include-limited keeps it). Warm-up results are left out on both sides,
and so is the same start of every run when a cold phase is found (-warmup).

Exit codes: 0, or 4 when -fail-on-regression is set and a -metrics figure
got worse by more than the bound beyond noise (a CI gate). A figure not
judged fails no gate; a gate that could judge none of its figures (every
run of a side left out) says so on stderr.

Examples:
  surge compare before.srg after.srg
  surge compare -type markdown b1.srg b2.srg b3.srg -- a1.srg a2.srg a3.srg >> $GITHUB_STEP_SUMMARY
  surge compare -fail-on-regression 5% -metrics p99,errors before.srg after.srg`

// exitRegression is the exit code of a compare whose gate failed.
const exitRegression = 4

// exitCoder is an error that chooses its exit code.
type exitCoder interface {
	error
	ExitCode() int
}

// regressionError lists the figures that failed the -fail-on-regression gate.
type regressionError struct {
	bound float64
	found []analyze.LabelMetric
}

func (e *regressionError) ExitCode() int { return exitRegression }

func (e *regressionError) Error() string {
	parts := make([]string, len(e.found))
	for i, m := range e.found {
		name := m.Label
		if m.All {
			name = "all requests"
		}
		parts[i] = fmt.Sprintf("%s %s worse by at least %.1f%%", name, m.Name, 100*m.WorseBy())
	}
	return fmt.Sprintf("regression beyond %.1f%% and noise: %s", 100*e.bound, strings.Join(parts, "; "))
}

func runCompare(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "compare", compareUsage)
	typ := fs.String("type", "text", "output: text, json or markdown")
	gate := addRegressionGate(fs)
	warmup := fs.String("warmup", "auto", "start of every run left out on both sides: auto (the latest cold phase found), 0 or a duration")
	resamples := fs.Int("resamples", analyze.DefaultResamples, "bootstrap resamples")
	conf := fs.Float64("confidence", analyze.DefaultConfidence, "confidence level of the intervals, in (0,1)")
	block := fs.Duration("block", summary.DefaultBlock, "time block width (blocks widen for runs longer than 512 blocks)")
	output := fs.String("output", "stdout", "where to write the comparison")
	includeLimited := fs.Bool("include-limited", false, "judge the runs the generator limited or the machine starved of CPU too (by default they are named and left out)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	before, after, err := splitSides(fs.Args())
	if err != nil {
		return err
	}
	o := analyze.CompareOptions{Resamples: *resamples, Confidence: *conf, Warmup: -1, IncludeLimited: *includeLimited}
	if *warmup != "auto" {
		if o.Warmup, err = time.ParseDuration(*warmup); err != nil && *warmup != "0" {
			return usagef("-warmup %q: expected auto, 0 or a duration like 5s", *warmup)
		}
		o.Warmup = max(o.Warmup, 0)
	}
	if err := gate.check(); err != nil {
		return err
	}
	var render func(io.Writer, *analyze.Comparison) error
	switch *typ {
	case "text":
		render = report.CompareText
	case "json":
		render = report.CompareJSON
	case "markdown", "md":
		render = report.CompareMarkdown
	default:
		return usagef("-type %q: expected text, json or markdown", *typ)
	}
	sides := [2]*summary.Blocks{summary.NewBlocks(*block), summary.NewBlocks(*block)}
	for i, files := range [2][]string{before, after} {
		for _, f := range files {
			sides[i].Source = f
			if err := readResults(e, []string{f}, sides[i], nil); err != nil {
				return err
			}
		}
	}
	c := analyze.Compare(sides[0], sides[1], o)
	if err := writeOutput(e, *output, func(w io.Writer) error { return render(w, c) }); err != nil {
		return err
	}
	return gate.judge(e.stderr, c)
}

// regressionGate is the -fail-on-regression and -metrics flags, the CI
// gate of compare and ab.
type regressionGate struct {
	bound, metrics string
	ratio          float64
	names          []string
}

// addRegressionGate registers the gate's flags on fs.
func addRegressionGate(fs *flag.FlagSet) *regressionGate {
	g := &regressionGate{}
	fs.StringVar(&g.bound, "fail-on-regression", "", "exit 4 when a -metrics figure got worse by more than this beyond noise (5% or 0.05; for errors, percentage points)")
	fs.StringVar(&g.metrics, "metrics", "mean,p50,p90,p95,p99,errors,throughput", "figures the gate checks")
	return g
}

// check validates the gate's flags, before any result is read or load sent.
func (g *regressionGate) check() error {
	var err error
	if g.bound != "" {
		if g.ratio, err = parseRatio(g.bound); err != nil {
			return usagef("-fail-on-regression: %v", err)
		}
	}
	g.names = strings.Split(g.metrics, ",")
	for _, n := range g.names {
		if !slices.Contains(analyze.Metrics, n) {
			return usagef("-metrics: unknown figure %q (expected some of %s)", n, strings.Join(analyze.Metrics, ","))
		}
	}
	return nil
}

// judge returns a *regressionError when the gate is set and c has a
// -metrics figure, of any label, that got worse by more than its bound
// beyond noise. A gate that could judge none of its figures passes, as a
// figure not judged is no regression, but says so on stderr, so that a CI
// log does not read a pass on nothing as a pass on the figures.
func (g *regressionGate) judge(stderr io.Writer, c *analyze.Comparison) error {
	if g.bound == "" {
		return nil
	}
	if found := c.Regressions(g.ratio, g.names); len(found) > 0 {
		return &regressionError{g.ratio, found}
	}
	if len(c.Labels) > 0 && !slices.ContainsFunc(c.Labels[0].Metrics, func(m analyze.Metric) bool {
		return m.Verdict != analyze.NotJudged && slices.Contains(g.names, m.Name)
	}) {
		fmt.Fprintf(stderr, "-fail-on-regression %s: none of %s could be judged (see the WARNING lines and the noise line); passed on nothing\n", g.bound, g.metrics)
	}
	return nil
}

// splitSides splits the arguments at "--", or takes exactly two files.
func splitSides(args []string) (before, after []string, err error) {
	if i := slices.Index(args, "--"); i >= 0 {
		before, after = args[:i], args[i+1:]
	} else if len(args) == 2 {
		before, after = args[:1], args[1:]
	} else {
		return nil, nil, usagef("expected before.srg after.srg, or several files per side separated by --")
	}
	if len(before) == 0 || len(after) == 0 {
		return nil, nil, usagef("each side needs at least one results file")
	}
	return before, after, nil
}

// parseRatio parses "5%" or "0.05" into 0.05.
func parseRatio(s string) (float64, error) {
	v, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%q: expected a percentage like 5%% or a ratio like 0.05", s)
	}
	if pct {
		f /= 100
	}
	return f, nil
}
