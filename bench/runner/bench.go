// The measurements, one function per -only value, and the rows they run
// in turns.

package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/surge-dev/surge/result"
)

// gen is one row of a measurement: its name and how to run it once in
// round i.
type gen struct {
	name string
	run  func(i int) (usage, error)
}

// rounds runs every gen once per round, -runs rounds, so the rows take
// turns and share the machine's noise; it returns each row's usages.
func rounds(gens []gen) (map[string][]usage, error) {
	res := map[string][]usage{}
	for i := range *runs {
		for _, g := range gens {
			u, err := g.run(i)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", g.name, err)
			}
			res[g.name] = append(res[g.name], u)
		}
	}
	return res, nil
}

// baselineRatio writes one line comparing the figure f of each row with
// its baseline row: after/baseline. It writes nothing without -baseline.
func baselineRatio(md *strings.Builder, res map[string][]usage, what string, names []string, f func(usage) float64) {
	if *baseline == "" {
		return
	}
	parts := make([]string, 0, len(names))
	for _, n := range names {
		after, base := median(res[n], f), median(res[n+" (baseline)"], f)
		parts = append(parts, fmt.Sprintf("`%s` **%.2f×**", n, after/base))
	}
	fmt.Fprintf(md, "After/baseline %s: %s.\n\n", what, strings.Join(parts, "; "))
}

// surgeRows returns one row per surge binary (see tools.surges), named
// name plus the binary's label, that runs "surge attack" with args and
// -quiet -output <file><k>-<i>.srg, and reads its figures with the same
// binary's report.
func surgeRows(t tools, name, file string, args ...string) []gen {
	var gs []gen
	for k, s := range t.surges() {
		gs = append(gs, gen{name + s.label, func(i int) (usage, error) {
			f := fmt.Sprintf("%s%d-%d.srg", file, k, i)
			argv := append([]string{s.bin, "attack"}, args...)
			argv = append(argv, "-quiet", "-output", f)
			u, err := measure(argv, strings.NewReader("GET http://"+addr+"/\n"), nil)
			if err != nil {
				return u, err
			}
			return u, surgeFigures(s.bin, f, &u)
		}})
	}
	return gs
}

func benchMax(md *strings.Builder, t tools, dir string) error {
	d, c := durArg(), strconv.Itoa(*connections)
	url := "http://" + addr + "/"
	loops := strconv.Itoa(nproc() + 1)
	// maxRows are surge's rows at max rate with extra flags.
	maxRows := func(name, tag string, extra ...string) []gen {
		args := append(append([]string{"-rate", "max"}, extra...), "-connections", c, "-duration", d)
		return surgeRows(t, name, filepath.Join(dir, "max"+tag), args...)
	}
	gens := []gen{{"wrk", func(int) (usage, error) {
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
	}}}
	gens = append(gens, maxRows("surge", "")...)
	gens = append(gens, maxRows("surge -loops "+loops, "l", "-loops", loops)...)
	gens = append(gens, maxRows("surge -event-loop=false", "g", "-event-loop=false")...)
	gens = append(gens, gen{"vegeta", func(i int) (usage, error) {
		f := filepath.Join(dir, fmt.Sprintf("max-%d.bin", i))
		u, err := measure([]string{t.vegeta, "attack", "-rate", "0", "-max-workers", c, "-workers", c, "-duration", d, "-output", f},
			strings.NewReader("GET "+url+"\n"), nil)
		if err != nil {
			return u, err
		}
		return u, vegetaFigures(t, f, &u)
	}})
	res, err := rounds(gens)
	if err != nil {
		return err
	}
	perCPU := func(u usage) float64 { return u.requests / u.cpu.Seconds() }
	fmt.Fprintf(md, "### Max rate, %d connections, %s, every request recorded (wrk records none)\n\n", *connections, *duration)
	fmt.Fprintln(md, "| generator | requests/s | requests per CPU-second | CPU-seconds | peak RSS | results bytes/request |")
	fmt.Fprintln(md, "|---|---|---|---|---|---|")
	for _, g := range gens {
		us := res[g.name]
		rps := median(us, func(u usage) float64 { return u.requests / duration.Seconds() })
		cpu := median(us, func(u usage) float64 { return u.cpu.Seconds() })
		rss := median(us, func(u usage) float64 { return float64(u.rss) / (1 << 20) })
		size := "—"
		if b := median(us, func(u usage) float64 { return float64(u.bytes) / u.requests }); b > 0 {
			size = fmt.Sprintf("%.1f", b)
		}
		fmt.Fprintf(md, "| %s | %.0f | %.0f | %.2f | %.0f MB | %s |\n", g.name, rps, median(us, perCPU), cpu, rss, size)
	}
	w, s, v := median(res["wrk"], perCPU), median(res["surge"], perCPU), median(res["vegeta"], perCPU)
	fmt.Fprintf(md, "\nsurge/wrk requests per CPU-second: **%.2f×**; surge/vegeta: **%.2f×**.\n", s/w, s/v)
	rps := func(name string) float64 { return median(res[name], func(u usage) float64 { return u.requests }) }
	sl := median(res["surge -loops "+loops], perCPU)
	fmt.Fprintf(md, "surge/wrk requests/s: **%.2f×**; with `-loops %s`: **%.2f×** at %.2f× wrk's requests per CPU-second.\n\n",
		rps("surge")/rps("wrk"), loops, rps("surge -loops "+loops)/rps("wrk"), sl/w)
	baselineRatio(md, res, "max-rate requests per CPU-second", []string{"surge", "surge -loops " + loops, "surge -event-loop=false"}, perCPU)
	return nil
}

