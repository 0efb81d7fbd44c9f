package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
)

// startPrometheus starts Debian's prometheus on a free loopback port with
// its own data directory, scraping itself every second, and returns its
// base URL and process; it is killed by PID when the test ends. A missing
// binary fails the test: ./test.sh installs the package.
func startPrometheus(t *testing.T) (string, *exec.Cmd) {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("prometheus is not installed (apt-get install prometheus; ./test.sh installs it): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "prometheus.yml")
	yml := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['%s']\n", addr)
	if err := os.WriteFile(conf, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, cmd
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Fatalf("prometheus did not become ready on %s: %v\n%s", addr, err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// procCPU returns the CPU time (user + system) of pid from /proc/PID/stat.
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100) // USER_HZ = 100 on Linux
}

// TestPrometheusSignals loads a real Prometheus server nobody on the
// project wrote: surge queries its /api/v1/query at 10/s (a count over
// all its series, ~50ms) for 16 s, scraping its own /metrics and watching
// its PID every 250ms, while the test, as a dashboard beside it would,
// runs four heavy queries at once (a subquery of that count over 10
// minutes at 1 s steps) for 1.5 s out of every 4 s. Truth, measured apart
// from surge from /proc/PID/stat: Prometheus's CPU rate during the bursts
// against between them. The finding names a CPU or Go-runtime series of
// Prometheus's (its CPU time, GC or allocation), and no series of the
// generator's.
func TestPrometheusSignals(t *testing.T) {
	base, cmd := startPrometheus(t)
	pid := cmd.Process.Pid
	time.Sleep(3 * time.Second) // a few self-scrapes to query
	heavy := base + "/api/v1/query?query=" + url.QueryEscape(`max_over_time(count({__name__=~".+"})[10m:1s])`)
	light := base + "/api/v1/query?query=" + url.QueryEscape(`count({__name__=~".+"})`)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var burstCPU, quietCPU, burstWall, quietWall time.Duration
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			c0, t0 := procCPU(t, pid), time.Now()
			var bw sync.WaitGroup
			for range 4 {
				bw.Add(1)
				go func() {
					defer bw.Done()
					for time.Since(t0) < 1500*time.Millisecond && ctx.Err() == nil {
						if resp, err := http.Get(heavy); err == nil {
							_, _ = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
						}
					}
				}()
			}
			bw.Wait()
			c1, t1 := procCPU(t, pid), time.Now()
			select {
			case <-ctx.Done():
			case <-time.After(4*time.Second - t1.Sub(t0)):
			}
			c2, t2 := procCPU(t, pid), time.Now()
			mu.Lock()
			burstCPU, burstWall = burstCPU+c1-c0, burstWall+t1.Sub(t0)
			quietCPU, quietWall = quietCPU+c2-c1, quietWall+t2.Sub(t1)
			mu.Unlock()
		}
	}()
	f, machine := signalAttack(t, light, "-rate", "10/1s", "-duration", "16s", "-timeout", "10s",
		"-scrape", base+"/metrics", "-watch", strconv.Itoa(pid), "-scrape-interval", "250ms")
	cancel()
	wg.Wait()
	burst, quiet := burstCPU.Seconds()/burstWall.Seconds(), quietCPU.Seconds()/quietWall.Seconds()
	t.Logf("truth from /proc/%d/stat: Prometheus used %.2f CPUs during the bursts, %.2f between them", pid, burst, quiet)
	if burst < 2*quiet {
		machine.Fail(t, analyze.LagLimit, "the bursts did not load Prometheus (%.2f CPUs against %.2f): the test's premise failed", burst, quiet)
		return
	}
	sf := f.Labels[0].Signals
	if sf == nil {
		t.Fatal("no signal findings: the scrape recorded nothing")
	}
	var causes []string
	for _, m := range sf.Matches {
		if m.Generator {
			t.Errorf("a generator series named against Prometheus: %s", m.Text)
		}
		if !m.Symptom && (strings.HasPrefix(m.Name, "process_cpu") || strings.HasPrefix(m.Name, "go_gc") || strings.HasPrefix(m.Name, "go_memstats") || strings.HasPrefix(m.Name, "go_sched")) {
			causes = append(causes, m.Name)
		}
	}
	t.Logf("CPU and runtime series named: %v", causes)
	if len(causes) == 0 {
		machine.Fail(t, analyze.LagLimit, "no CPU or Go-runtime series of Prometheus named: %s", sf.Text)
	}
}
