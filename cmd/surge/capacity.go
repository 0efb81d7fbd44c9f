package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/capacity"
	"github.com/surge-dev/surge/capacity/trial"
	"github.com/surge-dev/surge/report"
	"github.com/surge-dev/surge/result"
	surgerun "github.com/surge-dev/surge/run"
	"github.com/surge-dev/surge/scenario"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/target"
	"github.com/surge-dev/surge/threshold"
)

const capacityUsage = `capacity -slo 'p99<500ms,errors<1%' [flags] [URL | scenario.yaml]

Finds the highest request rate the target sustains within an SLO. It runs
constant-rate trials: doubling from -start until a trial fails (never above
-max), then bisecting between the last pass and the first failure with fresh
trials until they are within -precision. Each trial's first -warmup is
discarded. A trial passes when every objective holds and the server kept
up: it completed 95 % of the requests in time and its latency did not keep
rising (a growing queue breaks any SLO given time). A hard failure (errors
over 50 %, timeouts) stops the trial at once. Trials are judged on the
server's latency (latency less surge's send lag); requests surge cancels at
a trial's end are not errors. The trials at the last pass and the first
failure are run again, and a rate whose verdict changed does not bound the
answer. Each trial holds at least 10/(1-q) measured requests for the SLO's
pQ (p99: 1000): trials are lengthened to that, and without -start the
search starts where -step-duration holds them; a -start needing trials
over 10x longer is refused. Before each trial a 1s probe waits (up to 5
cooldowns) for the server's p50 to be back within 2x its baseline + 2ms.
A trial whose generator fell behind (send lag p99 over 10ms or a quarter
of the SLO's tightest bound), or that failed on latency by no more than
its longest send lag (its bursts could account for it), is run again; an
answer resting on such trials gives no rate, "unreliable: the generator
limited the trials". Against a target on this machine (loopback), an
answer whose failures all ran while the machine's CPU pressure was 50 %
or more gives no rate either: the server shared oversubscribed CPUs.
With -output, the probes are in the file as stages "probe before trial
N" with their requests labelled "probe: LABEL".

Exit codes: 0 an answer, 1 an error, 2 a usage error (a -step-duration
too short for the SLO's percentile), 5 no rate: unreliable trials or a
saturated machine.

The load is one URL, a targets file (-targets), or a scenario (.yaml): its
requests or flow then run as an open model at each trial's rate (one
iteration per tick; the scenario's own load profile is not used).

The SLO lists objectives joined by commas, each a threshold (the grammar
of scenario thresholds and 'surge report -thresholds') bounding a figure
from above: pNN<DURATION (p50, p99, p99.9), mean<DURATION, min<DURATION,
max<DURATION, errors<PERCENT; "<=" reads as "<".

Examples:
  surge capacity -slo 'p99<500ms,errors<1%' 'http://127.0.0.1:8088/pool?size=4&ms=50'
  surge capacity -slo 'p99<200ms' -start 50/1s -max 2000/1s -step-duration 20s -output trials.srg -targets api.http
  surge capacity -slo 'p95<1s,errors<0.1%' -type json URL | jq .max_rate
  surge capacity -slo 'p99<300ms' -step-duration 5s examples/search.yaml
  surge capacity -slo 'p99<200ms' -scrape http://127.0.0.1:9090/metrics -output trials.srg URL   # the server's signals through every trial`

// trialWarmup checks -step-duration and returns the -warmup of each trial:
// as given, or a fifth of the step (at most 5s) when 0.
func trialWarmup(step, warmup time.Duration) (time.Duration, error) {
	if step <= 0 {
		return 0, usagef("-step-duration must be positive")
	}
	if warmup == 0 {
		warmup = min(step/5, 5*time.Second)
	}
	if warmup >= step {
		return 0, usagef("-warmup %s leaves nothing of a %s trial", warmup, step)
	}
	return warmup, nil
}

