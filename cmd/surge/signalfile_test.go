package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// signalRun writes a results file of n results at 1,000/s with a reading
// of one source every second among them (or none), and returns the
// readings written.
func signalRun(t *testing.T, path string, n int, scrapes bool) []result.Scrape {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := result.NewWriter(f, &result.Meta{ID: "signals", Start: time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC), Rate: 1000,
		Targets: []string{"GET http://127.0.0.1:8080/"}})
	if err != nil {
		t.Fatal(err)
	}
	const src = "http://127.0.0.1:8080/metrics"
	var written []result.Scrape
	for i := range n {
		at := time.Duration(i) * time.Millisecond
		if scrapes && i%1000 == 0 {
			s := result.Scrape{At: at, Took: 2 * time.Millisecond, Source: src,
				Values: []result.SignalValue{{ID: 1, V: float64(i / 1000)}, {ID: 2, V: 0.0025}}}
			if i == 0 {
				s.Values = nil
				s.New = []result.Series{
					{ID: 1, Source: src, Name: "go_goroutines", Kind: result.SignalGauge, Initial: 10},
					{ID: 2, Source: src, Name: "go_gc_duration_seconds_sum", Kind: result.SignalCounter, Initial: 0.5},
				}
			}
			if i == 3000 {
				s = result.Scrape{At: at, Took: time.Second, Source: src, Err: "timeout"}
			}
			w.AddScrape(nil, &s)
			written = append(written, s)
		}
		w.Add(nil, &result.Result{Seq: uint64(i), Label: "GET /", Intended: at, Sent: at, Latency: time.Millisecond + time.Duration(i%7)*time.Millisecond, Status: 200, BytesIn: 10})
	}
	if err := w.Close(); err != nil || w.Err() != nil {
		t.Fatalf("close: %v, %v", err, w.Err())
	}
	return written
}

// scrapeCollector is a result.ScrapeConsumer that keeps what it is given.
type scrapeCollector struct {
	results int
	scrapes []result.Scrape
	after   []int // results before each reading
}

func (c *scrapeCollector) Add(*result.Meta, *result.Result)      { c.results++ }
func (c *scrapeCollector) AddMarker(*result.Meta, result.Marker) {}
func (c *scrapeCollector) AddScrape(m *result.Meta, s *result.Scrape) {
	if m == nil || m.ID != "signals" {
		panic("AddScrape without the run's header")
	}
	cp := *s
	cp.New, cp.Values = slices.Clone(s.New), slices.Clone(s.Values)
	c.scrapes = append(c.scrapes, cp)
	c.after = append(c.after, c.results)
}

// TestSignalFileCommands: a results file with server-signal blocks is read
// by report, plot, compare and encode without a warning and with the
// same figures as the file without them, and readResults hands its
// readings on in stream order.
func TestSignalFileCommands(t *testing.T) {
	dir := t.TempDir()
	with, without := filepath.Join(dir, "with.srg"), filepath.Join(dir, "without.srg")
	written := signalRun(t, with, 5500, true)
	signalRun(t, without, 5500, false)

	var c scrapeCollector
	var errb bytes.Buffer
	if err := readResults(&env{strings.NewReader(""), &bytes.Buffer{}, &errb}, []string{with}, &c, nil); err != nil || errb.Len() != 0 {
		t.Fatalf("readResults: %v, stderr %q", err, errb.String())
	}
	if diff := cmp.Diff(written, c.scrapes); diff != "" {
		t.Errorf("readings read back differ (-written +read):\n%s", diff)
	}
	if want := []int{0, 1000, 2000, 3000, 4000, 5000}; !slices.Equal(c.after, want) {
		t.Errorf("readings came after %v results, want %v (stream order)", c.after, want)
	}

	// The summary the reports use folds them.
	sm := summary.New(summary.Options{})
	if err := readResults(&env{strings.NewReader(""), &bytes.Buffer{}, &errb}, []string{with}, sm, nil); err != nil {
		t.Fatal(err)
	}
	src := sm.ScrapeSources()
	if len(src) != 1 || src[0].Readings != 6 || src[0].Failed != 1 || src[0].LastErr != "timeout" || src[0].Series != 2 || src[0].Changed != 2 {
		t.Errorf("summary's sources %+v; want 6 readings of 2 series, 1 failed by timeout, 2 changed", src)
	}
	if sigs := sm.Signals(); len(sigs) != 2 || len(sigs[0].Points) != 5 || sigs[0].Points[4].V != 5 || sigs[0].Points[4].At != 5*time.Second {
		t.Errorf("summary's signals %+v; want 2 of 5 points (the failed reading has none), go_goroutines at 5 at 5s", sigs)
	}

	for _, args := range [][]string{
		{"report"}, {"report", "-type", "json"}, {"plot"}, {"encode", "-to", "csv"},
	} {
		code, got, stderr := surge(t, context.Background(), "", append(args, with)...)
		code2, want, _ := surge(t, context.Background(), "", append(args, without)...)
		if code != 0 || code2 != 0 || stderr != "" {
			t.Fatalf("%v: exit %d (without signals %d), stderr %q", args, code, code2, stderr)
		}
		if args[0] == "report" && !strings.Contains(got, "5500") {
			t.Errorf("%v of the file with signals lacks its 5500 requests:\n%s", args, got)
		}
		if args[0] == "encode" && got != want {
			t.Errorf("%v: the file with signals encodes to other rows than the file without", args)
		}
	}
	code, out, stderr := surge(t, context.Background(), "", "compare", "-type", "json", without, with)
	if code != 0 || stderr != "" || !json.Valid([]byte(out)) {
		t.Fatalf("compare: exit %d, stderr %q:\n%s", code, stderr, out)
	}
}
