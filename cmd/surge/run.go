package main

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/result"
	surgerun "github.com/surge-dev/surge/run"
	"github.com/surge-dev/surge/scenario"
	"github.com/surge-dev/surge/summary"
	"github.com/surge-dev/surge/target"
	"github.com/surge-dev/surge/threshold"
)

const runUsage = `run [flags] scenario.yaml

Runs a scenario (see scenario/README.md): its requests or steps, with
templates, feeders, checks and extraction, under its load profile of
open-model rate stages or closed-model user stages. Writes the results file
(-output, default NAME-YYYYMMDD-HHMMSS.srg in the current directory), prints
the text report (warm-up left out) and the thresholds with their measured
values. A mistake in the scenario is reported as file:line: field before
any request is sent.

Exit codes: 0 all thresholds passed, 1 error (a bad scenario included),
2 bad command line, 3 a threshold failed.

Examples:
  surge run examples/search.yaml
  surge run -dry-run examples/login.yaml
  surge run -scale 0.1 -base-url http://127.0.0.1:9000 examples/search.yaml
  surge run -output before.srg -seed 42 examples/login.yaml
  surge run -repeat 3 -repeat-pause 5s -output before.srg examples/search.yaml   # 3 runs, reported and judged together`

// exitThresholds is the exit code of a run or report whose thresholds
// failed.
const exitThresholds = 3

// thresholdError says that thresholds failed; main exits with
// exitThresholds.
type thresholdError struct{ failed, total int }

func (e *thresholdError) Error() string {
	return fmt.Sprintf("%d of %d thresholds failed", e.failed, e.total)
}

func runRun(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "run", runUsage)
	output := fs.String("output", "", "results file (default NAME-YYYYMMDD-HHMMSS.srg in the current directory)")
	dry := fs.Bool("dry-run", false, "print the resolved plan (stages, expected counts, one rendered example of every request) and send nothing")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	seed := fs.Uint64("seed", 0, "RNG seed for templates and feeders (default: the scenario's seed, else random)")
	scale := fs.Float64("scale", 1, "multiply the profile's durations (delay, stages) and think times by this factor, e.g. 0.1 for a short rehearsal")
	base := fs.String("base-url", "", "replace the scenario's base_url")
	client := fs.String("client", "auto", "HTTP client for requests whose response is not read: auto, fast, net")
	// The closing report takes surge report's flags; its -output is
	// -report-output here, -output being the results file.
	var rf reportFlags
	rf.register(fs, "report-output")
	var live liveOptions
	live.register(fs)
	var rep repeatOptions
	rep.register(fs)
	var sig signalOptions
	sig.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := rep.check(); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("expected one scenario file, got %d arguments", fs.NArg())
	}
	if err := rf.check(); err != nil {
		return err
	}
	if *scale <= 0 {
		return usagef("-scale %v: expected a positive factor", *scale)
	}
	if *base != "" {
		if err := target.CheckURL(*base); err != nil {
			return usagef("-base-url: %v", err)
		}
	}
	s, err := scenario.LoadWith(fs.Arg(0), scenario.Options{BaseURL: *base})
	if err != nil {
		return err
	}
	s.Scale(*scale)
	sig.withScenario(fs, s)
	if err := sig.check(); err != nil {
		return err
	}
	if *dry {
		return s.DryRun(e.stdout)
	}
	if *seed == 0 {
		*seed = s.Seed
	}
	if *seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:])
		*seed = binary.LittleEndian.Uint64(b[:]) | 1
	}

	cfg := s.EngineConfig(*seed)
	if err := scenarioClient(&cfg, s, *client); err != nil {
		return err
	}
	name := *output
	if name == "" {
		name = fmt.Sprintf("%s-%s.srg", fileSafe(s.Name), time.Now().Format("20060102-150405"))
	}
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("create results file: %w", err)
	}
	live.quiet = *quiet
	plan := surgerun.Plan{Config: cfg, Thresholds: s.Thresholds}
	sig.into(&plan)
	newMeta := func() *result.Meta { return surgerun.ScenarioMeta(s, cfg, *seed, commandLine(fs)) }
	rs, err := rep.do(ctx, newMeta, func(meta *result.Meta) (surgerun.Outcome, error) {
		p := plan
		p.Meta = meta
		return surgerun.Do(ctx, p, surgerun.Outputs{Results: f, Live: live.views(e, cfg)})
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "surge run: wrote %s (%d results%s in %s)\n", name, rs.done, rs.inRuns(rep.n), rs.elapsed.Round(time.Millisecond))
	if ctx.Err() != nil {
		fmt.Fprintln(e.stderr, "surge run: interrupted")
	}

	// Report from the file, as 'surge report' would: the file is the truth.
	sm, err := rf.write(e, []string{name})
	if err != nil {
		return err
	}
	if sm == nil { // -type html read the file itself; thresholds need a summary
		sm = summary.New(rf.summaryOptions())
		if err := readResults(e, []string{name}, sm, nil); err != nil {
			return err
		}
	}
	verdicts := e.stdout
	if *rf.typ != "text" && (*rf.output == "stdout" || *rf.output == "-") {
		verdicts = e.stderr // keep a JSON or HTML report on stdout whole
	}
	return printVerdicts(verdicts, plan.Judge(sm))
}

