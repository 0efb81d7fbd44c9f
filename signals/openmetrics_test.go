package signals

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/surge-dev/surge/result"
)

const omRich = `# HELP rpc_seconds RPC latency.
# TYPE rpc_seconds histogram
# UNIT rpc_seconds seconds
rpc_seconds_bucket{le="0.1",path="/a"} 3 # {trace_id="abc"} 0.05 1700000000.5
rpc_seconds_bucket{le="+Inf",path="/a"} 4
rpc_seconds_sum{path="/a"} 0.9
rpc_seconds_count{path="/a"} 4
rpc_seconds_created{path="/a"} 1700000000
# TYPE jobs counter
jobs_total{kind="a b}c"} 12 1700000001.25
jobs_created{kind="a b}c"} 1700000000
# TYPE q summary
q{quantile="0.99"} 0.2
q_sum 3.5
q_count 7
# TYPE build info
build_info{version="1.2"} 1
# TYPE state stateset
state{state="up"} 1
state{state="down"} 0
# TYPE queue gaugehistogram
queue_bucket{le="10"} 2
queue_bucket{le="+Inf"} 3
queue_gcount 3
queue_gsum 11
# TYPE mystery unknown
mystery 42
# EOF
`

// readKinds parses body in format as one reading and returns each
// series' kind and initial value by name and labels.
func readKinds(t *testing.T, body string, format expfmt.Format) map[string]result.Series {
	t.Helper()
	tb := newTable("om", 100)
	tb.begin()
	s := &Scraper{name: "om"}
	if err := s.parse(strings.NewReader(body), format, &Reading{t: tb}); err != nil {
		t.Fatalf("parse as %s: %v", format, err)
	}
	var sc result.Scrape
	tb.commit(&sc)
	return series(sc.New)
}

// TestOpenMetricsRewrite: an OpenMetrics body read through the rewrite
// gives the series expfmt's own OpenMetrics parser gives (its _created
// samples aside, which it keeps apart), with the same kinds and values.
func TestOpenMetricsRewrite(t *testing.T) {
	got := readKinds(t, omRich, expfmt.FmtOpenMetrics_1_0_0)
	var text bytes.Buffer
	if err := openMetricsToText(strings.NewReader(omRich), &text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		key, kind string
		v         float64
	}{
		{`rpc_seconds_bucket{le="0.1",path="/a"}`, result.SignalCounter, 3},
		{`rpc_seconds_bucket{le="+Inf",path="/a"}`, result.SignalCounter, 4},
		{`rpc_seconds_count{path="/a"}`, result.SignalCounter, 4},
		{`jobs_total{kind="a b}c"}`, result.SignalCounter, 12},
		{`q{quantile="0.99"}`, result.SignalGauge, 0.2},
		{`q_count`, result.SignalCounter, 7},
		{`build_info{version="1.2"}`, result.SignalGauge, 1},
		{`state{state="down"}`, result.SignalGauge, 0},
		{`queue_bucket{le="10"}`, result.SignalGauge, 2},
		{`queue_gcount`, result.SignalGauge, 3},
		{`mystery`, result.SignalGauge, 42},
		{`jobs_created{kind="a b}c"}`, result.SignalGauge, 1700000000},
	} {
		if s, ok := got[want.key]; !ok || s.Kind != want.kind || s.Initial != want.v {
			t.Errorf("%s: got %+v, want a %s of %v\n(all: %v)\n(text: %s)", want.key, s, want.kind, want.v, slices.Sorted(maps.Keys(got)), text.String())
		}
	}
	if testing.Short() {
		return
	}
	// The same body through expfmt's OpenMetrics parser (slow: seconds
	// for its grammar the first time), without the types it refuses
	// (info, stateset, gaugehistogram).
	core := omRich[:strings.Index(omRich, "# TYPE build info")] + omRich[strings.Index(omRich, "# TYPE mystery"):]
	tb := newTable("om", 100)
	tb.begin()
	s := &Scraper{name: "om"}
	if err := s.decode(expfmt.NewDecoder(strings.NewReader(core), expfmt.FmtOpenMetrics_1_0_0), &Reading{t: tb}); err != nil {
		t.Fatal(err)
	}
	var sc result.Scrape
	tb.commit(&sc)
	native := series(sc.New)
	for k, n := range native {
		if g, ok := got[k]; !ok || g.Kind != n.Kind || g.Initial != n.Initial {
			t.Errorf("%s: expfmt's OpenMetrics parser reads %+v, the rewrite %+v", k, n, g)
		}
	}
	coreGot := readKinds(t, core, expfmt.FmtOpenMetrics_1_0_0)
	for k := range coreGot {
		if _, ok := native[k]; !ok && !strings.Contains(k, "_created") {
			t.Errorf("%s: read through the rewrite only", k)
		}
	}
	if len(native) < 8 {
		t.Errorf("expfmt's OpenMetrics parser read %d series: %v", len(native), slices.Sorted(maps.Keys(native)))
	}
}
