package signals

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/surge-dev/surge/result"
)

const textPayload = `# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{method="get",code="200"} %d
# TYPE heap_bytes gauge
heap_bytes 1.5e+06
# TYPE rpc_seconds summary
rpc_seconds{quantile="0.5"} 0.01
rpc_seconds{quantile="0.99"} 0.2
rpc_seconds_sum 12.5
rpc_seconds_count %d
# TYPE req_seconds histogram
req_seconds_bucket{path="/a",le="0.1"} 3
req_seconds_bucket{path="/a",le="+Inf"} 4
req_seconds_sum{path="/a"} 0.9
req_seconds_count{path="/a"} 4
odd_untyped{x="a\"b\\c\nd"} 7
`

const omPayload = `# TYPE http_requests counter
http_requests_total{code="200"} %d
# TYPE temp gauge
temp 21.5
# EOF
`

func series(ss []result.Series) map[string]result.Series {
	m := map[string]result.Series{}
	for _, s := range ss {
		m[s.Name+s.Labels] = s
	}
	return m
}

func TestScraperText(t *testing.T) {
	var n atomic.Int64
	var accept atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accept.Store(r.Header.Get("Accept"))
		k := n.Add(1)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, textPayload, 100*k, 10*k)
	}))
	defer srv.Close()
	s, err := NewScraper(srv.URL+"/metrics", nil, func(u string) string { return u })
	if err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, s, 2, 0)
	if len(got) != 2 || got[0].Err != "" || got[1].Err != "" {
		t.Fatalf("readings: %+v", got)
	}
	if a, _ := accept.Load().(string); !strings.Contains(a, "text/plain;version=0.0.4") || !strings.Contains(a, "application/openmetrics-text;version=1.0.0") {
		t.Errorf("Accept = %q; want the text format and OpenMetrics", a)
	}
	m := series(got[0].New)
	want := map[string]string{
		`http_requests_total{code="200",method="get"}`: result.SignalCounter,
		`heap_bytes`:                              result.SignalGauge,
		`rpc_seconds{quantile="0.5"}`:             result.SignalGauge,
		`rpc_seconds{quantile="0.99"}`:            result.SignalGauge,
		`rpc_seconds_sum`:                         result.SignalCounter,
		`rpc_seconds_count`:                       result.SignalCounter,
		`req_seconds_bucket{le="0.1",path="/a"}`:  result.SignalCounter,
		`req_seconds_bucket{le="+Inf",path="/a"}`: result.SignalCounter,
		`req_seconds_sum{path="/a"}`:              result.SignalCounter,
		`req_seconds_count{path="/a"}`:            result.SignalCounter,
		`odd_untyped{x="a\"b\\c\nd"}`:             result.SignalGauge,
	}
	for k, kind := range want {
		if s, ok := m[k]; !ok || s.Kind != kind {
			t.Errorf("series %s: got %+v, want kind %s (all: %v)", k, s, kind, keys(m))
		}
	}
	if len(m) != len(want) {
		t.Errorf("%d series, want %d: %v", len(m), len(want), keys(m))
	}
	if s := m[`http_requests_total{code="200",method="get"}`]; s.Initial != 100 {
		t.Errorf("counter initial %v, want 100", s.Initial)
	}
	// Second reading: only the two counters that grew, as increases.
	vals := map[uint32]float64{}
	for _, v := range got[1].Values {
		vals[v.ID] = v.V
	}
	if len(got[1].New) != 0 || len(vals) != 2 || vals[m[`http_requests_total{code="200",method="get"}`].ID] != 100 || vals[m["rpc_seconds_count"].ID] != 10 {
		t.Errorf("second reading: new %v, values %v; want the two increases 100 and 10", got[1].New, got[1].Values)
	}
}

func keys(m map[string]result.Series) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestScraperOpenMetrics(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", string(expfmt.FmtOpenMetrics_1_0_0))
		fmt.Fprintf(w, omPayload, 5*n.Add(1))
	}))
	defer srv.Close()
	s, _ := NewScraper(srv.URL, nil, func(u string) string { return u })
	got, _ := readAll(t, s, 2, 0)
	m := series(got[0].New)
	if c, ok := m[`http_requests_total{code="200"}`]; !ok || c.Kind != result.SignalCounter || c.Initial != 5 {
		t.Errorf("OpenMetrics counter: %+v (all %v)", c, keys(m))
	}
	if g := m["temp"]; g.Kind != result.SignalGauge || g.Initial != 21.5 {
		t.Errorf("OpenMetrics gauge: %+v", g)
	}
	if len(got[1].Values) != 1 || got[1].Values[0].V != 5 {
		t.Errorf("second reading's values %v; want the counter's increase of 5", got[1].Values)
	}
}

