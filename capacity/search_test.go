package capacity

import (
	"context"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
)

// The search with a simulated server whose capacity is 80/s: trials pass
// below it.
func TestSearch(t *testing.T) {
	trial := func(_ context.Context, n int, rate float64) (Trial, error) {
		return Trial{N: n, Rate: rate, Pass: rate <= 80}, nil
	}
	c, err := Search(context.Background(), Options{Start: 10, Max: 10000}, analyze.SLO{{Metric: "p99", Q: 0.99, Latency: time.Second}}, trial)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxRate > 80 || c.MaxRate < 76 || c.Fail <= 80 {
		t.Errorf("max rate %.1f (fail %.1f), want in [76, 80]", c.MaxRate, c.Fail)
	}
	c, _ = Search(context.Background(), Options{Start: 10, Max: 50}, nil, trial)
	if !c.Bounded || c.MaxRate != 50 {
		t.Errorf("never exceeding -max: got %+v", c)
	}
	for _, tr := range c.Trials {
		if tr.Rate > 50 {
			t.Errorf("tried %.1f/s above -max 50", tr.Rate)
		}
	}
}
