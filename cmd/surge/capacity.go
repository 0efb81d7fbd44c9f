package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/scenario"
	"github.com/surge-dev/surge/target"
)

const capacityUsage = `capacity -slo 'p99<500ms,errors<1%' [flags] [URL | scenario.yaml]

Finds the highest request rate the target sustains within an SLO. It runs
constant-rate trials: doubling from -start until a trial fails (never above
-max), then bisecting between the last pass and the first failure with fresh
trials until they are within -precision. Each trial's first -warmup is
discarded. A trial passes when every objective holds and the server kept
up: it completed 95 % of the requests in time and its latency did not keep
rising (a growing queue breaks any SLO given time). A hard failure (errors
over 50 %, timeouts) stops the trial at once.

The load is one URL, a targets file (-targets), or a scenario (.yaml): its
requests or flow then run as an open model at each trial's rate (one
iteration per tick; the scenario's own load profile is not used).

The SLO lists objectives joined by commas: pNN<DURATION (p50, p99, p99.9),
mean<DURATION, max<DURATION, errors<PERCENT.

Examples:
  surge capacity -slo 'p99<500ms,errors<1%' http://127.0.0.1:8088/pool?size=4&ms=50
  surge capacity -slo 'p99<200ms' -start 50/1s -max 2000/1s -step-duration 20s -output trials.srg -targets api.http
  surge capacity -slo 'p95<1s,errors<0.1%' -type json URL | jq .max_rate
  surge capacity -slo 'p99<300ms' -step-duration 5s examples/search.yaml`

func runCapacity(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "capacity", capacityUsage)
	var (
		start    = rateFlag{attack.Rate{Freq: 10, Per: time.Second}}
		maxRate  = rateFlag{attack.Rate{Freq: 10000, Per: time.Second}}
		hdr      headerFlag
		sloText  = fs.String("slo", "", "objectives, e.g. 'p99<500ms,errors<1%' (required)")
		step     = fs.Duration("step-duration", 10*time.Second, "length of each trial")
		warmup   = fs.Duration("warmup", 0, "start of each trial discarded (default: a fifth of -step-duration, at most 5s)")
		prec     = fs.String("precision", "5%", "stop bisecting when the pass/fail rates are this close")
		trials   = fs.Int("max-trials", 20, "most trials run")
		cooldown = fs.Duration("cooldown", time.Second, "pause between trials, for the target to drain")
		output   = fs.String("output", "", "results file of every trial, each a stage named 'trial N: RATE/s'")
		typ      = fs.String("type", "text", "output: text or json")
		tfile    = fs.String("targets", "", "targets file (vegeta formats), instead of a URL argument")
		tfmt     = fs.String("format", "auto", "targets format: auto, urls, http (vegeta), json (vegeta)")
		conns    = new(int)
		timeout  = fs.Duration("timeout", attack.DefaultTimeout, "per-request timeout")
		quiet    = fs.Bool("quiet", false, "no progress on stderr")
	)
	fs.Var(positiveFlag{conns}, "connections", "max requests in flight (default as attack)")
	fs.Var(&start, "start", "first rate tried (10/1s)")
	fs.Var(&maxRate, "max", "highest rate ever tried (10000/1s)")
	fs.Var(&hdr, "header", "header added to every target, \"Key: Value\" (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *sloText == "" {
		return usagef("-slo is required, e.g. -slo 'p99<500ms,errors<1%%'")
	}
	slo, err := analyze.ParseSLO(*sloText)
	if err != nil {
		return usagef("-slo: %v", err)
	}
	precision, err := parseRatio(*prec)
	if err != nil {
		return usagef("-precision: %v", err)
	}
	if start.r.IsMax() || maxRate.r.IsMax() {
		return usagef("-start and -max must be rates like 10/1s")
	}
	if *step <= 0 {
		return usagef("-step-duration must be positive")
	}
	if *warmup == 0 {
		*warmup = min(*step/5, 5*time.Second)
	}
	if *warmup >= *step {
		return usagef("-warmup %s leaves nothing of a %s trial", *warmup, *step)
	}
	if *typ != "text" && *typ != "json" {
		return usagef("-type %q: expected text or json", *typ)
	}
	var cfg attack.Config
	if a := fs.Args(); len(a) == 1 && *tfile == "" && (strings.HasSuffix(a[0], ".yaml") || strings.HasSuffix(a[0], ".yml")) {
		// A scenario: each trial runs its requests or flow as an open model
		// at the trial's rate; its own load profile is not used.
		s, err := scenario.Load(a[0])
		if err != nil {
			return err
		}
		s.Load.Iterations, s.Load.IterationsPerUser = 0, 0 // trials end by time
		cfg = attack.ScenarioConfig(s, s.Seed)
		cfg.Pacer, cfg.Users, cfg.Stages, cfg.Duration = nil, nil, nil, 0
		cfg.Connections, cfg.Grace = *conns, 100*time.Millisecond
		if *timeout != attack.DefaultTimeout || cfg.Timeout == 0 {
			cfg.Timeout = *timeout
		}
	} else {
		ts, err := capacityTargets(e, fs.Args(), *tfile, *tfmt)
		if err != nil {
			return err
		}
		target.ApplyDefaults(ts, hdr.h, nil)
		cfg = attack.Config{Targets: ts, Labels: labels(ts, ""), Connections: *conns, Timeout: *timeout, Grace: 100 * time.Millisecond}
		if c, err := attack.NewFastClient(cfg); err == nil {
			cfg.Client = c
		}
	}

	tr := &trialRunner{cfg: cfg, slo: slo, step: *step, warmup: *warmup, cooldown: *cooldown, stderr: e.stderr, quiet: *quiet}
	if *output != "" {
		f, err := os.Create(*output)
		if err != nil {
			return fmt.Errorf("create results file: %w", err)
		}
		defer f.Close()
		meta := newMeta(cfg, commandLine(fs))
		meta.Profile = fmt.Sprintf("capacity search %s from %s to %s, %s trials", slo, start.r, maxRate.r, *step)
		if tr.w, err = result.NewWriter(f, meta); err != nil {
			return err
		}
		tr.origin = time.Now()
	}
	capacity, err := analyze.Search(ctx, analyze.SearchOptions{Start: start.r.PerSecond(), Max: maxRate.r.PerSecond(),
		Precision: precision, MaxTrials: *trials}, slo, tr.run)
	if tr.w != nil {
		if cerr := tr.w.Close(); err == nil {
			err = cerr
		}
	}
	if capacity == nil {
		return err
	}
	if werr := writeCapacity(e.stdout, *typ, capacity); err == nil {
		err = werr
	}
	return err
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

