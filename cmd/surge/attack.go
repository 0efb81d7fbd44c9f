package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/result"
	surgerun "github.com/surge-dev/surge/run"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/target"
	"golang.org/x/term"
)

const attackUsage = `attack [flags]

Sends requests to the targets read from -targets (or stdin) and writes one
result per request to -output (or stdout) as a results file.

Examples:
  echo "GET http://127.0.0.1:8088/fixed?ms=20" | surge attack -rate 100/1s -duration 10s > run.srg
  surge attack -targets targets.http -rate 0 -connections 50 -count 10000 | surge report
  surge attack -targets t.json -format json -header "Authorization: Bearer $TOKEN" -rate 20 -duration 30s -output r20.srg
  surge attack -targets t.http -rate 1/1s,20/1s,50/1s -duration 30s -output steps.srg   # 30s per rate, one stage each
  surge attack -targets t.http -ramp 10/1s..200/1s -duration 60s -output ramp.srg
  surge attack -targets t.http -rate 200 -duration 60s -scrape http://127.0.0.1:9090/metrics -watch 4242 -output r.srg   # the server's signals beside the requests
  surge attack -targets t.http -rate 100 -duration 20s -repeat 5 -repeat-pause 5s -output before.srg   # 5 runs in one file, for compare
  surge attack -targets signup.http -template -rate max -connections 50 -count 10000 | surge report   # signup.http: POST .../users with @body.json holding {"email":"u{{seq}}@example.com"}`

func runAttack(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "attack", attackUsage)
	var (
		hdr   headerFlag
		rate  = rateListFlag{rates: []schedule.Rate{{Freq: 50, Per: time.Second}}}
		ramp  = fs.String("ramp", "", "linear rate ramp over -duration, FROM..TO (10/1s..200/1s); replaces -rate")
		tmpl  = fs.Bool("template", false, "treat each target's URL, headers and body as templates rendered per request ({{seq}}, {{uuid}}, {{randInt 1 9}}, … as in scenario files)")
		opts  attackOptions
		tfile = fs.String("targets", "stdin", "targets file")
		tfmt  = fs.String("format", "auto", "targets format: auto, urls, http (vegeta), json (vegeta)")
		body  = fs.String("body", "", "file whose content is the body of every target that has none")
	)
	fs.Var(&hdr, "header", "header added to every target, \"Key: Value\" (repeatable)")
	fs.Var(&rate, "rate", "requests per time unit (100/1s, 5/100ms, 0.5/1s, 100); 0 or max = as fast as -connections allow;\na list (1/1s,20/1s,50/1s) runs each rate for -duration, as labelled stages")
	opts.register(fs)
	var sig signalOptions
	sig.register(fs)
	var live liveOptions
	live.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q: targets come from -targets or stdin", fs.Args())
	}
	if err := opts.repeat.check(); err != nil {
		return err
	}
	if err := sig.check(); err != nil {
		return err
	}
	f, err := target.ParseFormat(*tfmt)
	if err != nil {
		return &usageError{err.Error()}
	}
	var src io.Reader = e.stdin
	name := *tfile
	if name != "stdin" && name != "-" {
		fh, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("open targets: %w", err)
		}
		defer fh.Close()
		src = fh
	} else {
		name = "stdin"
	}
	ts, err := target.Parse(src, name, f)
	if err != nil {
		return err
	}
	var bodyBytes []byte
	if *body != "" {
		if bodyBytes, err = os.ReadFile(*body); err != nil {
			return fmt.Errorf("read -body: %w", err)
		}
	}
	target.ApplyDefaults(ts, hdr.h, bodyBytes)
	if *tmpl {
		return attackTemplate(ctx, e, ts, name, rate.rates, *ramp, &opts, &sig, live, commandLine(fs))
	}
	cfg, err := opts.config(ts, rate.rates[0])
	if err != nil {
		return err
	}
	profile, err := rateStages(rate.rates, *ramp, opts.duration)
	if err != nil {
		return err
	}
	if profile != nil {
		cfg.Pacer = profile
		cfg.Stages = profile.Phases()
		cfg.LabelStages = len(rate.rates) > 1
		cfg.Duration = profile.Total()
	}
	out, closeOut, err := openOutput(e, opts.output)
	if err != nil {
		return err
	}
	newMeta := func() *result.Meta {
		meta := surgerun.NewMeta(cfg, commandLine(fs))
		if profile != nil {
			meta.Profile = strings.TrimSpace(profile.Describe())
		}
		return meta
	}
	live.quiet = opts.quiet
	rs, err := opts.repeat.do(ctx, newMeta, func(meta *result.Meta) (surgerun.Outcome, error) {
		// ReserveProcs: the event loops need their threads (see -loops).
		p := surgerun.Plan{Config: cfg, Meta: meta, ReserveProcs: true}
		sig.into(&p)
		return surgerun.Do(ctx, p, surgerun.Outputs{Results: out, Live: live.views(e, cfg)})
	})
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		fmt.Fprintf(e.stderr, "surge attack: interrupted; %d results written%s\n", rs.done, rs.inRuns(opts.repeat.n))
	}
	return nil
}

