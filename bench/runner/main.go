// Command runner measures surge side by side with wrk and vegeta on this
// machine: requests per generator CPU-second at max rate, rate accuracy and
// CPU per request at fixed rates, results-file size, report speed and
// memory. Every figure is the median of -runs rounds; tools alternate
// within a round so they share the machine's noise. Only loopback is used.
//
// Usage (from the repository root; bench/run.sh installs wrk and vegeta):
//
//	go run ./bench/runner -duration 10s -runs 3
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/surge-dev/surge/result"
)

var (
	duration    = flag.Duration("duration", 10*time.Second, "length of each load run")
	runs        = flag.Int("runs", 3, "rounds per measurement (median reported)")
	connections = flag.Int("connections", 50, "connections at max rate")
	pin         = flag.Bool("pin", false, "pin the generator to CPU 0 and the target to CPU 1 (taskset)")
	only        = flag.String("only", "max,fixed,report", "measurements: max, fixed, report, memory")
	rates       = flag.String("rates", "5000,20000", "fixed rates (req/s)")
	reportN     = flag.Int("report-n", 10_000_000, "results in the report-speed file")
	memShort    = flag.Duration("mem-short", time.Minute, "short run of the memory measurement")
	memLong     = flag.Duration("mem-long", 10*time.Minute, "long run of the memory measurement")
	out         = flag.String("out", "", "also write the Markdown results here")
	surgeBin    = flag.String("surge", "", "use this surge binary instead of building ./cmd/surge")
)

const addr = "127.0.0.1:8089"

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// tools are the binaries under comparison.
type tools struct{ surge, target, wrk, vegeta string }

