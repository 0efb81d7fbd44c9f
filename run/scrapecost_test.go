package run

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/target"
)

var (
	costRounds = flag.Int("scrapecost.rounds", 8, "BenchmarkScrapeCost: rounds, alternating without and with the scrape (ABBA)")
	costRound  = flag.Duration("scrapecost.round", 3*time.Second, "BenchmarkScrapeCost: length of each round")
)

// serverEnv names the address TestScrapeCostServer listens on, when the
// test binary is started as BenchmarkScrapeCost's server.
const serverEnv = "SURGE_SCRAPECOST_SERVER"

// metrics5000 is a Prometheus text payload of 5,000 series (histograms
// of 12 series per label set, and gauges), every value of which differs
// between round 1 and round 2: each reading changes all of them.
func metrics5000(round int) []byte {
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
				fmt.Fprintf(&b, "fam%d_bytes{pool=\"p%d\"} %d\n", f, l, l*round)
				n++
			}
		}
	}
	return b.Bytes()
}

// TestScrapeCostServer is BenchmarkScrapeCost's server when the test
// binary is started with serverEnv set: "ok" to every request, and at
// /metrics a 5,000-series payload whose values all change each time. It
// runs in a process of its own, so that its CPU is not the generator's.
// Otherwise it does nothing.
func TestScrapeCostServer(t *testing.T) {
	addr := os.Getenv(serverEnv)
	if addr == "" {
		return
	}
	payloads := [2][]byte{metrics5000(1), metrics5000(2)}
	var n atomic.Int64
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(ln.Addr().String())
	ok := []byte("ok")
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			w.Write(payloads[n.Add(1)%2])
			return
		}
		w.Write(ok)
	}))
}

// readingCount counts the readings of one source, and the failed ones.
type readingCount struct {
	source    string
	n, failed int64
}

func (c *readingCount) Add(*result.Meta, *result.Result)      {}
func (c *readingCount) AddMarker(*result.Meta, result.Marker) {}
func (c *readingCount) AddScrape(_ *result.Meta, s *result.Scrape) {
	if s.Source == c.source {
		c.n++
		if s.Err != "" {
			c.failed++
		}
	}
}

// processCPU returns the CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// countingWriter counts the bytes of a results file.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkScrapeCost measures what a scrape of a 5,000-series endpoint
// every second costs the generator at max rate: rounds of a max-rate
// attack on one target served by another process, alternating without
// and with -scrape of that process's /metrics (ABBA, so that drift of a
// shared machine hits both alike), each round's results written to a
// counted file. It reports the mean throughput of each kind, the cost
// (1 − with/without, in %), the same from the generator's CPU time per
// request (cpu_cost_%, the figure a busy machine does not blur), and the
// file's bytes per request of each.
// Run it alone: go test ./run -run '^$' -bench ScrapeCost -benchtime 1x
// (-scrapecost.rounds, -scrapecost.round).
func BenchmarkScrapeCost(b *testing.B) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestScrapeCostServer$")
	cmd.Env = append(os.Environ(), serverEnv+"=127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	base := "http://" + strings.TrimSpace(addr)
	cfg := attack.Config{Targets: []target.Target{{Method: "GET", URL: base + "/x"}}, Duration: *costRound}
	if c, err := attack.NewFastClient(cfg); err == nil {
		cfg.Client = c
	}
	for b.Loop() {
		var rates [2][]float64
		var bytesPer, cpuPer [2][]float64
		var readings, failed, doneWith int64
		var cpuWith time.Duration
		for i := range *costRounds {
			with := i%4 == 1 || i%4 == 2
			p := Plan{Config: cfg, ReserveProcs: true}
			k := 0
			if with {
				p.Scrape, p.ScrapeInterval, k = []string{base + "/metrics"}, time.Second, 1
			}
			var file countingWriter
			cpu0 := processCPU()
			seen := &readingCount{source: base + "/metrics"}
			o, err := Do(context.Background(), p, Outputs{Results: &file, Consumers: []result.Consumer{seen}})
			if err != nil {
				b.Fatal(err)
			}
			readings += seen.n
			failed += seen.failed
			rates[k] = append(rates[k], float64(o.Done)/o.Elapsed.Seconds())
			cpu := processCPU() - cpu0
			cpuPer[k] = append(cpuPer[k], float64(cpu)/float64(o.Done))
			if with {
				cpuWith += cpu
				doneWith += o.Done
			}
			bytesPer[k] = append(bytesPer[k], float64(file.n)/float64(o.Done))
		}
		mean := func(xs []float64) float64 {
			s := 0.0
			for _, x := range xs {
				s += x
			}
			return s / float64(len(xs))
		}
		without, with := mean(rates[0]), mean(rates[1])
		b.ReportMetric(without, "req/s_without")
		b.ReportMetric(with, "req/s_with")
		b.ReportMetric(100*(1-with/without), "cost_%")
		// What the scrape costs of the generator's CPU at equal work: on a
		// machine where surge has its cores to itself, max-rate throughput
		// is CPU / (CPU per request), so this is the throughput it costs
		// there; a busy machine's share of CPU moves the throughput
		// figures above far more than the scrape does.
		b.ReportMetric(100*(1-mean(cpuPer[0])/mean(cpuPer[1])), "cpu_cost_%")
		// The CPU of one reading: the with-rounds' CPU less what their
		// requests cost at the without-rounds' CPU per request. At max rate
		// surge keeps its cores busy; this over their CPU-seconds per
		// second is the share a reading a second takes there.
		b.ReportMetric((float64(cpuWith)-mean(cpuPer[0])*float64(doneWith))/float64(readings)/1e6, "cpu_ms/reading")
		b.ReportMetric(mean(cpuPer[0]), "cpu_ns/req_without")
		b.ReportMetric(mean(cpuPer[1]), "cpu_ns/req_with")
		b.ReportMetric(mean(bytesPer[0]), "B/req_without")
		b.ReportMetric(mean(bytesPer[1]), "B/req_with")
		b.ReportMetric(float64(readings)/float64(len(rates[1])), "readings/round")
		b.ReportMetric(float64(failed)/float64(len(rates[1])), "failed/round")
		slices.Sort(rates[0])
		slices.Sort(rates[1])
		b.Logf("rounds without: %.0f req/s; with: %.0f req/s", rates[0], rates[1])
	}
}