// trialRunner runs the constant-rate trials of a capacity search and
// writes them, shifted onto one time line, to one results file.
type trialRunner struct {
	cfg                    attack.Config
	slo                    analyze.SLO
	step, warmup, cooldown time.Duration
	stderr                 io.Writer
	quiet                  bool

	w      *result.Writer
	origin time.Time
	seq    uint64
}

// trialRate turns requests/s into an attack.Rate exact to 1/100 request/s.
func trialRate(perSecond float64) attack.Rate {
	return attack.Rate{Freq: max(1, int(math.Round(perSecond*100))), Per: 100 * time.Second}
}

func (t *trialRunner) run(ctx context.Context, n int, rate float64) (analyze.Trial, error) {
	if n > 1 && t.cooldown > 0 {
		select {
		case <-time.After(t.cooldown):
		case <-ctx.Done():
			return analyze.Trial{}, ctx.Err()
		}
	}
	cfg := t.cfg
	cfg.Rate, cfg.Duration = trialRate(rate), t.step
	a, err := attack.New(cfg)
	if err != nil {
		return analyze.Trial{}, err
	}
	var shift time.Duration
	if t.w != nil {
		shift = time.Since(t.origin)
		name := fmt.Sprintf("trial %d: %s/s", n, formatRate(rate))
		if err := t.w.WriteMarker(&result.Marker{At: shift, Kind: result.MarkStage, Name: name,
			Attrs: map[string]string{"rate": formatRate(rate)}}); err != nil {
			return analyze.Trial{}, err
		}
	}
	// The trial ends with its schedule plus time to drain; requests still
	// in flight then are far beyond any SLO and are cancelled.
	drain := max(2*time.Second, 2*t.slo.MaxLatency())
	tctx, cancel := context.WithTimeout(ctx, t.step+drain)
	defer cancel()
	var stopped bool
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		// Hard failure: most requests fail; stop the trial at once.
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				st := a.Stats()
				if d := st.Done.Load(); d >= 20 && float64(st.Errors.Load()) > analyze.HardErrors*float64(d) {
					mu.Lock()
					stopped = true
					mu.Unlock()
					cancel()
					return
				}
			}
		}
	}()
	rec := analyze.NewTrialRecorder(t.warmup, t.step)
	err = a.Run(tctx, func(b []result.Result) error {
		for i := range b {
			r := &b[i]
			rec.Add(r)
			if t.w != nil {
				r.Seq += t.seq
				r.Intended += shift
				r.Sent += shift
				if err := t.w.Write(r); err != nil {
					return err
				}
			}
		}
		return nil
	})
	close(done)
	if t.w != nil {
		t.seq += uint64(a.Stats().Done.Load())
		if ferr := t.w.Flush(); err == nil {
			err = ferr
		}
	}
	if err != nil {
		return analyze.Trial{}, err
	}
	if ctx.Err() != nil {
		return analyze.Trial{}, ctx.Err()
	}
	tr := rec.Judge(n, rate, t.slo)
	mu.Lock()
	if stopped {
		tr.Stopped, tr.Hard, tr.Pass = true, true, false
		tr.Why = "hard failure, stopped early: " + tr.Why
	}
	mu.Unlock()
	if !t.quiet {
		verdict := "pass"
		if !tr.Pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(t.stderr, "trial %d: %s/s: p50 %s, p99 %s, errors %.2f%%: %s (%s)\n", n, formatRate(rate),
			round3(tr.P50), round3(tr.P99), 100*tr.Errors, verdict, tr.Why)
	}
	return tr, nil
}

func formatRate(r float64) string {
	if r == math.Trunc(r) {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.2f", r)
}

// round3 keeps 3 significant digits of d, for tables.
func round3(d time.Duration) time.Duration {
	for u := time.Hour; u >= time.Microsecond; u /= 10 {
		if d >= u*100 {
			return d.Round(u)
		}
	}
	return d
}

func writeCapacity(w io.Writer, typ string, c *analyze.Capacity) error {
	if typ == "json" {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return enc.Encode(c)
	}
	tw := newTabWriterCmd(w)
	fmt.Fprintln(tw, "Trial\tRate\tRequests\tp50\tp99\tErrors\tThroughput\tVerdict")
	for _, t := range c.Trials {
		v := "pass"
		if !t.Pass {
			v = "fail: " + t.Why
		}
		fmt.Fprintf(tw, "%d\t%s/s\t%d\t%s\t%s\t%.2f%%\t%.1f/s\t%s\n", t.N, formatRate(t.Rate), t.Requests,
			round3(t.P50), round3(t.P99), 100*t.Errors, t.Throughput, v)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s\n", c.Text)
	return err
}

func newTabWriterCmd(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0) }
