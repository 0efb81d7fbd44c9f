package lab_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/surge-dev/surge/lab"
)

var (
	metricName = `[a-zA-Z_:][a-zA-Z0-9_:]*`
	labelPair  = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"`
	sampleLine = regexp.MustCompile(`^(` + metricName + `)(\{` + labelPair + `(?:,` + labelPair + `)*\})? (\S+)$`)
	helpLine   = regexp.MustCompile(`^# HELP (` + metricName + `) \S.*$`)
	typeLine   = regexp.MustCompile(`^# TYPE (` + metricName + `) (counter|gauge|histogram|summary|untyped)$`)
)

// parseMetrics checks text against the Prometheus text format 0.0.4 as the
// lab writes it — every family has HELP then TYPE before its samples, every
// sample is `name{labels} value` — and returns the samples keyed by
// name{labels}.
func parseMetrics(text string) (map[string]float64, error) {
	samples := map[string]float64{}
	helped, typed := map[string]bool{}, map[string]bool{}
	typ := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# HELP "):
			m := helpLine.FindStringSubmatch(line)
			if m == nil || helped[m[1]] {
				return nil, fmt.Errorf("line %d: bad or repeated HELP: %q", n, line)
			}
			helped[m[1]] = true
		case strings.HasPrefix(line, "# TYPE "):
			m := typeLine.FindStringSubmatch(line)
			if m == nil || typed[m[1]] || !helped[m[1]] {
				return nil, fmt.Errorf("line %d: bad, repeated or unannounced TYPE: %q", n, line)
			}
			typed[m[1]] = true
			typ[m[1]] = m[2]
		default:
			m := sampleLine.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("line %d: not a sample: %q", n, line)
			}
			if !typed[m[1]] && !typed[family(m[1], typ)] {
				return nil, fmt.Errorf("line %d: sample of %s before its HELP and TYPE", n, m[1])
			}
			v, err := strconv.ParseFloat(m[3], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: value: %v", n, err)
			}
			key := m[1] + m[2]
			if _, dup := samples[key]; dup {
				return nil, fmt.Errorf("line %d: duplicate sample %s", n, key)
			}
			samples[key] = v
		}
	}
	return samples, sc.Err()
}

// family returns the family a sample named name belongs to when it is the
// _sum, _count or _bucket of a summary or histogram announced in typ, else name.
func family(name string, typ map[string]string) string {
	for _, suffix := range []string{"_sum", "_count", "_bucket"} {
		base, ok := strings.CutSuffix(name, suffix)
		if ok && (typ[base] == "histogram" || typ[base] == "summary" && suffix != "_bucket") {
			return base
		}
	}
	return name
}

// labOnly keeps the lab's own samples (surge_lab_*), leaving out the Go
// runtime's and the process's, which move by themselves.
func labOnly(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if strings.HasPrefix(k, "surge_lab_") {
			out[k] = v
		}
	}
	return out
}

// scrape fetches /metrics and parses it, failing the test on any format error.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("/metrics Content-Type = %q", ct)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseMetrics(string(b))
	if err != nil {
		t.Fatalf("/metrics: %v\n%s", err, b)
	}
	return m
}

