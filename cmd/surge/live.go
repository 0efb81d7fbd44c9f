package main

import (
	"flag"
	"fmt"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/dashboard"
	"github.com/surge-dev/surge/result"
	surgerun "github.com/surge-dev/surge/run"
	"github.com/surge-dev/surge/summary"
)

// liveOptions are the flags of the live views of a load command.
type liveOptions struct {
	dashboard   string // address of the web dashboard; "" = none
	allowRemote bool
	quiet       bool
}

func (o *liveOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.dashboard, "dashboard", "", "serve a live web dashboard and /metrics on this address, e.g. 127.0.0.1:8089 (loopback only unless -dashboard-remote)")
	fs.BoolVar(&o.allowRemote, "dashboard-remote", false, "allow -dashboard on an address that is not loopback; every request then needs the token printed at start (anyone who has it can stop the run; the traffic is not encrypted)")
}

// views returns the surgerun.Outputs.Live of a load command running cfg: it
// warns when the file descriptors cannot hold the connections, then
// starts the live views (see liveViews).
func (o liveOptions) views(e *env, cfg attack.Config) func(*surgerun.Live) ([]surgerun.View, error) {
	return func(l *surgerun.Live) ([]surgerun.View, error) {
		warnDescriptors(e.stderr, l.PeakInFlight)
		return liveViews(e, o, l.Stats, cfg, l.Meta, l.Stop)
	}
}

// view is a live consumer with the function that stops it.
type view struct {
	result.BatchConsumer
	stop func()
}

// AddScrape implements result.ScrapeConsumer: a view that takes server
// signals (the dashboard) gets them; the others are skipped.
func (v view) AddScrape(m *result.Meta, s *result.Scrape) { result.AddScrape(v.BatchConsumer, m, s) }

// Stop implements surgerun.View.
func (v view) Stop() { v.stop() }

// liveViews starts the live views of an attack: the terminal view on
// e.stderr (drawing nothing when quiet, but printing the run's notes) and,
// with -dashboard, the web dashboard whose stop button calls cancel.
// Stopping them leaves the terminal's final line and the dashboard's final
// report.
func liveViews(e *env, o liveOptions, stats *attack.Stats, cfg attack.Config, meta *result.Meta, cancel func()) ([]surgerun.View, error) {
	v := newLiveView(e.stderr, stats, cfg, nil, o.quiet)
	if o.dashboard == "" {
		return []surgerun.View{view{v, v.Start()}}, nil
	}
	d, err := dashboard.New(dashboard.Config{
		Addr: o.dashboard, AllowRemote: o.allowRemote, Stop: cancel, Meta: meta,
		Summary:  summary.Options{Window: htmlWindow},
		InFlight: stats.InFlight.Load,
	})
	if err != nil {
		return nil, usagef("-dashboard: %v", err)
	}
	addr, err := d.Start()
	if err != nil {
		return nil, err
	}
	if o.allowRemote {
		fmt.Fprintf(e.stderr, "surge: live dashboard at http://%s/?token=%s (every request needs the token: /metrics with the header \"Authorization: Bearer %s\")\n", addr, d.Token(), d.Token())
	} else {
		fmt.Fprintf(e.stderr, "surge: live dashboard at http://%s/ (metrics at /metrics)\n", addr)
	}
	return []surgerun.View{view{v, v.Start()}, view{d, func() {
		d.Finish(nil) // the report of everything the dashboard observed
		d.Close()
	}}}, nil
}
