package signals

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/common/expfmt"
)

// bodies is a Source reading its bodies in turn through a Scraper's
// parse; a reading listed in fail fails after its parse, as a reading
// past its timeout does.
type bodies struct {
	s      *Scraper
	bodies []string
	fail   map[int]bool
	i      int
}

func (b *bodies) Name() string { return "b" }
func (b *bodies) Read(_ context.Context, r *Reading) error {
	i := b.i
	b.i++
	if err := b.s.parse(strings.NewReader(b.bodies[i]), expfmt.FmtText, r); err != nil {
		return err
	}
	if b.fail[i] {
		return errors.New("late")
	}
	return nil
}

// TestSkipUnchangedFamilies: readings that skip the families unchanged
// since the previous kept reading deliver exactly what readings parsing
// every family do, over random changes, new series, and failed readings
// whose changes must come again in the next.
func TestSkipUnchangedFamilies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const fams = 12
	vals := make([][3]int, fams)
	var seq []string
	fail := map[int]bool{}
	extra := 0
	for step := range 60 {
		for f := range fams {
			for j := range 3 {
				if rng.IntN(4) == 0 {
					vals[f][j] += rng.IntN(3)
				}
			}
		}
		if rng.IntN(10) == 0 {
			extra++
		}
		if rng.IntN(6) == 0 {
			fail[step] = true
		}
		var b strings.Builder
		for f := range fams {
			switch f % 3 {
			case 0:
				fmt.Fprintf(&b, "# HELP c%d_total A counter.\n# TYPE c%d_total counter\nc%d_total{a=\"x\"} %d\nc%d_total{a=\"y\"} %d\n", f, f, f, vals[f][0], f, vals[f][1])
			case 1:
				fmt.Fprintf(&b, "# TYPE h%d histogram\nh%d_bucket{le=\"1\"} %d\nh%d_bucket{le=\"+Inf\"} %d\nh%d_sum %d\nh%d_count %d\n", f, f, vals[f][0], f, vals[f][0]+vals[f][1], f, vals[f][2], f, vals[f][0]+vals[f][1])
			default:
				fmt.Fprintf(&b, "# TYPE g%d gauge\ng%d %d\n", f, f, vals[f][2])
			}
		}
		for e := range extra {
			fmt.Fprintf(&b, "untyped_extra{n=\"%d\"} 1\n", e) // samples after the last family, no TYPE of their own
		}
		seq = append(seq, b.String())
	}
	run := func(noSkip bool) []string {
		src := &bodies{s: &Scraper{name: "b", noSkip: noSkip}, bodies: seq, fail: fail}
		out := &collect{}
		r := &Run{cfg: Config{Timeout: time.Minute}.withDefaults(), origin: time.Now(), out: out, mem: &Memory{}}
		tb := newTable("b", 1000)
		for range seq {
			r.read(src, tb)
		}
		var got []string
		for _, s := range out.scrapes {
			got = append(got, fmt.Sprintf("err=%q new=%v values=%v", s.Err, s.New, s.Values))
		}
		return got
	}
	want, got := run(true), run(false)
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("skipping unchanged families changed the readings (-parse all +skip):\n%s", d)
	}
	if len(fail) == 0 || extra == 0 {
		t.Fatalf("the sequence had %d failed readings and %d extra series: a weak test", len(fail), extra)
	}
}
