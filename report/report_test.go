package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file; run with -update if the change is intended\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

const ms = time.Millisecond

var histBuckets = []time.Duration{0, 100 * ms, 500 * ms, time.Second}

// fixture is a fixed, hand-made pair of runs: three labels, a 500, a
// connection error, a not-sent request, a resent request, send lag over
// 10ms, a skipped warm-up result.
func fixture(t testing.TB, hist []time.Duration) *summary.Summary {
	t.Helper()
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	a := &result.Meta{ID: "run-a", Start: start}
	b := &result.Meta{ID: "run-b", Start: start.Add(2 * time.Second)}
	s := summary.New(summary.Options{Hist: hist})
	add := func(m *result.Meta, label string, intended, lag, latency time.Duration, status uint16, errText string, flags result.Flags) {
		s.Add(m, &result.Result{Label: label, Intended: intended, Sent: intended + lag, Latency: latency,
			Status: status, Error: errText, Flags: flags, BytesIn: int64(status) / 2, BytesOut: 64})
	}
	add(a, "GET /users", 0, 0, 30*ms, 200, "", result.Warmup)
	add(a, "GET /users", 100*ms, 200*time.Microsecond, 42*ms, 200, "", 0)
	add(a, "GET /users", 200*ms, 300*time.Microsecond, 55*ms, 200, "", 0)
	add(a, "GET /users", 300*ms, 25*ms, 120*ms, 200, "", 0)
	add(a, "GET /users", 400*ms, 150*time.Microsecond, 850*ms, 200, "", result.Resent)
	add(a, "POST /orders", 500*ms, 100*time.Microsecond, 310*ms, 201, "", 0)
	add(a, "POST /orders", 600*ms, 40*ms, 1300*ms, 201, "", 0)
	add(a, "POST /orders", 700*ms, 2*ms, 95*ms, 500, "", 0)
	add(b, "GET /health", 0, 50*time.Microsecond, 3*ms, 200, "", 0)
	add(b, "GET /health", 100*ms, 80*time.Microsecond, 2*time.Second, 0, "dial tcp 10.0.0.7:8080: connect: connection refused", 0)
	add(b, "GET /health", 200*ms, 0, 0, 0, "", result.NotSent)
	add(b, "GET /users", 300*ms, 500*time.Microsecond, 61*ms, 200, "", 0)
	return s
}

// single is one label with no generator trouble: no warning, no table.
func single(t testing.TB, hist []time.Duration) *summary.Summary {
	s := summary.New(summary.Options{Hist: hist})
	m := &result.Meta{ID: "solo", Start: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	for i := range 100 {
		at := time.Duration(i) * 10 * ms
		s.Add(m, &result.Result{Label: "GET /", Intended: at, Sent: at + 100*time.Microsecond,
			Latency: time.Duration(i+1) * ms, Status: 200, BytesIn: 512})
	}
	return s
}

func TestText(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    *summary.Summary
		o    Options
	}{
		{"text.golden", fixture(t, nil), Options{}},
		{"text_percentiles.golden", fixture(t, nil), Options{Percentiles: []float64{0.5, 0.75, 0.999}}},
		{"text_single.golden", single(t, nil), Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Text(&buf, tc.s, analyze.Diagnose(tc.s), tc.o); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.name, buf.Bytes())
		})
	}
}

func TestTextVegetaBlock(t *testing.T) {
	var buf bytes.Buffer
	ss := single(t, nil)
	if err := Text(&buf, ss, analyze.Diagnose(ss), Options{}); err != nil {
		t.Fatal(err)
	}
	// The first lines are vegeta's, in vegeta's column layout.
	want := []string{
		// Sends 0.1ms, 10.1ms, ... 990.1ms; the last completes at 1090ms.
		// Quantiles are HDR's, within 0.1%.
		"Requests      [total, rate, throughput]         100, 101.01, 91.75",
		"Duration      [total, attack, wait]             1.09s, 990ms, 99.9ms",
		"Latencies     [min, mean, 50, 90, 95, 99, max]  1ms, 50.5ms, 50.004ms, 90.046ms, 95.027ms, 99.025ms, 100ms",
		"Bytes In      [total, mean]                     51200, 512.00",
		"Bytes Out     [total, mean]                     0, 0.00",
		"Success       [ratio]                           100.00%",
		"Status Codes  [code:count]                      200:100  ",
		"Error Set:",
	}
	got := strings.Split(buf.String(), "\n")[:len(want)]
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("vegeta block (-want +got):\n%s", diff)
	}
}

func TestWarningFirst(t *testing.T) {
	var buf bytes.Buffer
	fs := fixture(t, nil)
	if err := Text(&buf, fs, analyze.Diagnose(fs), Options{}); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(buf.String(), "\n")
	// The fixture records none of the generator's figures: the warning
	// says so rather than blame -connections without the peak in flight.
	for _, want := range []string{"WARNING: 1 request never went out", "3 requests went out more than 1ms late (send lag p99 40ms)", "what limited it was not recorded"} {
		if !strings.Contains(first, want) {
			t.Errorf("first line %q does not contain %q", first, want)
		}
	}
	if strings.Contains(first, "-connections") {
		t.Errorf("first line %q names -connections, which the fixture gives no ground for", first)
	}
}

