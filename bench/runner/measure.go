// How one tool run is measured: its resource usage, the figures read back
// from its results, the target it loads, and medians over rounds.

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

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

// surgeFigures reads the figures of the results file with the surge
// binary bin that wrote it.
func surgeFigures(bin, file string, u *usage) error {
	out, err := exec.Command(bin, "report", "-type", "json", file).Output()
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