// scenarioClient picks the client of a scenario run: the fast HTTP/1.1
// client when every request goes to a plain http URL without a proxy
// (requests whose response is read always use net/http), else net/http.
func scenarioClient(cfg *attack.Config, s *scenario.Scenario, name string) error {
	plain := func() error {
		reqs := s.Steps
		if reqs == nil {
			reqs = s.Requests
		}
		for _, r := range reqs {
			u := r.URL
			if !strings.HasPrefix(u, "http://") {
				if strings.Contains(u, "://") || strings.HasPrefix(u, "{{") || s.BaseURL == "" {
					return fmt.Errorf("request %s: URL %q may not be plain http", r.Name, target.RedactURL(r.URL))
				}
				u = s.BaseURL
			}
			pu, err := url.Parse(u)
			if err != nil || pu.Scheme != "http" {
				return fmt.Errorf("request %s: only http:// URLs", r.Name)
			}
			if p, _ := http.ProxyFromEnvironment(&http.Request{URL: pu}); p != nil {
				return fmt.Errorf("request %s: a proxy is set in the environment", r.Name)
			}
		}
		return nil
	}
	switch name {
	case "net":
		return nil
	case "auto", "", "fast":
		if err := plain(); err != nil {
			if name == "fast" {
				return usagef("-client fast: %v", err)
			}
			return nil
		}
		c, err := attack.NewFastClient(*cfg)
		if err != nil {
			if name == "fast" {
				return usagef("-client fast: %v", err)
			}
			return nil
		}
		cfg.Client = c
		return nil
	}
	return usagef("-client %q: expected auto, fast or net", name)
}

// fileSafe turns a scenario name into a file name part.
func fileSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ' ' || r == ':' {
			return '-'
		}
		return r
	}, s)
	if s == "" {
		return "run"
	}
	return s
}

// checkThresholds evaluates ths on the values get measures and prints the
// verdicts (see printVerdicts).
func checkThresholds(w io.Writer, ths []threshold.Threshold, get threshold.Measure) error {
	if len(ths) == 0 {
		return nil
	}
	return printVerdicts(w, threshold.Check(ths, get))
}

// printVerdicts prints one line per threshold with the measured value next
// to the bound, and returns a *thresholdError when any failed. No verdicts
// print nothing.
func printVerdicts(w io.Writer, vs []threshold.Verdict) error {
	if len(vs) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nThresholds:")
	for _, v := range vs {
		mark := "PASS"
		if !v.Pass {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s  %-32s measured %s\n", mark, v.Threshold.String(), v.Measured())
	}
	if failed := threshold.Failed(vs); failed > 0 {
		fmt.Fprintf(w, "%d of %d thresholds FAILED\n", failed, len(vs))
		return &thresholdError{failed, len(vs)}
	}
	fmt.Fprintf(w, "all %d thresholds passed\n", len(vs))
	return nil
}

// loadThresholds reads thresholds from a scenario file (.yaml, .yml) or
// a text file with one threshold per line (see threshold.ReadFile). With a
// scenario it returns the scenario too.
func loadThresholds(name string) ([]threshold.Threshold, *scenario.Scenario, error) {
	if ext := strings.ToLower(filepath.Ext(name)); ext == ".yaml" || ext == ".yml" {
		s, err := scenario.Load(name)
		if err != nil {
			return nil, nil, err
		}
		if len(s.Thresholds) == 0 {
			return nil, nil, fmt.Errorf("%s: the scenario has no thresholds", name)
		}
		return s.Thresholds, s, nil
	}
	ths, err := threshold.ReadFile(name)
	return ths, nil, err
}
