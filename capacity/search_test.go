package capacity

import (
	"context"
	"testing"

	"github.com/surge-dev/surge/threshold"
)

// The search with a simulated server whose capacity is 80/s: trials pass
// below it.
func TestSearch(t *testing.T) {
	trial := func(_ context.Context, n int, rate float64) (Trial, error) {
		return Trial{N: n, Rate: rate, Pass: rate <= 80}, nil
	}
	c, err := Search(context.Background(), Options{Start: 10, Max: 10000}, mustSLO(t, "p99<1s"), trial)
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

// mustSLO parses an SLO or fails the test.
func mustSLO(t *testing.T, s string) threshold.SLO {
	t.Helper()
	slo, err := threshold.ParseSLO(s)
	if err != nil {
		t.Fatal(err)
	}
	return slo
}