func runCapacity(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "capacity", capacityUsage)
	var (
		start    = rateFlag{}
		maxRate  = rateFlag{schedule.Rate{Freq: 10000, Per: time.Second}}
		load     capacityLoad
		sloText  = fs.String("slo", "", "objectives, e.g. 'p99<500ms,errors<1%' (required)")
		step     = fs.Duration("step-duration", 10*time.Second, "length of each trial")
		warmup   = fs.Duration("warmup", 0, "start of each trial discarded (default: a fifth of -step-duration, at most 5s)")
		prec     = fs.String("precision", "5%", "stop bisecting when the pass/fail rates are this close")
		trials   = fs.Int("max-trials", 20, "most trials run")
		cooldown = fs.Duration("cooldown", time.Second, "pause between trials, for the target to drain")
		output   = fs.String("output", "", "results file of every trial, each a stage named 'trial N: RATE/s'")
		typ      = fs.String("type", "text", "output: text or json")
		quiet    = fs.Bool("quiet", false, "no progress on stderr")
	)
	load.file = fs.String("targets", "", "targets file (vegeta formats), instead of a URL argument")
	load.format = fs.String("format", "auto", "targets format: auto, urls, http (vegeta), json (vegeta)")
	load.timeout = fs.Duration("timeout", attack.DefaultTimeout, "per-request timeout")
	fs.Var(positiveFlag{&load.conns}, "connections", "max requests in flight (default as attack)")
	fs.Var(&start, "start", "first rate tried (default: 10/1s, or the rate at which a trial holds enough requests for the SLO's percentile)")
	fs.Var(&maxRate, "max", "highest rate ever tried (10000/1s)")
	fs.Var(&load.hdr, "header", "header added to every target, \"Key: Value\" (repeatable)")
	var sig signalOptions
	sig.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := sig.check(); err != nil {
		return err
	}
	if (len(sig.scrape.urls) > 0 || len(sig.watch.pids) > 0) && *output == "" {
		return usagef("-scrape and -watch record the server's signals into the results file: give -output FILE")
	}
	slo, err := capacitySLO(*sloText)
	if err != nil {
		return err
	}
	precision, err := parseRatio(*prec)
	if err != nil {
		return usagef("-precision: %v", err)
	}
	if *warmup, err = trialWarmup(*step, *warmup); err != nil {
		return err
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "start" })
	if given && start.r.IsMax() || maxRate.r.IsMax() {
		return usagef("-start and -max must be rates like 10/1s")
	}
	startRate, err := capacityStart(given, start.r.PerSecond(), slo, *step, *warmup)
	if err != nil {
		return err
	}
	if *typ != "text" && *typ != "json" {
		return usagef("-type %q: expected text or json", *typ)
	}
	cfg, err := load.config(e, fs.Args())
	if err != nil {
		return err
	}

	tr := &trial.Runner{Config: cfg, SLO: slo, Step: *step, Warmup: *warmup, Cooldown: *cooldown,
		Scrape: sig.scrape.urls, ScrapeInterval: sig.interval, Watch: sig.watch.pids}
	if !*quiet {
		tr.Progress = e.stderr
	}
	if *output != "" {
		f, err := os.Create(*output)
		if err != nil {
			return fmt.Errorf("create results file: %w", err)
		}
		defer f.Close()
		meta := surgerun.NewMeta(cfg, commandLine(fs))
		meta.Profile = fmt.Sprintf("capacity search %s from %s/s to %s, %s trials", slo, capacity.FormatRate(startRate), maxRate.r, *step)
		if tr.Output, err = result.NewWriter(f, meta); err != nil {
			return err
		}
		tr.Origin = time.Now()
	}
	c, err := capacity.Search(ctx, capacity.Options{Start: min(startRate, maxRate.r.PerSecond()), Max: maxRate.r.PerSecond(),
		Precision: precision, MaxTrials: *trials}, slo, tr.Run)
	if tr.Output != nil {
		if cerr := tr.Output.Close(); err == nil {
			err = cerr
		}
	}
	if c == nil {
		return err
	}
	if werr := writeCapacity(e, *typ, c); err == nil {
		err = werr
	}
	return err
}

// capacitySLO parses and checks the -slo flag.
func capacitySLO(text string) (threshold.SLO, error) {
	if text == "" {
		return nil, usagef("-slo is required, e.g. -slo 'p99<500ms,errors<1%%'")
	}
	slo, err := threshold.ParseSLO(text)
	if err == nil {
		err = capacity.CheckSLO(slo)
	}
	if err != nil {
		return nil, usagef("-slo: %v", err)
	}
	return slo, nil
}