func run() error {
	dir, err := os.MkdirTemp("", "surge-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	t := tools{surge: filepath.Join(dir, "surge"), target: filepath.Join(dir, "target")}
	builds := map[string]string{t.surge: "./cmd/surge", t.target: "./bench/target"}
	if *surgeBin != "" {
		delete(builds, t.surge)
		t.surge = *surgeBin
	}
	for bin, pkg := range builds {
		if b, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", pkg, err, b)
		}
	}
	if t.wrk, err = exec.LookPath("wrk"); err != nil {
		return errors.New("wrk not found: install it (apt-get install wrk) or run bench/run.sh")
	}
	if t.vegeta, err = exec.LookPath("vegeta"); err != nil {
		home, _ := os.UserHomeDir()
		if t.vegeta = filepath.Join(home, "go", "bin", "vegeta"); !exists(t.vegeta) {
			return errors.New("vegeta not found: go install github.com/tsenart/vegeta/v12@v12.13.0, or run bench/run.sh")
		}
	}
	stop, err := startTarget(t.target)
	if err != nil {
		return err
	}
	defer stop()

	var md strings.Builder
	fmt.Fprintf(&md, "## surge bench — %s, %d CPUs, pinned=%v, %s runs, median of %d\n\n",
		time.Now().Format("2006-01-02 15:04"), nproc(), *pin, *duration, *runs)
	for _, m := range strings.Split(*only, ",") {
		var err error
		switch m {
		case "max":
			err = benchMax(&md, t, dir)
		case "fixed":
			err = benchFixed(&md, t, dir)
		case "report":
			err = benchReport(&md, t, dir)
		case "memory":
			err = benchMemory(&md, t, dir)
		default:
			err = fmt.Errorf("unknown measurement %q", m)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
	}
	fmt.Print(md.String())
	if *out != "" {
		return os.WriteFile(*out, []byte(md.String()), 0o644)
	}
	return nil
}

// usage is what one generator run cost and achieved.
type usage struct {
	cpu      time.Duration // user + system
	rss      int64         // peak, bytes
	wall     time.Duration
	requests float64
	rate     float64 // achieved send rate
	lagP99   time.Duration
	bytes    int64 // results file size
	success  float64
}

// measure runs argv (pinned to CPU 0 when -pin) and returns its resource
// usage; stdin and stdout may be nil.
func measure(argv []string, stdin io.Reader, stdout io.Writer) (usage, error) {
	settle()
	if *pin {
		argv = append([]string{"taskset", "-c", "0"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout = stdin, stdout
	var stderr strings.Builder
	cmd.Stderr = &stderr
	begin := time.Now()
	if err := cmd.Run(); err != nil {
		return usage{}, fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, stderr.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return usage{
		cpu:  time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		rss:  ru.Maxrss * 1024,
		wall: time.Since(begin),
	}, nil
}

// settle waits (up to 65s) until fewer than 500 connections to the
// target are in TIME_WAIT. A run that opened many connections leaves their
// ports in TIME_WAIT for a minute, and the next tool's connects pay for
// them: vegeta binds before it connects, and each bind then scans the
// taken ports (at 20,000/s this sank vegeta to 740/s in one test run).
func settle() {
	_, port, _ := strings.Cut(addr, ":")
	p, _ := strconv.Atoi(port)
	hexPort := fmt.Sprintf(":%04X", p)
	for deadline := time.Now().Add(65 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		b, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			return
		}
		n := 0
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			// local, remote, state (06 = TIME_WAIT)
			if len(f) > 3 && f[3] == "06" && strings.HasSuffix(f[2], hexPort) {
				n++
			}
		}
		if n < 500 {
			return
		}
	}
}

func benchMax(md *strings.Builder, t tools, dir string) error {
	d, c := durArg(), strconv.Itoa(*connections)
	url := "http://" + addr + "/"
	// surgeRun runs surge at max rate with extra flags.
	surgeRun := func(tag string, extra ...string) func(i int) (usage, error) {
		return func(i int) (usage, error) {
			f := filepath.Join(dir, fmt.Sprintf("max%s-%d.srg", tag, i))
			args := append([]string{t.surge, "attack", "-rate", "max"}, extra...)
			args = append(args, "-connections", c, "-duration", d, "-quiet", "-output", f)
			u, err := measure(args, strings.NewReader("GET "+url+"\n"), nil)
			if err != nil {
				return u, err
			}
			return u, surgeFigures(t, f, &u)
		}
	}
	loops := strconv.Itoa(nproc() + 1)
	gens := []struct {
		name string
		run  func(i int) (usage, error)
	}{
		{"wrk", func(int) (usage, error) {
			var o strings.Builder
			// The same request bytes as surge's: wrk sends no User-Agent,
			// and one more header costs the Go target ~3 % of its throughput.
			u, err := measure([]string{t.wrk, "-t", strconv.Itoa(min(nproc(), 2)), "-c", c, "-d", d, "-H", "User-Agent: surge", url}, nil, &o)
			if err != nil {
				return u, err
			}
			m := regexp.MustCompile(`(\d+) requests in`).FindStringSubmatch(o.String())
			if m == nil {
				return u, fmt.Errorf("wrk output without a request count:\n%s", o.String())
			}
			u.requests, _ = strconv.ParseFloat(m[1], 64)
			return u, nil
		}},
		{"surge", surgeRun("")},
		{"surge -loops " + loops, surgeRun("l", "-loops", loops)},
		{"surge -event-loop=false", surgeRun("g", "-event-loop=false")},
		{"vegeta", func(i int) (usage, error) {
			f := filepath.Join(dir, fmt.Sprintf("max-%d.bin", i))
			u, err := measure([]string{t.vegeta, "attack", "-rate", "0", "-max-workers", c, "-workers", c, "-duration", d, "-output", f},
				strings.NewReader("GET "+url+"\n"), nil)
			if err != nil {
				return u, err
			}
			return u, vegetaFigures(t, f, &u)
		}},
	}
	res := map[string][]usage{}
	for i := range *runs {
		for _, g := range gens {
			u, err := g.run(i)
			if err != nil {
				return err
			}
			res[g.name] = append(res[g.name], u)
		}
	}
	fmt.Fprintf(md, "### Max rate, %d connections, %s, every request recorded (wrk records none)\n\n", *connections, *duration)
	fmt.Fprintln(md, "| generator | requests/s | requests per CPU-second | CPU-seconds | peak RSS | results bytes/request |")
	fmt.Fprintln(md, "|---|---|---|---|---|---|")
	for _, g := range gens {
		us := res[g.name]
		perCPU := median(us, func(u usage) float64 { return u.requests / u.cpu.Seconds() })
		rps := median(us, func(u usage) float64 { return u.requests / duration.Seconds() })
		cpu := median(us, func(u usage) float64 { return u.cpu.Seconds() })
		rss := median(us, func(u usage) float64 { return float64(u.rss) / (1 << 20) })
		size := "—"
		if b := median(us, func(u usage) float64 { return float64(u.bytes) / u.requests }); b > 0 {
			size = fmt.Sprintf("%.1f", b)
		}
		fmt.Fprintf(md, "| %s | %.0f | %.0f | %.2f | %.0f MB | %s |\n", g.name, rps, perCPU, cpu, rss, size)
	}
	w := median(res["wrk"], func(u usage) float64 { return u.requests / u.cpu.Seconds() })
	s := median(res["surge"], func(u usage) float64 { return u.requests / u.cpu.Seconds() })
	v := median(res["vegeta"], func(u usage) float64 { return u.requests / u.cpu.Seconds() })
	fmt.Fprintf(md, "\nsurge/wrk requests per CPU-second: **%.2f×**; surge/vegeta: **%.2f×**.\n", s/w, s/v)
	rps := func(name string) float64 { return median(res[name], func(u usage) float64 { return u.requests }) }
	sl := median(res["surge -loops "+loops], func(u usage) float64 { return u.requests / u.cpu.Seconds() })
	fmt.Fprintf(md, "surge/wrk requests/s: **%.2f×**; with `-loops %s`: **%.2f×** at %.2f× wrk's requests per CPU-second.\n\n",
		rps("surge")/rps("wrk"), loops, rps("surge -loops "+loops)/rps("wrk"), sl/w)
	return nil
}

func benchFixed(md *strings.Builder, t tools, dir string) error {
	url := "http://" + addr + "/"
	fmt.Fprintf(md, "### Fixed rate, %s\n\n", *duration)
	fmt.Fprintln(md, "| rate | generator | achieved rate | error vs requested | send lag p99 | CPU µs/request | peak RSS | success |")
	fmt.Fprintln(md, "|---|---|---|---|---|---|---|---|")
	for _, rs := range strings.Split(*rates, ",") {
		rate, err := strconv.Atoi(rs)
		if err != nil {
			return fmt.Errorf("-rates: %v", err)
		}
		res := map[string][]usage{}
		for i := range *runs {
			f := filepath.Join(dir, fmt.Sprintf("fixed-%d-%d", rate, i))
			u, err := measure([]string{t.surge, "attack", "-rate", rs, "-duration", durArg(), "-quiet", "-output", f + ".srg"},
				strings.NewReader("GET "+url+"\n"), nil)
			if err != nil {
				return err
			}
			if err := surgeFigures(t, f+".srg", &u); err != nil {
				return err
			}
			res["surge"] = append(res["surge"], u)
			// The same with a wake-up for every tick: what the default
			// tick window saves, and its send lag.
			u, err = measure([]string{t.surge, "attack", "-rate", rs, "-tick-window", "0", "-duration", durArg(), "-quiet", "-output", f + "-w0.srg"},
				strings.NewReader("GET "+url+"\n"), nil)
			if err != nil {
				return err
			}
			if err := surgeFigures(t, f+"-w0.srg", &u); err != nil {
				return err
			}
			res["surge -tick-window 0"] = append(res["surge -tick-window 0"], u)
			u, err = measure([]string{t.vegeta, "attack", "-rate", rs, "-duration", durArg(), "-output", f + ".bin"},
				strings.NewReader("GET "+url+"\n"), nil)
			if err != nil {
				return err
			}
			if err := vegetaFigures(t, f+".bin", &u); err != nil {
				return err
			}
			res["vegeta"] = append(res["vegeta"], u)
		}
		cpuPer := map[string]float64{}
		for _, g := range []string{"surge", "surge -tick-window 0", "vegeta"} {
			us := res[g]
			ach := median(us, func(u usage) float64 { return u.rate })
			cpuPer[g] = median(us, func(u usage) float64 { return u.cpu.Seconds() * 1e6 / u.requests })
			lag := "—"
			if g != "vegeta" {
				lag = time.Duration(median(us, func(u usage) float64 { return float64(u.lagP99) })).Round(time.Microsecond).String()
			}
			fmt.Fprintf(md, "| %d/s | %s | %.1f | %+.2f%% | %s | %.1f | %.0f MB | %.2f%% |\n", rate, g, ach, 100*(ach-float64(rate))/float64(rate),
				lag, cpuPer[g], median(us, func(u usage) float64 { return float64(u.rss) / (1 << 20) }),
				100*median(us, func(u usage) float64 { return u.success }))
		}
		fmt.Fprintf(md, "\nAt %d/s surge uses **%.2f×** vegeta's CPU per request (%.2f× with `-tick-window 0`).\n\n", rate,
			cpuPer["surge"]/cpuPer["vegeta"], cpuPer["surge -tick-window 0"]/cpuPer["vegeta"])
	}
	return nil
}

// benchReport times 'surge report' and 'vegeta report' over the same
// results, -report-n of them, synthesised with a realistic spread.
func benchReport(md *strings.Builder, t tools, dir string) error {
	srg := filepath.Join(dir, "big.srg")
	if err := synthesize(srg, *reportN); err != nil {
		return err
	}
	gob := filepath.Join(dir, "big.gob")
	// vegeta reads surge's JSON lines (vegeta's keys) and writes its own gob.
	conv := fmt.Sprintf("%q encode -to json %q | %q encode -to gob > %q", t.surge, srg, t.vegeta, gob)
	if b, err := exec.Command("bash", "-c", "set -o pipefail; "+conv).CombinedOutput(); err != nil {
		return fmt.Errorf("convert to vegeta gob: %v\n%s", err, b)
	}
	var su, vu []usage
	for range *runs {
		u, err := measure([]string{t.surge, "report", srg}, nil, io.Discard)
		if err != nil {
			return err
		}
		su = append(su, u)
		u, err = measure([]string{t.vegeta, "report", gob}, nil, io.Discard)
		if err != nil {
			return err
		}
		vu = append(vu, u)
	}
	size := func(p string) float64 { st, _ := os.Stat(p); return float64(st.Size()) / float64(*reportN) }
	fmt.Fprintf(md, "### Report over %d results\n\n", *reportN)
	fmt.Fprintln(md, "| tool | wall time | peak RSS | file bytes/request |")
	fmt.Fprintln(md, "|---|---|---|---|")
	sw := median(su, func(u usage) float64 { return u.wall.Seconds() })
	vw := median(vu, func(u usage) float64 { return u.wall.Seconds() })
	fmt.Fprintf(md, "| surge report | %.2fs | %.0f MB | %.1f |\n", sw, median(su, func(u usage) float64 { return float64(u.rss) / (1 << 20) }), size(srg))
	fmt.Fprintf(md, "| vegeta report | %.2fs | %.0f MB | %.1f (gob) |\n", vw, median(vu, func(u usage) float64 { return float64(u.rss) / (1 << 20) }), size(gob))
	fmt.Fprintf(md, "\nsurge report is **%.1f×** faster.\n\n", vw/sw)
	return nil
}

// benchMemory compares peak RSS of a short and a long run at 5,000 req/s.
func benchMemory(md *strings.Builder, t tools, dir string) error {
	url := "http://" + addr + "/"
	fmt.Fprintln(md, "### Memory at 5,000 req/s (results to a file)\n\n| run | peak RSS |\n|---|---|")
	var rss []float64
	for _, d := range []time.Duration{*memShort, *memLong} {
		u, err := measure([]string{t.surge, "attack", "-rate", "5000", "-duration", d.String(), "-quiet", "-output", filepath.Join(dir, "mem.srg")},
			strings.NewReader("GET "+url+"\n"), nil)
		if err != nil {
			return err
		}
		rss = append(rss, float64(u.rss)/(1<<20))
		fmt.Fprintf(md, "| %s | %.1f MB |\n", d, rss[len(rss)-1])
	}
	fmt.Fprintf(md, "\nLong/short peak RSS: **%.2f×**.\n\n", rss[1]/rss[0])
	return nil
}

// synthesize writes n results spread like a loaded API: log-normal-ish
// latencies around 2ms with a slow tail, 0.1% errors.
func synthesize(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := result.NewWriter(bw, &result.Meta{ID: "synthetic", Start: time.Now(), Rate: 10000})
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	var res result.Result
	for i := range n {
		at := time.Duration(i) * 100 * time.Microsecond
		lat := time.Duration(float64(2*time.Millisecond) * (0.5 + r.ExpFloat64()))
		if r.IntN(1000) == 0 {
			lat *= 50
		}
		res = result.Result{Seq: uint64(i), Intended: at, Sent: at + time.Duration(r.IntN(50000)), Latency: lat,
			Status: 200, BytesIn: 2}
		if r.IntN(1000) == 0 {
			res.Status, res.Error = 0, "read: connection reset by peer"
		}
		if err := w.Write(&res); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func surgeFigures(t tools, file string, u *usage) error {
	out, err := exec.Command(t.surge, "report", "-type", "json", file).Output()
	if err != nil {
		return fmt.Errorf("surge report %s: %v", file, err)
	}
	var v struct {
		Requests float64 `json:"requests"`
		Rate     float64 `json:"rate"`
		Success  float64 `json:"success"`
		SendLag  struct {
			P99 int64 `json:"99th"`
		} `json:"send_lag"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return err
	}
	if v.Success < 0.99 {
		fmt.Fprintf(os.Stderr, "bench: surge run %s had only %.2f%% success\n", file, 100*v.Success)
	}
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	u.requests, u.rate, u.lagP99, u.bytes, u.success = v.Requests, v.Rate, time.Duration(v.SendLag.P99), st.Size(), v.Success
	return nil
}

func vegetaFigures(t tools, file string, u *usage) error {
	out, err := exec.Command(t.vegeta, "report", "-type", "json", file).Output()
	if err != nil {
		return fmt.Errorf("vegeta report %s: %v", file, err)
	}
	var v struct {
		Requests float64 `json:"requests"`
		Rate     float64 `json:"rate"`
		Success  float64 `json:"success"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return err
	}
	if v.Success < 0.99 {
		fmt.Fprintf(os.Stderr, "bench: vegeta run %s had only %.2f%% success\n", file, 100*v.Success)
	}
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	u.requests, u.rate, u.bytes, u.success = v.Requests, v.Rate, st.Size(), v.Success
	return nil
}

func startTarget(bin string) (func(), error) {
	argv := []string{bin, "-addr", addr}
	if *pin {
		argv = append([]string{"taskset", "-c", "1"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return stop, nil
		}
	}
	stop()
	return nil, fmt.Errorf("target did not listen on %s within 5s", addr)
}

func median(us []usage, f func(usage) float64) float64 {
	v := make([]float64, len(us))
	for i, u := range us {
		v[i] = f(u)
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}

func durArg() string { return strconv.Itoa(int(duration.Seconds())) + "s" }

func nproc() int {
	if *pin {
		return 1
	}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 1
	}
	return max(1, strings.Count(string(b), "processor\t:"))
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
