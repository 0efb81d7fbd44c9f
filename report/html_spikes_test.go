package report

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/surge-dev/surge/analyze"
)

func TestSpikesOf(t *testing.T) {
	org := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	ep := func(from, to time.Duration) analyze.Episode {
		return analyze.Episode{Start: org.Add(from), End: org.Add(to)}
	}
	f := &analyze.Findings{Labels: []analyze.LabelFindings{
		{Label: "GET /a", Spikes: &analyze.Spikes{Episodes: []analyze.Episode{ep(6*time.Second, 6250*ms), ep(2*time.Second, 2500*ms)}}},
		{Label: "GET /b"},
		{Label: "GET /c", Spikes: &analyze.Spikes{Unjudged: "the generator was limited", Episodes: []analyze.Episode{ep(4*time.Second, 4500*ms)}}},
	}}
	want := []htmlSpan{{Label: "GET /a", From: 2, To: 2.5}, {Label: "GET /c", From: 4, To: 4.5, Unjudged: true}, {Label: "GET /a", From: 6, To: 6.25}}
	if diff := cmp.Diff(want, spikesOf(f, org)); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
	if got := spikesOf(nil, org); got != nil {
		t.Errorf("no findings: %v, want none", got)
	}
}
