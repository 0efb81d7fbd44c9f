package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/lab"
	"github.com/surge-dev/surge/report"
	surgerun "github.com/surge-dev/surge/run"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/summary"
	"github.com/surge-dev/surge/target"
)

const demoUsage = `demo [flags]

Starts the lab target in this process on a free loopback port, attacks four
of its endpoints for a few seconds at a fixed rate, writes the results file
and prints the report. A tour of what surge measures, with known truths:
  /fixed   20ms ± 5ms service time
  /cold    the first 100 requests cost up to 300ms extra (a warm-up)
  /pause   a 300ms stop-the-world every 3s: watch p99 and max
  /error   5% of requests answer 500

Examples:
  surge demo
  surge demo -duration 10s -rate 400/1s -output demo.srg`

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "demo", demoUsage)
	dur := fs.Duration("duration", 5*time.Second, "how long to attack")
	rate := rateFlag{schedule.Rate{Freq: 200, Per: time.Second}}
	fs.Var(&rate, "rate", "request rate across all endpoints")
	output := fs.String("output", "surge-demo.srg", "results file to write")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if rate.r.IsMax() {
		return usagef("-rate: the demo needs a fixed rate")
	}
	srv := lab.New(lab.Config{})
	addr, err := srv.Start("127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start lab: %w", err)
	}
	defer srv.Close()
	base := "http://" + addr.String()
	paths := []string{"/fixed?ms=20&jitter=5", "/cold?ms=5&extra=300&n=100", "/pause?every=3s&for=300ms&ms=5", "/error?ratio=0.05&ms=10"}
	var ts []target.Target
	for _, p := range paths {
		ts = append(ts, target.Target{Method: "GET", URL: base + p})
	}
	opts := attackOptions{duration: *dur, timeout: attack.DefaultTimeout, keepalive: true, redirects: -1, client: "auto", eventLoop: true}
	cfg, err := opts.config(ts, rate.r)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "surge demo: lab target on %s; attacking %d endpoints at %s for %s\n", base, len(paths), rate.r, *dur)
	f, err := os.Create(*output)
	if err != nil {
		return fmt.Errorf("create results file: %w", err)
	}
	meta := surgerun.NewMeta(cfg, commandLine(fs))
	meta.Attrs = map[string]string{"demo": "lab target " + base}
	_, err = surgerun.Do(ctx, surgerun.Plan{Config: cfg, Meta: meta, ReserveProcs: true}, surgerun.Outputs{Results: f, Live: liveOptions{}.views(e, cfg)})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	// Report from the file, as 'surge report' would: the file is the truth.
	s := summary.New(summary.Options{})
	if err := readResults(e, []string{*output}, s, nil); err != nil {
		return err
	}
	if err := report.Text(e.stdout, s, analyze.Diagnose(s), report.Options{}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nWrote %s. Next:\n  surge plot %s > demo.html\n  surge report -type json %s\n  surge report -type 'hist[0,10ms,25ms,50ms,100ms,300ms]' %s\n  surge encode -to csv %s\n", *output, *output, *output, *output, *output)
	return nil
}