// TestScraperFailures: a failed status, a slow answer, a refused
// connection and a body that does not parse are each a reading with Err,
// and the URL's secrets are in none of them.
func TestScraperFailures(t *testing.T) {
	slow := make(chan struct{})
	defer close(slow)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/503":
			http.Error(w, "down", http.StatusServiceUnavailable)
		case "/slow":
			select {
			case <-slow:
			case <-r.Context().Done():
			}
		case "/garbage":
			fmt.Fprint(w, "this is { not metrics\n")
		}
	}))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	redact := func(u string) string { return strings.ReplaceAll(u, "s3cret", "REDACTED") }
	for _, c := range []struct{ url, want string }{
		{srv.URL + "/503?token=s3cret", "status 503"},
		{srv.URL + "/slow?token=s3cret", "no answer within 40ms"},
		{closed.URL + "/x?token=s3cret", "connection refused"},
		{srv.URL + "/garbage?token=s3cret", "parse"},
	} {
		s, err := NewScraper(c.url, nil, redact)
		if err != nil {
			t.Fatal(err)
		}
		out := &collect{}
		r := &Run{cfg: Config{Interval: 50 * time.Millisecond}.withDefaults(), origin: time.Now(), out: out, mem: &Memory{}}
		start := time.Now()
		r.read(s, newTable(s.Name(), 10))
		g := out.scrapes[0]
		if !strings.Contains(g.Err, c.want) || len(g.New) != 0 || g.Took <= 0 || g.Took > time.Since(start) {
			t.Errorf("%s: reading %+v; want Err containing %q, no series, its time taken", c.url, g, c.want)
		}
		if strings.Contains(g.Err+g.Source, "s3cret") {
			t.Errorf("%s: the secret reached the reading: %+v", c.url, g)
		}
	}
	if _, err := NewScraper("ftp://x/metrics", nil, redact); err == nil {
		t.Error("NewScraper took an ftp URL")
	}
}

// gen5000 is a payload of 5,000 series: 50 histogram families of 10
// buckets (+Inf, _sum, _count) over 8 label values, and gauges, as a
// large real endpoint exposes.
func gen5000(round int) []byte {
	var b bytes.Buffer
	n := 0
	for f := 0; n < 5000; f++ {
		if f%2 == 0 {
			fmt.Fprintf(&b, "# TYPE fam%d_seconds histogram\n", f)
			for l := 0; l < 8 && n < 5000; l++ {
				for i, le := range []string{"0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "10", "+Inf"} {
					fmt.Fprintf(&b, "fam%d_seconds_bucket{handler=\"/h%d\",method=\"GET\",le=\"%s\"} %d\n", f, l, le, (i+1)*round)
				}
				fmt.Fprintf(&b, "fam%d_seconds_sum{handler=\"/h%d\",method=\"GET\"} %d.5\n", f, l, round)
				fmt.Fprintf(&b, "fam%d_seconds_count{handler=\"/h%d\",method=\"GET\"} %d\n", f, l, 10*round)
				n += 12
			}
		} else {
			fmt.Fprintf(&b, "# TYPE fam%d_bytes gauge\n", f)
			for l := 0; l < 20 && n < 5000; l++ {
				fmt.Fprintf(&b, "fam%d_bytes{pool=\"p%d\"} %d\n", f, l, (l*round)%7)
				n++
			}
		}
	}
	return b.Bytes()
}

// BenchmarkScrape is one reading of a 5,000-series endpoint: parse and
// diff, the HTTP exchange left out; every value changing at every reading
// (all), or one family of 190 (one).
func BenchmarkScrape(b *testing.B) {
	one := gen5000(1)
	oneMore := bytes.Replace(one, []byte("fam1_bytes{pool=\"p1\"} 1\n"), []byte("fam1_bytes{pool=\"p1\"} 9\n"), 1)
	for _, c := range []struct {
		name     string
		payloads [][]byte
	}{{"all", [][]byte{gen5000(1), gen5000(2)}}, {"one", [][]byte{one, oneMore}}} {
		b.Run(c.name, func(b *testing.B) {
			s := &Scraper{name: "bench"}
			tb := newTable("bench", DefaultMaxSeries)
			var sc result.Scrape
			b.ReportAllocs()
			b.SetBytes(int64(len(c.payloads[0])))
			for i := 0; b.Loop(); i++ {
				tb.begin()
				rd := &Reading{t: tb}
				if err := s.parse(bytes.NewReader(c.payloads[i%2]), expfmt.FmtText, rd); err != nil {
					b.Fatal(err)
				}
				tb.commit(&sc)
				for _, f := range rd.commits {
					f()
				}
				for j := range tb.fresh {
					tb.fresh[j].id = uint32(j + 1)
				}
				if i > 0 && c.name == "one" && len(sc.Values) != 1 {
					b.Fatalf("%d values changed, want 1", len(sc.Values))
				}
			}
			if len(tb.byKey) != 5000 {
				b.Fatalf("%d series, want 5000", len(tb.byKey))
			}
		})
	}
}