// writeCapacity writes the outcome as text or JSON; an outcome that gives
// no rate ends with errUnreliable.
func writeCapacity(e *env, typ string, c *capacity.Outcome) error {
	write := report.CapacityText
	if typ == "json" {
		write = report.CapacityJSON
	}
	if err := write(e.stdout, c); err != nil {
		return err
	}
	if c.Unreliable {
		return errUnreliable
	}
	return nil
}

// exitUnreliable is the exit code of a capacity search whose answer rests
// on unreliable trials, so that it gives no rate.
const exitUnreliable = 5

// unreliableError ends a capacity search that gave no rate.
type unreliableError struct{}

var errUnreliable error = unreliableError{}

func (unreliableError) Error() string { return "no rate: the answer rests on unreliable trials" }
func (unreliableError) ExitCode() int { return exitUnreliable }

// capacityMaxLengthen bounds how much longer than -step-duration the first
// trial may be made to hold enough requests for the SLO's percentile.
const capacityMaxLengthen = 10

// capacityStart returns the first rate of the search: -start, or when not
// given, 10/s or, if higher, the rate at which a trial's measured part
// holds capacity.MinRequests(slo). A -start whose trial would have to be
// lengthened more than tenfold is refused before any load.
func capacityStart(given bool, r float64, slo threshold.SLO, step, warmup time.Duration) (float64, error) {
	need := float64(capacity.MinRequests(slo))
	measured := (step - warmup).Seconds()
	if !given {
		return max(10, math.Ceil(need/measured)), nil
	}
	if need/r > capacityMaxLengthen*measured {
		return 0, usagef("-step-duration %s is too short for %s at -start %s/s: the percentile needs %.0f measured requests "+
			"(10 above it), %.0fs of trial, over %d× the %s measured; raise -start to at least %.0f/s or -step-duration",
			step, slo, capacity.FormatRate(r), need, need/r, capacityMaxLengthen, step-warmup, math.Ceil(need/(capacityMaxLengthen*measured)))
	}
	return r, nil
}

// capacityLoad holds the flags that say what every trial requests.
type capacityLoad struct {
	file, format *string
	timeout      *time.Duration
	conns        int
	hdr          headerFlag
}

// config returns the engine configuration of every trial, without its rate
// and duration: a scenario's requests or flow, or the targets of a URL or
// a targets file.
func (l *capacityLoad) config(e *env, args []string) (attack.Config, error) {
	if len(args) == 1 && *l.file == "" && (strings.HasSuffix(args[0], ".yaml") || strings.HasSuffix(args[0], ".yml")) {
		// A scenario: each trial runs its requests or flow as an open model
		// at the trial's rate; its own load profile is not used.
		s, err := scenario.Load(args[0])
		if err != nil {
			return attack.Config{}, err
		}
		s.Load.Iterations, s.Load.IterationsPerUser = 0, 0 // trials end by time
		cfg := s.EngineConfig(s.Seed)
		cfg.Pacer, cfg.Users, cfg.Stages, cfg.Duration = nil, nil, nil, 0
		cfg.Connections, cfg.Grace = l.conns, 100*time.Millisecond
		if *l.timeout != attack.DefaultTimeout || cfg.Timeout == 0 {
			cfg.Timeout = *l.timeout
		}
		return cfg, nil
	}
	ts, err := capacityTargets(e, args, *l.file, *l.format)
	if err != nil {
		return attack.Config{}, err
	}
	target.ApplyDefaults(ts, l.hdr.h, nil)
	cfg := attack.Config{Targets: ts, Labels: labels(ts, ""), Connections: l.conns, Timeout: *l.timeout, Grace: 100 * time.Millisecond}
	if c, err := attack.NewFastClient(cfg); err == nil {
		cfg.Client = c
	}
	return cfg, nil
}

func capacityTargets(e *env, args []string, file, format string) ([]target.Target, error) {
	f, err := target.ParseFormat(format)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	switch {
	case file != "" && len(args) > 0:
		return nil, usagef("give a URL or -targets, not both")
	case file != "":
		fh, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("open targets: %w", err)
		}
		defer fh.Close()
		return target.Parse(fh, file, f)
	case len(args) == 1:
		return target.Parse(strings.NewReader("GET "+args[0]+"\n"), "argument", target.FormatHTTP)
	default:
		return nil, usagef("expected one URL argument or -targets FILE")
	}
}
