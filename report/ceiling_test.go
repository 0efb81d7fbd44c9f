package report

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// poolFixture is a hand-computed pool of 4 slots of 50ms each, FIFO,
// offered 40/s for 3 s, then 104/s and 128/s for 3 s each (its capacity is
// 80/s), every request sent 100µs late: a concurrency ceiling of 4.
func poolFixture(stageLabels bool) *summary.Summary {
	s := summary.New(summary.Options{})
	m := &result.Meta{ID: "pool", Start: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	var free [4]time.Duration // when each slot frees up
	var from time.Duration
	seq := 0
	for _, rate := range []float64{40, 104, 128} {
		for k := range int(rate * 3) {
			at := from + time.Duration(float64(k)/rate*float64(time.Second))
			sent := at + 100*time.Microsecond
			j := 0 // the slot free first (FIFO: the next in line takes it)
			for i := range free {
				if free[i] < free[j] {
					j = i
				}
			}
			free[j] = max(sent, free[j]) + 50*ms
			label := "GET /pool"
			if stageLabels {
				label += fmt.Sprintf(" [%g/1s]", rate)
			}
			s.Add(m, &result.Result{Seq: uint64(seq), Label: label, Intended: at, Sent: sent,
				Latency: free[j] - at, Status: 200, BytesIn: 40, BytesOut: 0})
			seq++
		}
		from += 3 * time.Second
	}
	return s
}

// The findings of a pool ramped past its capacity hold the saturation and
// the ceiling's sentence, in text and in JSON.
func TestCeilingReport(t *testing.T) {
	s := poolFixture(false)
	f := analyze.Diagnose(s)
	if c := f.Labels[0].Ceiling; c == nil || !c.Detected {
		t.Fatalf("the fixture has no ceiling: %+v", c)
	}
	var txt, js bytes.Buffer
	if err := Text(&txt, s, f, Options{}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "text_ceiling.golden", txt.Bytes())
	if err := JSON(&js, s, f, Options{}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "json_ceiling.golden", js.Bytes())
}

// With -rate 40,104,128 each stage is a label of its own: the ceiling of
// the stages together is a line of its own after the labels'.
func TestCeilingReportStages(t *testing.T) {
	s := poolFixture(true)
	f := analyze.Diagnose(s)
	if f.Stages == nil || !f.Stages.Ceiling.Detected {
		t.Fatalf("the fixture's stages have no ceiling: %+v", f.Stages)
	}
	var txt bytes.Buffer
	if err := Text(&txt, s, f, Options{}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "text_ceiling_stages.golden", txt.Bytes())
}
