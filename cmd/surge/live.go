package main

import (
	"flag"
	"fmt"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/dashboard"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// liveOptions are the flags of the live views of a load command.
type liveOptions struct {
	dashboard   string // address of the web dashboard; "" = none
	allowRemote bool
	quiet       bool
	stage       func() string // current stage name; may be nil
}

func (o *liveOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.dashboard, "dashboard", "", "serve a live web dashboard and /metrics on this address, e.g. 127.0.0.1:8089 (loopback only unless -dashboard-remote)")
	fs.BoolVar(&o.allowRemote, "dashboard-remote", false, "allow -dashboard on an address that is not loopback; every request then needs the token printed at start (anyone who has it can stop the run; the traffic is not encrypted)")
}

// startLive starts the live views of an attack: the terminal view on
// e.stderr (unless quiet) and, with -dashboard, the web dashboard whose
// stop button calls cancel. observe must be called with every batch of
// results (from the sink); stop ends both views, leaving the terminal's
// final line and the dashboard's final report.
//
// mark, when the dashboard runs, passes phase markers on to it; nil
// otherwise.
func startLive(e *env, o liveOptions, a *attack.Attacker, cfg attack.Config, meta *result.Meta, cancel func()) (observe func([]result.Result), mark func(result.Marker), stop func(), err error) {
	view := newLiveView(e.stderr, a.Stats(), cfg, o.stage, o.quiet)
	if o.dashboard == "" {
		stopView := view.Start()
		return view.Observe, nil, stopView, nil
	}
	d, err := dashboard.New(dashboard.Config{
		Addr: o.dashboard, AllowRemote: o.allowRemote, Stop: cancel, Meta: meta,
		Summary:  summary.Options{Window: htmlWindow},
		InFlight: a.Stats().InFlight.Load,
	})
	if err != nil {
		return nil, nil, nil, usagef("-dashboard: %v", err)
	}
	addr, err := d.Start()
	if err != nil {
		return nil, nil, nil, err
	}
	if o.allowRemote {
		fmt.Fprintf(e.stderr, "surge: live dashboard at http://%s/?token=%s (every request needs the token: /metrics with the header \"Authorization: Bearer %s\")\n", addr, d.Token(), d.Token())
	} else {
		fmt.Fprintf(e.stderr, "surge: live dashboard at http://%s/ (metrics at /metrics)\n", addr)
	}
	stopView := view.Start()
	observe = func(b []result.Result) {
		view.Observe(b)
		d.Observe(b)
	}
	stop = func() {
		stopView()
		d.Finish(nil) // the report of everything the dashboard observed
		d.Close()
	}
	return observe, d.AddMarker, stop, nil
}