// rateListFlag parses -rate: one rate (100/1s, 5/100ms, 0.5/1s, 100, 0, max) or
// a comma-separated list of rates run one after the other.
type rateListFlag struct{ rates []schedule.Rate }

func (f *rateListFlag) String() string {
	var ss []string
	for _, r := range f.rates {
		ss = append(ss, r.String())
	}
	return strings.Join(ss, ",")
}

func (f *rateListFlag) Set(s string) error {
	f.rates = f.rates[:0]
	for _, part := range strings.Split(s, ",") {
		r, err := parseRate(part)
		if err != nil {
			return err
		}
		f.rates = append(f.rates, r)
	}
	if len(f.rates) > 1 {
		for _, r := range f.rates {
			if r.IsMax() {
				return fmt.Errorf("%q: a list of rates cannot hold max or 0", s)
			}
		}
	}
	return nil
}

// rateStages returns the open-model profile of a -rate list (each rate
// for duration, a stage named after the rate) or of -ramp (one stage
// ramping linearly over duration), or nil for a single -rate.
func rateStages(rates []schedule.Rate, ramp string, duration time.Duration) (*schedule.Profile, error) {
	if len(rates) < 2 && ramp == "" {
		return nil, nil
	}
	if duration <= 0 {
		return nil, usagef("a rate list or -ramp needs -duration (per rate, or of the ramp)")
	}
	p := &schedule.Profile{Model: schedule.ModelOpen}
	if ramp != "" {
		a, b, ok := strings.Cut(ramp, "..")
		from, err1 := schedule.ParseRate(a)
		to, err2 := schedule.ParseRate(b)
		if !ok || err1 != nil || err2 != nil || from.IsMax() || to.IsMax() {
			return nil, usagef("-ramp %q: expected FROM..TO, two rates like 10/1s..200/1s", ramp)
		}
		p.Stages = []schedule.Stage{{Name: "ramp " + from.String() + ".." + to.String(), Duration: duration,
			FromRate: from.PerSecond(), ToRate: to.PerSecond()}}
		return p, nil
	}
	for _, r := range rates {
		p.Stages = append(p.Stages, schedule.Stage{Name: r.String(), Duration: duration, FromRate: r.PerSecond(), ToRate: r.PerSecond()})
	}
	return p, nil
}

// attackOptions are the flags attack shares with other load commands.
type attackOptions struct {
	duration                   time.Duration
	count                      uint64
	connections, redirects     int
	timeout                    time.Duration
	keepalive, http2, h2c      bool
	insecure, quiet, eventLoop bool
	tickWindow                 time.Duration
	loops                      int
	name, output, client       string
	repeat                     repeatOptions
}

func (o *attackOptions) register(fs interface {
	DurationVar(*time.Duration, string, time.Duration, string)
	Uint64Var(*uint64, string, uint64, string)
	IntVar(*int, string, int, string)
	BoolVar(*bool, string, bool, string)
	StringVar(*string, string, string, string)
	Var(flag.Value, string, string)
}) {
	fs.DurationVar(&o.duration, "duration", 0, "how long to send (0 = until -count or Ctrl-C)")
	fs.Uint64Var(&o.count, "count", 0, "number of requests to send (0 = no limit)")
	fs.Var(positiveFlag{&o.connections}, "connections", fmt.Sprintf("`N` requests in flight at most = connections (default %d with a rate, %d at max rate)", attack.DefaultOpenConnections, attack.DefaultMaxConnections))
	fs.DurationVar(&o.timeout, "timeout", attack.DefaultTimeout, "per-request timeout")
	fs.BoolVar(&o.keepalive, "keepalive", true, "reuse connections")
	fs.BoolVar(&o.http2, "http2", true, "allow HTTP/2 over TLS")
	fs.BoolVar(&o.h2c, "h2c", false, "speak HTTP/2 over cleartext (prior knowledge)")
	fs.BoolVar(&o.insecure, "insecure", false, "skip TLS certificate verification")
	fs.IntVar(&o.redirects, "redirects", attack.DefaultRedirects, "redirects to follow; -1 = none (the 3xx is the result)")
	fs.StringVar(&o.name, "name", "", "label for every result (default: METHOD path per target, for up to 20 targets)")
	fs.StringVar(&o.output, "output", "stdout", "results file")
	fs.StringVar(&o.client, "client", "auto", "HTTP client: auto (fast HTTP/1.1 path when it can), fast, net (net/http)")
	fs.BoolVar(&o.eventLoop, "event-loop", true, "with the fast client, drive connections from epoll loops instead of a goroutine each (Linux)")
	fs.IntVar(&o.loops, "loops", 0, "event loops (threads) sharing the connections; 0 = one per two cores. More answer responses sooner, for more CPU per request (GOMAXPROCS is raised to loops+1)")
	fs.DurationVar(&o.tickWindow, "tick-window", attack.DefaultTickWindow, "at high rates, send the ticks due within this span on one wake-up, each at most this late (recorded as send lag); 0 wakes for every tick")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress on stderr")
	o.repeat.register(fs)
}

