package report

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/surge-dev/surge/capacity"
	"github.com/surge-dev/surge/latency"
)

// CapacityText writes the outcome of a capacity search as a table, one row
// per trial with its verdict, each after a row per recovery probe run
// before it, followed by the answer in a sentence.
func CapacityText(w io.Writer, c *capacity.Outcome) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "Trial\tRate\tRequests\tp50\tp99\tErrors\tThroughput\tVerdict")
	for _, t := range c.Trials {
		// A recovery probe is a row of its own, before its trial's, named
		// so that it is never read as a trial.
		for _, p := range t.Probes {
			fmt.Fprintf(tw, "probe\t%s/s\t%d\t%s\t%s\t%.2f%%\t-\t%s\n", capacity.FormatRate(p.Rate), p.Requests,
				latency.Round3(p.P50), latency.Round3(p.P99), 100*p.Errors, p.Text(t.N))
		}
		v := "pass"
		switch {
		case t.Unreliable:
			v = "unreliable: " + t.Why
		case !t.Pass:
			v = "fail: " + t.Why
		}
		if t.Note != "" {
			v += " [" + t.Note + "]"
		}
		fmt.Fprintf(tw, "%d\t%s/s\t%d\t%s\t%s\t%.2f%%\t%.1f/s\t%s\n", t.N, capacity.FormatRate(t.Rate), t.Requests,
			latency.Round3(t.P50), latency.Round3(t.P99), 100*t.Errors, t.Throughput, v)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s\n", c.Text)
	return err
}

// CapacityJSON writes the outcome of a capacity search as one line of
// JSON: the fields of capacity.Outcome (rates in requests/s, latencies in
// ns, error rates as ratios in [0,1]).
func CapacityJSON(w io.Writer, c *capacity.Outcome) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(c)
}