func benchFixed(md *strings.Builder, t tools, dir string) error {
	url := "http://" + addr + "/"
	fmt.Fprintf(md, "### Fixed rate, %s\n\n", *duration)
	fmt.Fprintln(md, "| rate | generator | achieved rate | error vs requested | send lag p99 | CPU µs/request | peak RSS | success |")
	fmt.Fprintln(md, "|---|---|---|---|---|---|---|---|")
	cpuPerReq := func(u usage) float64 { return u.cpu.Seconds() * 1e6 / u.requests }
	for _, rs := range strings.Split(*rates, ",") {
		rate, err := strconv.Atoi(rs)
		if err != nil {
			return fmt.Errorf("-rates: %v", err)
		}
		f := filepath.Join(dir, fmt.Sprintf("fixed-%d", rate))
		gens := surgeRows(t, "surge", f, "-rate", rs, "-duration", durArg())
		// The same with a wake-up for every tick: what the default
		// tick window saves, and its send lag.
		gens = append(gens, surgeRows(t, "surge -tick-window 0", f+"-w0-", "-rate", rs, "-tick-window", "0", "-duration", durArg())...)
		gens = append(gens, gen{"vegeta", func(i int) (usage, error) {
			bin := fmt.Sprintf("%s-%d.bin", f, i)
			u, err := measure([]string{t.vegeta, "attack", "-rate", rs, "-duration", durArg(), "-output", bin},
				strings.NewReader("GET "+url+"\n"), nil)
			if err != nil {
				return u, err
			}
			return u, vegetaFigures(t, bin, &u)
		}})
		res, err := rounds(gens)
		if err != nil {
			return err
		}
		for _, g := range gens {
			us := res[g.name]
			ach := median(us, func(u usage) float64 { return u.rate })
			lag := "—"
			if g.name != "vegeta" {
				lag = time.Duration(median(us, func(u usage) float64 { return float64(u.lagP99) })).Round(time.Microsecond).String()
			}
			fmt.Fprintf(md, "| %d/s | %s | %.1f | %+.2f%% | %s | %.1f | %.0f MB | %.2f%% |\n", rate, g.name, ach, 100*(ach-float64(rate))/float64(rate),
				lag, median(us, cpuPerReq), median(us, func(u usage) float64 { return float64(u.rss) / (1 << 20) }),
				100*median(us, func(u usage) float64 { return u.success }))
		}
		cpu := func(name string) float64 { return median(res[name], cpuPerReq) }
		fmt.Fprintf(md, "\nAt %d/s surge uses **%.2f×** vegeta's CPU per request (%.2f× with `-tick-window 0`).\n\n", rate,
			cpu("surge")/cpu("vegeta"), cpu("surge -tick-window 0")/cpu("vegeta"))
		baselineRatio(md, res, fmt.Sprintf("CPU per request at %d/s", rate), []string{"surge", "surge -tick-window 0"}, cpuPerReq)
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
	var gens []gen
	for _, s := range t.surges() {
		gens = append(gens, gen{"surge report" + s.label, func(int) (usage, error) {
			return measure([]string{s.bin, "report", srg}, nil, io.Discard)
		}})
	}
	gens = append(gens, gen{"vegeta report", func(int) (usage, error) {
		return measure([]string{t.vegeta, "report", gob}, nil, io.Discard)
	}})
	res, err := rounds(gens)
	if err != nil {
		return err
	}
	size := func(p string) float64 { st, _ := os.Stat(p); return float64(st.Size()) / float64(*reportN) }
	wall := func(u usage) float64 { return u.wall.Seconds() }
	fmt.Fprintf(md, "### Report over %d results\n\n", *reportN)
	fmt.Fprintln(md, "| tool | wall time | peak RSS | file bytes/request |")
	fmt.Fprintln(md, "|---|---|---|---|")
	for _, g := range gens {
		us := res[g.name]
		file := fmt.Sprintf("%.1f", size(srg))
		if g.name == "vegeta report" {
			file = fmt.Sprintf("%.1f (gob)", size(gob))
		}
		fmt.Fprintf(md, "| %s | %.2fs | %.0f MB | %s |\n", g.name, median(us, wall), median(us, func(u usage) float64 { return float64(u.rss) / (1 << 20) }), file)
	}
	fmt.Fprintf(md, "\nsurge report is **%.1f×** faster.\n\n", median(res["vegeta report"], wall)/median(res["surge report"], wall))
	baselineRatio(md, res, "report wall time", []string{"surge report"}, wall)
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
