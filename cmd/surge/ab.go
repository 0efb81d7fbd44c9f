package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/report"
	"github.com/surge-dev/surge/result"
	surgerun "github.com/surge-dev/surge/run"
	"github.com/surge-dev/surge/scenario"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/summary"
	"github.com/surge-dev/surge/target"
)

const abUsage = `ab [flags] -a URL_A -b URL_B
       surge ab [flags] -scenario file.yaml -a BASE_URL_A -b BASE_URL_B

Interleaved A/B: compares two live versions side by side. Sends the same
load to A and to B in short alternating rounds, in the order A B B A A B B A
…, so that drift of the machine or the network during the test (another
job starting, a cache warming, a thermal limit) hits both sides alike, then
prints compare's verdict of B against A, each round one run of its side.
Sequential runs (all of A, then all of B) put any drift between them into
the difference; alternating rounds spread it over both. ABBA rather than
ABAB: with a steady drift, A's and B's rounds then have the same mean
time, where ABAB puts every B half a round pair later.

With -scenario, each labelled request of the scenario is compared on its
own too, as compare does per label. A round the generator limited, or
that other processes starved of CPU, is named and left out of the verdicts
(-include-limited keeps it). Each round of a side is a run of its own in
-output-a or -output-b when given, so "surge compare a.srg b.srg" can
compare them again with other options. Ctrl-C stops after the round in
progress and compares what ran. Quote URLs that hold & or ?.

Exit codes: 0, or 4 when -fail-on-regression is set and a -metrics figure
of B, overall or of any label, got worse than A's by more than the bound
beyond noise (a CI gate, as compare's). A figure left unjudged (every round
of a side limited) fails no gate: the WARNING lines say why, and a gate
that could judge none of its figures says so on stderr.

Examples:
  surge ab -a 'http://127.0.0.1:8088/fixed?ms=10' -b 'http://127.0.0.1:8089/fixed?ms=10'
  surge ab -a http://old.internal:8080/api/items -b http://new.internal:8080/api/items -rounds 10 -round-duration 3s -rate 200 -output-a a.srg -output-b b.srg
  surge ab -a "$OLD/search?q=x&page=2" -b "$NEW/search?q=x&page=2" -header "Authorization: Bearer $TOKEN" -type markdown
  surge ab -fail-on-regression 10% -metrics p50,p99,errors -a "$OLD/search?q=x&page=2" -b "$NEW/search?q=x&page=2"
  surge ab -scenario examples/search.yaml -a http://old.internal:8080 -b http://new.internal:8080 -rounds 6 -round-duration 5s -fail-on-regression 5% -metrics p50`

// abOptions are the flags of surge ab.
type abOptions struct {
	urls, outputs [2]string
	method, typ   string
	scenario      string
	rounds        int
	round, pause  time.Duration
	rate          rateFlag
	hdr           headerFlag
	opts          attackOptions
	gate          *regressionGate
	limited       bool
}

func runAB(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "ab", abUsage)
	o := abOptions{rate: rateFlag{schedule.Rate{Freq: 50, Per: time.Second}}}
	o.opts = attackOptions{keepalive: true, http2: true, eventLoop: true, redirects: attack.DefaultRedirects}
	fs.StringVar(&o.urls[0], "a", "", "URL of version A, the baseline (before)")
	fs.StringVar(&o.urls[1], "b", "", "URL of version B, compared against A (after)")
	fs.StringVar(&o.method, "method", "GET", "HTTP method of both")
	fs.StringVar(&o.scenario, "scenario", "", "run this scenario file in every round instead of one URL; -a and -b are then the two base URLs (its load profile is cut at -round-duration; -rate and the load flags do not apply)")
	fs.IntVar(&o.rounds, "rounds", 10, "rounds per side")
	fs.DurationVar(&o.round, "round-duration", 3*time.Second, "length of each round")
	fs.DurationVar(&o.pause, "round-pause", 0, "wait this long between rounds")
	fs.Var(&o.rate, "rate", "requests per time unit in every round (100/1s, 100); 0 or max = as fast as -connections allow")
	fs.Var(&o.hdr, "header", "header sent to both, \"Key: Value\" (repeatable)")
	fs.Var(positiveFlag{&o.opts.connections}, "connections", fmt.Sprintf("`N` requests in flight at most (default %d with a rate, %d at max rate)", attack.DefaultOpenConnections, attack.DefaultMaxConnections))
	fs.DurationVar(&o.opts.timeout, "timeout", attack.DefaultTimeout, "per-request timeout")
	fs.BoolVar(&o.opts.keepalive, "keepalive", true, "reuse connections")
	fs.BoolVar(&o.opts.insecure, "insecure", false, "skip TLS certificate verification")
	fs.StringVar(&o.opts.client, "client", "auto", "HTTP client: auto, fast, net")
	fs.StringVar(&o.outputs[0], "output-a", "", "results file of A's rounds (default: none kept)")
	fs.StringVar(&o.outputs[1], "output-b", "", "results file of B's rounds (default: none kept)")
	fs.StringVar(&o.typ, "type", "text", "comparison output: text, json or markdown")
	fs.BoolVar(&o.opts.quiet, "quiet", false, "no line per round on stderr")
	fs.BoolVar(&o.limited, "include-limited", false, "judge the rounds the generator limited or the machine starved of CPU too (by default they are named and left out)")
	o.gate = addRegressionGate(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	render, err := o.check(fs.NArg())
	if err != nil {
		return err
	}
	cfgs, err := o.configs(commandLine(fs))
	if err != nil {
		return err
	}
	sides, err := o.rounds2(ctx, e, cfgs)
	if err != nil {
		return err
	}
	if len(sides[0].Runs()) == 0 || len(sides[1].Runs()) == 0 {
		return fmt.Errorf("interrupted before both sides ran a round")
	}
	fmt.Fprintf(e.stdout, "Interleaved A/B, rounds of %s in the order ABBA: A = %s, B = %s.\n", o.round, target.RedactURL(o.urls[0]), target.RedactURL(o.urls[1]))
	c := analyze.Compare(sides[0], sides[1], analyze.CompareOptions{Warmup: -1, IncludeLimited: o.limited, MoreRuns: "-rounds"})
	if err := render(e.stdout, c); err != nil {
		return err
	}
	return o.gate.judge(e.stderr, c)
}