// maxAutoLabels bounds per-target labels: each label keeps its own
// histograms in reports.
const maxAutoLabels = 20

func (o *attackOptions) config(ts []target.Target, rate schedule.Rate) (attack.Config, error) {
	if o.tickWindow < 0 {
		return attack.Config{}, usagef("-tick-window %v: expected 0 (a wake-up for every tick) or a positive duration such as 200us", o.tickWindow)
	}
	if o.loops < 0 {
		return attack.Config{}, usagef("-loops %d: expected 0 (one loop per two cores) or more", o.loops)
	}
	if o.redirects < -1 {
		return attack.Config{}, usagef("-redirects %d: expected -1 or 0 (follow none, the 3xx is the result) or how many to follow", o.redirects)
	}
	redirects := o.redirects
	if redirects == 0 {
		redirects = -1 // 0 in the flag means "follow none"
	}
	cfg := attack.Config{
		Targets: ts, Rate: rate, Duration: o.duration, Count: o.count,
		Connections: o.connections, Timeout: o.timeout,
		Transport: attack.HTTPConfig{
			NoKeepAlive: !o.keepalive, HTTP2: o.http2, H2C: o.h2c, Insecure: o.insecure, Redirects: redirects,
			NoEventLoop: !o.eventLoop,
			TickWindow:  cmp.Or(o.tickWindow, -1),
			Loops:       o.loops,
		},
	}
	cfg.Labels = labels(ts, o.name)
	switch o.client {
	case "auto", "":
		if c, err := attack.NewFastClient(cfg); err == nil {
			cfg.Client = c
		}
	case "fast":
		c, err := attack.NewFastClient(cfg)
		if err != nil {
			return cfg, usagef("-client fast: %v", err)
		}
		cfg.Client = c
	case "net":
	default:
		return cfg, usagef("-client %q: expected auto, fast or net", o.client)
	}
	return cfg, nil
}

// labels names each target: -name for all, else "METHOD path?query" when
// there are few distinct targets, else one unnamed label.
func labels(ts []target.Target, name string) []string {
	ls := make([]string, len(ts))
	if name != "" {
		for i := range ls {
			ls[i] = name
		}
		return ls
	}
	distinct := map[string]bool{}
	for i, t := range ts {
		l := t.Method + " " + t.URL
		if u, err := url.Parse(target.RedactURL(t.URL)); err == nil {
			l = t.Method + " " + u.RequestURI()
		}
		ls[i] = l
		distinct[l] = true
	}
	if len(distinct) > maxAutoLabels || len(distinct) == 1 && len(ts) > 1 {
		clear(ls)
	}
	return ls
}

// openOutput opens the results destination; binary results are not written
// to a terminal.
func openOutput(e *env, name string) (io.Writer, func() error, error) {
	if name == "" || name == "stdout" || name == "-" {
		if isTerminal(e.stdout) {
			return nil, nil, usagef("refusing to write binary results to a terminal: use -output FILE or pipe into 'surge report'")
		}
		return e.stdout, func() error { return nil }, nil
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, nil, fmt.Errorf("create results file: %w", err)
	}
	return f, f.Close, nil
}

// isTerminal reports whether w is a terminal. A character device is not
// enough: /dev/null is one, and "surge attack … > /dev/null" is a script's
// way to discard results.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// attackTemplate runs -template: the targets become a scenario whose
// templates are rendered for every request.
func attackTemplate(ctx context.Context, e *env, ts []target.Target, file string, rates []schedule.Rate, ramp string, opts *attackOptions, sig *signalOptions, live liveOptions, command []string) error {
	if len(rates) > 1 || ramp != "" {
		return usagef("-template takes one -rate, not a list or -ramp (use a scenario file for stages)")
	}
	s, err := templateScenario(ts, labels(ts, opts.name), rates[0], opts, file)
	if err != nil {
		return err
	}
	cfg := s.EngineConfig(uint64(time.Now().UnixNano()) | 1)
	if err := scenarioClient(&cfg, s, opts.client); err != nil {
		return err
	}
	out, closeOut, err := openOutput(e, opts.output)
	if err != nil {
		return err
	}
	live.quiet = opts.quiet
	newMeta := func() *result.Meta { return surgerun.ScenarioMeta(s, cfg, 0, command) }
	rs, err := opts.repeat.do(ctx, newMeta, func(meta *result.Meta) (surgerun.Outcome, error) {
		p := surgerun.Plan{Config: cfg, Meta: meta}
		sig.into(&p)
		return surgerun.Do(ctx, p, surgerun.Outputs{Results: out, Live: live.views(e, cfg)})
	})
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err == nil && !opts.quiet && opts.repeat.n > 1 {
		// One run's own closing line says it all (liveView.final).
		fmt.Fprintf(e.stderr, "surge attack: %d requests%s in %s\n", rs.done, rs.inRuns(opts.repeat.n), rs.elapsed.Round(time.Millisecond))
	}
	return err
}