func TestJSON(t *testing.T) {
	var buf bytes.Buffer
	fs := fixture(t, nil)
	if err := JSON(&buf, fs, analyze.Diagnose(fs), Options{}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "json.golden", buf.Bytes())

	// Every key of vegeta's Metrics is there, with its unit.
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"latencies", "bytes_in", "bytes_out", "earliest", "latest", "end", "duration",
		"wait", "requests", "rate", "throughput", "success", "status_codes", "errors"} {
		if _, ok := m[k]; !ok {
			t.Errorf("vegeta key %q missing", k)
		}
	}
	lat := m["latencies"].(map[string]any)
	if got, want := lat["max"], float64(2*time.Second); got != want {
		t.Errorf("latencies.max = %v, want %v ns", got, want)
	}
	if got := m["earliest"]; got != "2025-03-01T12:00:00.1002Z" {
		t.Errorf("earliest = %v, want RFC 3339 of the first send", got)
	}
}

func TestHist(t *testing.T) {
	for _, tc := range []struct {
		name string
		hist []time.Duration
	}{
		{"exact", histBuckets},
		{"estimated", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Hist(&buf, fixture(t, tc.hist), histBuckets); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "hist.golden", buf.Bytes())
		})
	}
}

func TestHistBelowFirstBucket(t *testing.T) {
	var buf bytes.Buffer
	if err := Hist(&buf, single(t, []time.Duration{50 * ms, 90 * ms}), []time.Duration{50 * ms, 90 * ms}); err != nil {
		t.Fatal(err)
	}
	want := "Bucket         #   %       Histogram\n" +
		"[0s,    50ms]  49  49.00%  ####################################\n" +
		"[50ms,  90ms]  40  40.00%  ##############################\n" +
		"[90ms,  +Inf]  11  11.00%  ########\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestOptionErrors(t *testing.T) {
	s := fixture(t, nil)
	var buf bytes.Buffer
	if err := Text(&buf, s, analyze.Diagnose(s), Options{Bounds: []time.Duration{time.Second}}); err == nil {
		t.Error("Text with bounds other than the summary's: no error")
	}
	if err := JSON(&buf, s, analyze.Diagnose(s), Options{Percentiles: []float64{50}}); err == nil {
		t.Error("JSON with percentile 50 (not a quantile): no error")
	}
	if err := Hist(&buf, s, nil); err == nil {
		t.Error("Hist without buckets: no error")
	}
	if err := Hist(&buf, s, []time.Duration{ms, ms}); err == nil {
		t.Error("Hist with repeated buckets: no error")
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n--; f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	s := fixture(t, nil)
	for name, fn := range map[string]func(w *failWriter) error{
		"text": func(w *failWriter) error { return Text(w, s, analyze.Diagnose(s), Options{}) },
		"json": func(w *failWriter) error { return JSON(w, s, analyze.Diagnose(s), Options{}) },
		"hist": func(w *failWriter) error { return Hist(w, s, histBuckets) },
	} {
		if err := fn(&failWriter{}); err == nil {
			t.Errorf("%s: no error from a failing writer", name)
		}
	}
}

// TestNoFindings: without findings the text report ends before them and
// the JSON report's findings are null; the figures are the same.
func TestNoFindings(t *testing.T) {
	s := fixture(t, nil)
	var with, without bytes.Buffer
	if err := Text(&with, s, analyze.Diagnose(s), Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Text(&without, s, nil, Options{}); err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(with.String(), "\nFindings:\n")
	if without.String() != head {
		t.Errorf("text report without findings:\n%s\nwant the report with them, cut before them:\n%s", without.String(), head)
	}
	without.Reset()
	if err := JSON(&without, s, nil, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(without.String(), `"findings":null`) {
		t.Errorf("JSON report without findings has no null findings: %s", without.String())
	}
}

func TestEmpty(t *testing.T) {
	s := summary.New(summary.Options{})
	var buf bytes.Buffer
	if err := Text(&buf, s, analyze.Diagnose(s), Options{}); err != nil {
		t.Fatal(err)
	}
	if err := JSON(&buf, s, analyze.Diagnose(s), Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Hist(&buf, s, histBuckets); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "NaN") || strings.Contains(buf.String(), "WARNING") {
		t.Errorf("empty summary report has NaN or a warning:\n%s", buf.String())
	}
}

// TestErrorSetByClass reports a reset storm recorded by net/http before
// error classes (a message per ephemeral port), timeouts and a 500: the
// Error Set has one line per class and per status line, each with its
// count, and the JSON the same groups with their classes.
func TestErrorSetByClass(t *testing.T) {
	s := summary.New(summary.Options{})
	for i := range 600 {
		s.Add(nil, &result.Result{Seq: uint64(i), Latency: ms, Error: fmt.Sprintf(
			`Get "http://127.0.0.1:8080/": read tcp 127.0.0.1:%d->127.0.0.1:8080: read: connection reset by peer`, 40000+i)})
	}
	s.Add(nil, &result.Result{Latency: time.Second, Error: "timeout"})
	s.Add(nil, &result.Result{Latency: ms, Status: 500})
	var buf bytes.Buffer
	if err := Text(&buf, s, analyze.Diagnose(s), Options{}); err != nil {
		t.Fatal(err)
	}
	_, set, _ := strings.Cut(buf.String(), "Error Set:\n")
	set, _, _ = strings.Cut(set, "\n\n")
	want := []string{
		`reset: Get "http://127.0.0.1:8080/": read tcp 127.0.0.1:40000->127.0.0.1:8080: read: connection reset by peer (600)`,
		"timeout (1)",
		"500 Internal Server Error (1)",
	}
	if lines := strings.Split(set, "\n"); len(lines) != len(want) {
		t.Errorf("Error Set of %d lines, want %d:\n%s", len(lines), len(want), strings.Join(lines[:min(len(lines), 5)], "\n"))
	} else if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("Error Set (-want +got):\n%s", diff)
	}

	buf.Reset()
	if err := JSON(&buf, s, analyze.Diagnose(s), Options{}); err != nil {
		t.Fatal(err)
	}
	var v struct {
		Errors      []string `json:"errors"`
		ErrorCounts []struct {
			Error, Class string
			Count        int64
		} `json:"error_counts"`
	}
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Errors) != 3 || len(v.ErrorCounts) != 3 || v.ErrorCounts[0].Class != "reset" || v.ErrorCounts[0].Count != 600 ||
		v.ErrorCounts[1].Class != "timeout" || v.ErrorCounts[2].Class != "" {
		t.Errorf("JSON: %d errors, error_counts %+v; want 3 groups: reset ×600, timeout ×1, the 500 without a class", len(v.Errors), v.ErrorCounts[:min(len(v.ErrorCounts), 3)])
	}
}

// localRun is a run whose generator ran out of file descriptors: 300
// requests answered in about 300ms, 700 not sent for lack of a descriptor,
// recorded the way every client records them.
func localRun() (*summary.Summary, Options) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	m := &result.Meta{ID: "fd", Start: start}
	s := summary.New(summary.Options{})
	for i := range 1000 {
		at := time.Duration(i) * time.Millisecond
		r := result.Result{Seq: uint64(i), Intended: at, Sent: at + 20*time.Microsecond}
		if i%10 < 3 {
			r.Latency, r.Status, r.BytesIn = 300*ms+time.Duration(i)*time.Microsecond, 200, 2
		} else {
			r.Flags, r.Error = result.NotSent, "local: dial tcp 127.0.0.1:8080: socket: too many open files"
		}
		s.Add(m, &r)
	}
	return s, Options{}
}

