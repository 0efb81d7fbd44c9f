package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/capacity"
)

// capacityFixture is a hand-made search: passes, failures for each reason,
// a hard failure stopped early, a rate that is not a whole number and
// recovery probes (one not recovered, then one recovered) before a trial,
// and the machine's figures of a trial.
func capacityFixture() *capacity.Outcome {
	return &capacity.Outcome{
		SLO: "p99<500ms,errors<1%", MaxRate: 80, Fail: 82.5, Margin: 2.5,
		Text: "max rate holding p99<500ms,errors<1%: 80.0 requests/s (82.5/s failed; the capacity lies in between, margin 2.5/s = 3%)",
		Trials: []capacity.Trial{
			{N: 1, Rate: 20, Requests: 30, P50: 20 * ms, P99: 20016 * time.Microsecond, Mean: 20 * ms, Max: 21 * ms,
				Throughput: 19.3, KeptUp: true, FirstP50: 20 * ms, SecondP50: 20 * ms, Pass: true, Why: "SLO holds and the server kept up"},
			{N: 2, Rate: 40, Requests: 60, P50: 50763 * time.Microsecond, P99: 51842 * time.Microsecond, Mean: 51 * ms, Max: 53 * ms,
				Throughput: 38.66, KeptUp: true, FirstP50: 50 * ms, SecondP50: 51 * ms, Pass: true, Why: "SLO holds and the server kept up"},
			{N: 3, Rate: 160, Requests: 240, P50: 1500 * ms, P99: 2091600 * time.Microsecond, Mean: 1400 * ms, Max: 2200 * ms,
				Throughput: 50, FirstP50: 933 * ms, SecondP50: 1710 * ms, Hard: false,
				Machine: &capacity.Machine{Busy: 0.5, CPUPressure: 0.25, SurgeCPUWait: 0.125, RunQueuePeak: 3},
				Why:     "p99 2.09s ≥ 500ms; fell behind: 75 of 240 completed in time; latency rising: p50 933ms → 1.71s within the trial (a queue is building)"},
			{N: 4, Rate: 82.5, Requests: 123, P50: 131762 * time.Microsecond, P99: 235812 * time.Microsecond, Mean: 140 * ms, Max: 260 * ms,
				Throughput: 72.7, FirstP50: 106 * ms, SecondP50: 153 * ms,
				Probes: []capacity.Probe{
					{Rate: 20, Requests: 20, P50: 61 * ms, P99: 70 * ms, Bound: 42 * ms},
					{Rate: 20, Requests: 20, P50: 20100 * time.Microsecond, P99: 20600 * time.Microsecond, Bound: 42 * ms, Recovered: true},
				},
				Why: "fell behind: 109 of 123 completed in time; latency rising: p50 106ms → 153ms within the trial (a queue is building)"},
			{N: 5, Rate: 81.25, Requests: 40, P50: 812 * time.Microsecond, P99: 950 * time.Microsecond, Mean: 800 * time.Microsecond, Max: time.Second,
				Errors: 0.625, Timeouts: 3, Throughput: 4.2, FirstP50: 700 * time.Microsecond, SecondP50: 900 * time.Microsecond,
				Hard: true, Stopped: true, Why: "hard failure, stopped early: errors 62.50% ≥ errors<1%"},
		},
	}
}

func TestCapacityText(t *testing.T) {
	var b bytes.Buffer
	if err := CapacityText(&b, capacityFixture()); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "capacity_text.golden", b.Bytes())
}

func TestCapacityJSON(t *testing.T) {
	var b bytes.Buffer
	if err := CapacityJSON(&b, capacityFixture()); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "capacity_json.golden", b.Bytes())
}

// TestCapacityDurations: the table keeps 3 significant digits of each
// latency. The table once rounded to powers of ten of an hour (360ms,
// 3.6ms, …), so 1.5s printed as 1.5012s and 20ms as 20.016ms.
func TestCapacityDurations(t *testing.T) {
	c := &capacity.Outcome{Trials: []capacity.Trial{{N: 1, Rate: 10, P50: 1500 * ms, P99: 20 * ms, Pass: true}}}
	var b bytes.Buffer
	if err := CapacityText(&b, c); err != nil {
		t.Fatal(err)
	}
	row := strings.Fields(strings.Split(b.String(), "\n")[1])
	if got := row[3] + " " + row[4]; got != "1.5s 20ms" {
		t.Errorf("p50 and p99 print as %q, want \"1.5s 20ms\"\n%s", got, b.String())
	}
}