// abSide is what a round of one side runs: its engine config and a fresh
// header for each round.
type abSide struct {
	cfg  attack.Config
	meta func() *result.Meta
}

// configs builds the two sides: one URL each, or the scenario with each
// side's base URL.
func (o *abOptions) configs(command []string) ([2]abSide, error) {
	var sides [2]abSide
	for i, u := range o.urls {
		flag := fmt.Sprintf("-%c", 'a'+i)
		if o.scenario != "" {
			if err := target.CheckURL(u); err != nil {
				return sides, usagef("%s: %v", flag, err)
			}
			sc, err := scenario.LoadWith(o.scenario, scenario.Options{BaseURL: u})
			if err != nil {
				return sides, err
			}
			cfg := sc.EngineConfig(sc.Seed | 1)
			if err := scenarioClient(&cfg, sc, o.opts.client); err != nil {
				return sides, err
			}
			cfg.Duration = o.round
			if cfg.Pacer != nil {
				// The round's stop timer fires late on a starved machine;
				// the schedule itself must end at the cut.
				cfg.Pacer = schedule.Until(cfg.Pacer, o.round)
			}
			sides[i] = abSide{cfg, func() *result.Meta { return surgerun.ScenarioMeta(sc, cfg, sc.Seed|1, command) }}
			continue
		}
		ts, err := target.Parse(strings.NewReader(u), flag, target.FormatURLs)
		if err != nil || len(ts) != 1 {
			return sides, usagef("%s %q: expected one URL (%v)", flag, u, err)
		}
		ts[0].Method = o.method
		target.ApplyDefaults(ts, o.hdr.h, nil)
		cfg, err := o.opts.config(ts, o.rate.r)
		if err != nil {
			return sides, err
		}
		cfg.Duration = o.round
		sides[i] = abSide{cfg, func() *result.Meta { return surgerun.NewMeta(cfg, command) }}
	}
	return sides, nil
}

// check validates the flags and returns the renderer of -type.
func (o *abOptions) check(nargs int) (func(io.Writer, *analyze.Comparison) error, error) {
	switch {
	case nargs > 0:
		return nil, usagef("unexpected arguments: the two versions are -a URL and -b URL")
	case o.urls[0] == "" || o.urls[1] == "":
		return nil, usagef("expected -a URL_A and -b URL_B")
	case o.rounds < 1:
		return nil, usagef("-rounds %d: expected 1 or more rounds per side", o.rounds)
	case o.round <= 0:
		return nil, usagef("-round-duration %v: expected a positive duration such as 3s", o.round)
	case o.pause < 0:
		return nil, usagef("-round-pause %v: expected 0 or a positive duration", o.pause)
	}
	if err := o.gate.check(); err != nil {
		return nil, err
	}
	switch o.typ {
	case "text":
		return report.CompareText, nil
	case "json":
		return report.CompareJSON, nil
	case "markdown", "md":
		return report.CompareMarkdown, nil
	}
	return nil, usagef("-type %q: expected text, json or markdown", o.typ)
}

// abOrder is the side of round i (from 0): A B B A, repeated.
func abOrder(i int) int {
	if p := i % 4; p == 1 || p == 2 {
		return 1
	}
	return 0
}

// rounds2 runs 2·o.rounds rounds in ABBA order, each a run.Do of its
// side's config, and returns each side's time blocks. It stops after the
// round in progress when ctx ends.
func (o *abOptions) rounds2(ctx context.Context, e *env, cfgs [2]abSide) ([2]*summary.Blocks, error) {
	sides := [2]*summary.Blocks{summary.NewBlocks(0), summary.NewBlocks(0)}
	var files [2]*os.File
	for i, name := range o.outputs {
		if name == "" {
			continue
		}
		f, err := os.Create(name)
		if err != nil {
			return sides, fmt.Errorf("create results file: %w", err)
		}
		defer f.Close()
		files[i] = f
	}
	n := [2]int{}
	for i := 0; i < 2*o.rounds && ctx.Err() == nil; i++ {
		if i > 0 && o.pause > 0 {
			t := time.NewTimer(o.pause)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				continue
			}
		}
		side := abOrder(i)
		n[side]++
		meta := cfgs[side].meta()
		if meta.Attrs == nil {
			meta.Attrs = map[string]string{}
		}
		meta.Attrs["ab"] = fmt.Sprintf("%c round %d of %d", 'A'+side, n[side], o.rounds)
		out := surgerun.Outputs{Consumers: []result.Consumer{sides[side]}}
		if files[side] != nil {
			out.Results = files[side]
		}
		oc, err := surgerun.Do(ctx, surgerun.Plan{Config: cfgs[side].cfg, Meta: meta, ReserveProcs: true}, out)
		if err != nil {
			return sides, err
		}
		if !o.opts.quiet {
			fmt.Fprintf(e.stderr, "round %d of %d: %c, %d requests in %s\n", i+1, 2*o.rounds, 'A'+side, oc.Done, oc.Elapsed.Round(time.Millisecond))
		}
	}
	for _, f := range files {
		if f != nil {
			if err := f.Close(); err != nil {
				return sides, fmt.Errorf("close results file: %w", err)
			}
		}
	}
	return sides, nil
}