// TestLocalShortageFirst checks that a run limited by the generator's
// file descriptors says so on its first line, names the resource and the
// failure, does not send the reader to the server's accept queue, and
// keeps the failures out of the latencies.
func TestLocalShortageFirst(t *testing.T) {
	var buf bytes.Buffer
	s, o := localRun()
	if err := Text(&buf, s, analyze.Diagnose(s), o); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "text_local.golden", buf.Bytes())
	text := buf.String()
	first, _, _ := strings.Cut(text, "\n")
	for _, want := range []string{"WARNING: 700 requests could not be sent", "file descriptors", "too many open files", "ulimit -n"} {
		if !strings.Contains(first, want) {
			t.Errorf("first line %q does not contain %q", first, want)
		}
	}
	for _, bad := range []string{"kept up", "accept queue", "cold phase:", "in-flight cap"} {
		if strings.Contains(text, bad) {
			t.Errorf("report says %q:\n%s", bad, text)
		}
	}
	if !strings.Contains(text, "Latencies     [min, mean, 50, 90, 95, 99, max]  300ms, ") {
		t.Errorf("latencies do not start at the 300ms responses:\n%s", text)
	}

	buf.Reset()
	if err := JSON(&buf, s, analyze.Diagnose(s), o); err != nil {
		t.Fatal(err)
	}
	var v struct {
		Warning  string `json:"warning"`
		NotSent  int64  `json:"not_sent"`
		Findings struct {
			Generator struct {
				Limited bool `json:"limited"`
				Local   *struct {
					NotSent  int64  `json:"not_sent"`
					Resource string `json:"resource"`
				} `json:"local"`
			} `json:"generator"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	g := v.Findings.Generator
	if !strings.HasPrefix(v.Warning, "700 requests could not be sent") || v.NotSent != 700 || !g.Limited ||
		g.Local == nil || g.Local.NotSent != 700 || g.Local.Resource != "file descriptors" {
		t.Errorf("JSON warning %q, not sent %d, generator %+v; want the shortage of 700 requests named", v.Warning, v.NotSent, g)
	}
}
