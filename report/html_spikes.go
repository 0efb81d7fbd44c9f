package report

import (
	"slices"
	"time"

	"github.com/surge-dev/surge/analyze"
)

// htmlSpan is a spike episode of one label, in seconds from the origin.
type htmlSpan struct {
	Label    string  `json:"label"`
	From     float64 `json:"from"`
	To       float64 `json:"to"`
	Unjudged bool    `json:"unjudged,omitempty"`
}

// spikesOf returns the spike episodes of every label, on the origin's
// axis, in time order.
func spikesOf(f *analyze.Findings, org time.Time) []htmlSpan {
	if f == nil {
		return nil
	}
	var out []htmlSpan
	for _, lf := range f.Labels {
		if lf.Spikes == nil {
			continue
		}
		for _, e := range lf.Spikes.Episodes {
			out = append(out, htmlSpan{Label: lf.Label, From: round3(e.Start.Sub(org).Seconds()), To: round3(e.End.Sub(org).Seconds()),
				Unjudged: lf.Spikes.Unjudged != ""})
		}
	}
	slices.SortStableFunc(out, func(a, b htmlSpan) int { return cmpFloat(a.From, b.From) })
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
