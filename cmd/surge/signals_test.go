package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	surgerun "github.com/surge-dev/surge/run"
)

// labCounter reads one sample of the lab's /metrics, the truth the
// readings are checked against.
func labCounter(t *testing.T, base, sample string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no %s in the lab's /metrics", sample)
	return 0
}

// TestAttackScrapeLab: surge attack -scrape of the lab's /metrics writes
// its readings into the results file, and a reader gets them back: the
// lab's request counter, folded from its first value and its increases,
// ends at what the lab itself counts, which is every request surge sent.
func TestAttackScrapeLab(t *testing.T) {
	base := startLab(t)
	file := filepath.Join(t.TempDir(), "run.srg")
	code, _, stderr := surge(t, context.Background(), "GET "+base+"/fixed?ms=1\n", "attack", "-rate", "200/1s", "-duration", "1s",
		"-scrape", base+"/metrics?token=s3cret", "-scrape-interval", "100ms", "-output", file, "-quiet")
	if code != 0 {
		t.Fatalf("attack exit %d: %s", code, stderr)
	}
	sample := `surge_lab_requests_total{endpoint="fixed",params="ms=1"}`
	truth := labCounter(t, base, sample)

	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := result.NewReader(f)
	series := map[uint32]result.Series{}
	totals := map[string]float64{}
	var readings, failed int
	var lastAt time.Duration
	source := base + "/metrics?token=REDACTED"
	rd.Scrape = func(s *result.Scrape) {
		if strings.Contains(s.Source, "s3cret") {
			t.Errorf("the scrape URL's token is in the file: %q", s.Source)
		}
		if s.Source == source {
			readings++
			lastAt = s.At
			if s.Err != "" {
				failed++
			}
		}
		for _, se := range s.New {
			series[se.ID] = se
			totals[se.Source+" "+se.Name+se.Labels] = se.Initial
		}
		for _, v := range s.Values {
			se := series[v.ID]
			if se.Kind == result.SignalCounter {
				totals[se.Source+" "+se.Name+se.Labels] += v.V
			} else {
				totals[se.Source+" "+se.Name+se.Labels] = v.V
			}
		}
	}
	var r result.Result
	var sent, last time.Duration
	n := 0
	for {
		err := rd.Read(&r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if r.Flags&result.NotSent == 0 {
			sent++
		}
		last = max(last, r.Intended)
	}
	got := totals[source+" "+sample]
	if got != truth || got != float64(sent) || n < 100 {
		t.Errorf("lab counter from the file's readings %v, the lab's own %v, requests sent %d of %d results; want all equal", got, truth, sent, n)
	}
	// 1s at 100ms: about 11 readings, fewer when a busy machine skips
	// ticks; the last one after the last request was due.
	if readings < 4 || failed > readings/2 || lastAt < last {
		t.Errorf("%d readings (%d failed), the last at %v; want at least 4, most whole, the last after the last request due at %v", readings, failed, lastAt, last)
	}
	if _, ok := totals[surgerun.HealthSource+" surge_sent_total"]; !ok {
		t.Errorf("no generator health in the file; series %v", totals)
	}
}

// TestSignalFlagErrors: bad -scrape, -scrape-interval and -watch values
// are usage errors naming the flag, before any load.
func TestSignalFlagErrors(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	base := srv.URL
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"attack", "-scrape", "127.0.0.1:9090/metrics"}, `-scrape "127.0.0.1:9090/metrics": expected an http:// or https:// URL`},
		{[]string{"attack", "-scrape", base + "/metrics", "-scrape-interval", "0s"}, "-scrape-interval 0s: expected a duration of at least 10ms"},
		{[]string{"attack", "-watch", "nginx"}, `-watch "nginx": expected a process ID`},
		{[]string{"attack", "-watch", "999999999"}, "watch 999999999: no such process is running"},
		{[]string{"capacity", "-slo", "p99<1s", "-scrape", base + "/metrics", base + "/fixed"}, "-scrape and -watch record the server's signals into the results file: give -output FILE"},
	} {
		code, _, stderr := surge(t, context.Background(), "GET "+base+"/fixed?ms=1\n", append(c.args, "-duration", "1s")...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("surge %q: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("refused commands sent %d requests", hits.Load())
	}
}

// TestRunScenarioScrape: a scenario's scrape field, a path joined with
// its base_url, is read during surge run and recorded in its file.
func TestRunScenarioScrape(t *testing.T) {
	base := startLab(t)
	dir := t.TempDir()
	scn := filepath.Join(dir, "s.yaml")
	src := "base_url: " + base + "\nscrape: [/metrics]\nscrape_interval: 100ms\nrequests: [{url: '/fixed?ms=1'}]\nload:\n  model: open\n  stages:\n    - {duration: 1s, rate: 50/1s}\n"
	if err := os.WriteFile(scn, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "run.srg")
	code, _, stderr := surge(t, context.Background(), "", "run", "-quiet", "-output", file, scn)
	if code != 0 {
		t.Fatalf("run exit %d: %s", code, stderr)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := result.NewReader(f)
	var readings int
	var total float64
	ids := map[uint32]string{}
	rd.Scrape = func(s *result.Scrape) {
		if s.Source != base+"/metrics" {
			return
		}
		readings++
		for _, se := range s.New {
			ids[se.ID] = se.Name + se.Labels
			if se.Name+se.Labels == `surge_lab_requests_total{endpoint="fixed",params="ms=1"}` {
				total = se.Initial
			}
		}
		for _, v := range s.Values {
			if ids[v.ID] == `surge_lab_requests_total{endpoint="fixed",params="ms=1"}` {
				total += v.V
			}
		}
	}
	var r result.Result
	sent := 0
	for rd.Read(&r) == nil {
		if r.Flags&result.NotSent == 0 {
			sent++
		}
	}
	if truth := labCounter(t, base, `surge_lab_requests_total{endpoint="fixed",params="ms=1"}`); readings < 4 || total != truth || total != float64(sent) {
		t.Errorf("%d readings; lab counter from them %v, the lab's own %v, sent %d; want at least 4 readings and all equal", readings, total, truth, sent)
	}
}
