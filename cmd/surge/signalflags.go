package main

import (
	"flag"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	surgerun "github.com/surge-dev/surge/run"
	"github.com/surge-dev/surge/scenario"
	"github.com/surge-dev/surge/signals"
	"github.com/surge-dev/surge/target"
)

// signalOptions are the server-signal flags of the load commands: the
// Prometheus endpoints to scrape, how often, and the processes to watch.
type signalOptions struct {
	scrape   scrapeFlag
	interval time.Duration
	watch    watchFlag
}

func (o *signalOptions) register(fs *flag.FlagSet) {
	fs.Var(&o.scrape, "scrape", "Prometheus `URL` of the server to read every -scrape-interval during the run, on its time axis (repeatable)")
	fs.DurationVar(&o.interval, "scrape-interval", signals.DefaultInterval, "time between the readings of each -scrape URL and -watch process; a reading slower than 4/5 of it is recorded as failed")
	fs.Var(&o.watch, "watch", "`PID` of a server process on this host to read from /proc every -scrape-interval: CPU, memory, threads, context switches, descriptors, cgroup CPU throttling (repeatable)")
}

// check reports bad flags — an interval under 10ms, a PID that is not
// running — as a usage error, before any load is sent.
func (o *signalOptions) check() error {
	if o.interval < 10*time.Millisecond {
		return usagef("-scrape-interval %v: expected a duration of at least 10ms, such as 1s", o.interval)
	}
	var p surgerun.Plan
	o.into(&p)
	if err := p.CheckSignals(); err != nil {
		return usagef("%v", err)
	}
	return nil
}

// withScenario adds the scenario's scrape URLs and watched processes to
// the flags' (the scenario's first), and takes its scrape_interval unless
// -scrape-interval was given.
func (o *signalOptions) withScenario(fs *flag.FlagSet, s *scenario.Scenario) {
	o.scrape.urls = append(s.ScrapeURLs(), o.scrape.urls...)
	o.watch.pids = append(slices.Clone(s.Signals.Watch), o.watch.pids...)
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "scrape-interval" })
	if !set && s.Signals.Interval > 0 {
		o.interval = s.Signals.Interval
	}
}

// into puts the flags into p.
func (o *signalOptions) into(p *surgerun.Plan) {
	p.Scrape, p.Watch, p.ScrapeInterval = o.scrape.urls, o.watch.pids, o.interval
}

// scrapeFlag collects repeatable -scrape URLs.
type scrapeFlag struct{ urls []string }

func (f *scrapeFlag) String() string { return strings.Join(f.redactedValues(), ",") }

func (f *scrapeFlag) Set(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("expected an http:// or https:// URL with a host, such as http://127.0.0.1:9090/metrics")
	}
	f.urls = append(f.urls, s)
	return nil
}

// redactedValues implements redactedFlag: the URLs without their secrets.
func (f *scrapeFlag) redactedValues() []string {
	out := make([]string, len(f.urls))
	for i, u := range f.urls {
		out[i] = target.RedactURL(u)
	}
	return out
}

// watchFlag collects repeatable -watch PIDs.
type watchFlag struct{ pids []int }

func (f *watchFlag) String() string {
	ss := make([]string, len(f.pids))
	for i, p := range f.pids {
		ss[i] = strconv.Itoa(p)
	}
	return strings.Join(ss, ",")
}

func (f *watchFlag) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 {
		return fmt.Errorf("expected a process ID (a positive whole number)")
	}
	f.pids = append(f.pids, n)
	return nil
}

// redactedValues implements redactedFlag: a PID is no secret, and each
// is its own -watch flag on the recorded command line.
func (f *watchFlag) redactedValues() []string {
	out := make([]string, len(f.pids))
	for i, p := range f.pids {
		out[i] = strconv.Itoa(p)
	}
	return out
}