func TestMetrics(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	m := labOnly(scrape(t, base))
	if len(m) != 2 { // uptime and ready only
		t.Errorf("fresh lab has samples %v, want uptime and ready only", m)
	}

	for range 3 {
		get(t, base, "/fixed?ms=1")
	}
	get(t, base, "/fixed?jitter=0&ms=1.0&cachebuster=7") // same parameter set
	get(t, base, "/fixed?ms=2")
	get(t, base, "/cold?n=2&extra=1")
	get(t, base, "/pool?size=3&ms=1")
	get(t, base, "/error?ratio=0.5")
	get(t, base, "/error?ratio=0.5")
	get(t, base, "/pause?every=1s&for=10ms&ms=0")
	get(t, base, "/fixed?ms=bad") // 400: not counted
	get(t, base, "/nowhere")      // 404: not counted

	m = labOnly(scrape(t, base))
	if up := m["surge_lab_uptime_seconds"]; up <= 0 || up > 60 {
		t.Errorf("uptime %v", up)
	}
	delete(m, "surge_lab_uptime_seconds")
	want := map[string]float64{
		`surge_lab_ready`: 1,

		`surge_lab_requests_total{endpoint="cold",params="extra=1&n=2"}`:             1,
		`surge_lab_requests_total{endpoint="error",params="ratio=0.5"}`:              2,
		`surge_lab_requests_total{endpoint="fixed",params="ms=1"}`:                   4,
		`surge_lab_requests_total{endpoint="fixed",params="ms=2"}`:                   1,
		`surge_lab_requests_total{endpoint="pause",params="every=1s&for=10ms&ms=0"}`: 1,
		`surge_lab_requests_total{endpoint="pool",params="ms=1&size=3"}`:             1,

		`surge_lab_in_flight{endpoint="cold",params="extra=1&n=2"}`:             0,
		`surge_lab_in_flight{endpoint="error",params="ratio=0.5"}`:              0,
		`surge_lab_in_flight{endpoint="fixed",params="ms=1"}`:                   0,
		`surge_lab_in_flight{endpoint="fixed",params="ms=2"}`:                   0,
		`surge_lab_in_flight{endpoint="pause",params="every=1s&for=10ms&ms=0"}`: 0,
		`surge_lab_in_flight{endpoint="pool",params="ms=1&size=3"}`:             0,

		`surge_lab_errors_total{endpoint="error",params="ratio=0.5"}`:                     1,
		`surge_lab_pause_seconds_total{endpoint="pause",params="every=1s&for=10ms&ms=0"}`: 0,
		`surge_lab_pool_busy{endpoint="pool",params="ms=1&size=3"}`:                       0,
		`surge_lab_pool_size{endpoint="pool",params="ms=1&size=3"}`:                       3,
		`surge_lab_pool_waiting{endpoint="pool",params="ms=1&size=3"}`:                    0,
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("metrics mismatch (-want +got):\n%s", diff)
	}
}

func TestMetricsDeterministic(t *testing.T) {
	clock := newFakeClock()
	_, base := newLab(t, lab.Config{Now: clock.Now})
	for _, p := range []string{"/pool", "/fixed?ms=1", "/error", "/cold?ms=0&extra=0", "/fixed", "/reset?ratio=0"} {
		get(t, base, p)
	}
	read := func() string {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var lab []string // the runtime's own figures move by themselves
		for _, line := range strings.SplitAfter(string(b), "\n") {
			if !strings.Contains(line, " go_") && !strings.Contains(line, " process_") &&
				!strings.HasPrefix(line, "go_") && !strings.HasPrefix(line, "process_") {
				lab = append(lab, line)
			}
		}
		return strings.Join(lab, "")
	}
	first := read()
	for range 5 {
		if got := read(); got != first {
			t.Fatalf("/metrics changed between scrapes with a stopped clock:\n%s\n---\n%s", first, got)
		}
	}
	// Samples of one family are sorted by endpoint, then params.
	var order []string
	for _, line := range strings.Split(first, "\n") {
		if strings.HasPrefix(line, "surge_lab_requests_total{") {
			order = append(order, line)
		}
	}
	want := []string{
		`surge_lab_requests_total{endpoint="cold",params="extra=0&ms=0"} 1`,
		`surge_lab_requests_total{endpoint="error",params=""} 1`,
		`surge_lab_requests_total{endpoint="fixed",params=""} 1`,
		`surge_lab_requests_total{endpoint="fixed",params="ms=1"} 1`,
		`surge_lab_requests_total{endpoint="pool",params=""} 1`,
		`surge_lab_requests_total{endpoint="reset",params="ratio=0"} 1`,
	}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("requests_total order (-want +got):\n%s", diff)
	}
}

func TestParseMetricsRejects(t *testing.T) {
	for _, text := range []string{
		"surge_x 1\n", // no HELP/TYPE
		"# HELP a x\n# TYPE a gauge\na{b=\"c} 1\n", // unterminated label
		"# HELP a x\n# TYPE a gauge\na 1 2 3\n",
		"# HELP a x\n# TYPE a gauge\na one\n",
		"# TYPE a gauge\na 1\n",
		"# HELP a x\n# TYPE a gauge\na_sum 1\n",                // _sum of a gauge
		"# HELP a x\n# TYPE a summary\na_bucket{le=\"1\"} 1\n", // bucket of a summary
	} {
		if _, err := parseMetrics(text); err == nil {
			t.Errorf("parseMetrics accepted %q", text)
		}
	}
}
