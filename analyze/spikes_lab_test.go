package analyze_test

import (
	"flag"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/internal/starvation"
	"github.com/surge-dev/surge/schedule"
)

// cleanRuns is how many background-loaded /fixed runs TestLabFixedUnderLoad
// makes; docs/methods.md quotes the figures of -spikes.runs 10.
var cleanRuns = flag.Int("spikes.runs", 2, "runs of TestLabFixedUnderLoad (each 6s)")

var rate20 = schedule.Rate{Freq: 20, Per: time.Second}

// /pause?every=2s&for=45ms&ms=2 at 20/s: a request every 50ms, so each
// 45ms pause delays at most one request, by at most 45ms. Truth: slow
// requests, one at a time, and no spike episode (before the minimum of 5
// slow requests, each such window was an episode).
func TestLabIsolatedSlowNoEpisode(t *testing.T) {
	f, _, machine := labRun(t, "/pause?every=2s&for=45ms&ms=2", attack.Config{Rate: rate20, Duration: 10 * time.Second})
	sp := f.Labels[0].Spikes
	if sp == nil {
		t.Fatal("spikes not judged")
	}
	for _, e := range sp.Episodes {
		// Five slow requests at 20/s need 250ms of slowness, which no
		// pause here has: only a starved machine makes them.
		machine.Fail(t, analyze.LagLimit, "an episode from isolated slow requests: %+v in %s", e, sp.Text)
	}
	t.Logf("isolated: %d run(s), %d slow request(s)", sp.Isolated, sp.IsolatedSlow)
}

// /pause?every=3s&for=500ms&ms=5 at 20/s: each pause delays the 10
// requests due in it. Truth: episodes at 3, 6 and 9 s, every 3 s; the
// minimum of 5 slow requests keeps them.
func TestLabPauseSpikesLowRate(t *testing.T) {
	f, _, machine := labRun(t, "/pause?every=3s&for=500ms&ms=5", attack.Config{Rate: rate20, Duration: 10 * time.Second})
	sp := f.Labels[0].Spikes
	if sp == nil {
		t.Fatal("spikes not judged")
	}
	var pauses []analyze.Episode
	for _, e := range sp.Episodes {
		if e.Peak >= 300*time.Millisecond {
			pauses = append(pauses, e)
		}
	}
	// A starved machine raises the steady level of 20-request windows
	// (their p99 is their slowest request) toward the pauses' own.
	if len(pauses) != 3 {
		machine.Fail(t, analyze.LagLimit, "want 3 pause episodes at 20/s, got %d: %s", len(pauses), sp.Text)
	}
	for i, e := range pauses {
		want := time.Duration(i+1) * 3 * time.Second
		if d := e.Offset - want; d < -time.Second || d > time.Second {
			machine.Fail(t, analyze.LagLimit, "episode %d at +%s, want +%s", i, e.Offset, want)
		}
	}
}

// /pool?size=4&ms=20 at max rate with 50 connections: the pool serves
// 200/s with 46 requests always waiting. Truth: no offered rate, so no
// saturation verdict (the knee of a schedule that does not exist).
func TestLabMaxRateNoSaturation(t *testing.T) {
	f, _, _ := labRun(t, "/pool?size=4&ms=20", attack.Config{Connections: 50, Duration: 4 * time.Second})
	sat := f.Labels[0].Saturation
	if sat == nil {
		t.Fatal("saturation not reached at all: too few windows")
	}
	if sat.Detected || !sat.Unscheduled {
		t.Errorf("a max-rate run was judged for saturation: %s", sat.Text)
	}
	for _, j := range f.Labels[0].Judged {
		if j == "saturation" {
			t.Errorf("Judged lists saturation for a max-rate run: %v", f.Labels[0].Judged)
		}
	}
}

// /fixed?ms=20&jitter=5 at 100/s for 6 s, with a CPU-bound child process
// competing for the cores. Truth: no spike, no saturation. What is judged
// is what surge claims: an episode it reports as the server's (not
// discounted because its own generator health saw the machine) or a
// saturation. An episode no higher above the steady level than the
// probe's longest stall is the machine's (machineSpike), and a claim in a
// run the probe found starved (sleeps overran by more than LagLimit at
// p99) is logged and counted, not failed.
func TestLabFixedUnderLoad(t *testing.T) {
	starvation.Hog(t)
	var starved, discounted, machineClaims, claims, starvedClaims int
	for i := range *cleanRuns {
		f, _, machine := labRun(t, "/fixed?ms=20&jitter=5", attack.Config{Rate: rate100, Duration: 6 * time.Second})
		lf := f.Labels[0]
		if machine.Starved(analyze.LagLimit) {
			starved++
		}
		sp := lf.Spikes
		if sp != nil && sp.Unjudged != "" {
			discounted++
		}
		var claim string
		switch {
		case sp != nil && len(sp.Episodes) > 0 && sp.Unjudged == "":
			claim = sp.Text
			explained := true
			for _, e := range sp.Episodes {
				explained = explained && machineSpike(t, e, sp.Level, machine)
			}
			if explained {
				// The probe saw the process held off the CPU as long as
				// the episodes rose: the run, through run/, would have
				// recorded that wait and discounted them; labRun records
				// none.
				machineClaims++
				continue
			}
		case lf.Saturation != nil && lf.Saturation.Detected:
			claim = lf.Saturation.Text
		default:
			continue
		}
		if machine.Starved(analyze.LagLimit) {
			starvedClaims++
		} else {
			claims++
		}
		machine.Fail(t, analyze.LagLimit, "run %d: invented a finding: %s", i, claim)
	}
	t.Logf("/fixed beside a CPU hog: %d runs, %d starved by the probe; %d with spikes discounted by surge's generator health, "+
		"%d with episodes no higher than the probe's longest stall; findings claimed: %d in healthy runs, %d in starved runs",
		*cleanRuns, starved, discounted, machineClaims, claims, starvedClaims)
}
