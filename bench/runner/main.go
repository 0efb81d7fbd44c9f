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
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
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
	baseline    = flag.String("baseline", "", "also run every surge row with this prebuilt surge binary, labelled (baseline), and print after/baseline ratios")
)

const addr = "127.0.0.1:8089"

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// tools are the binaries under comparison; baseline is empty unless
// -baseline names a second surge binary.
type tools struct{ surge, baseline, target, wrk, vegeta string }

// surges are the surge binaries to run: the one under test, labelled "",
// and the baseline, labelled " (baseline)", when there is one.
func (t tools) surges() []surgeBinary {
	s := []surgeBinary{{bin: t.surge}}
	if t.baseline != "" {
		s = append(s, surgeBinary{bin: t.baseline, label: " (baseline)"})
	}
	return s
}

// surgeBinary is one surge binary and the suffix of its rows' names.
type surgeBinary struct{ bin, label string }

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
	if *baseline != "" {
		if !exists(*baseline) {
			return fmt.Errorf("-baseline %s: no such file", *baseline)
		}
		t.baseline = *baseline
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
	if t.baseline != "" {
		fmt.Fprintf(&md, "Rows marked (baseline) run %s, in the same rounds, each right after its counterpart.\n\n", t.baseline)
	}
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
