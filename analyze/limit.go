package analyze

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// Thresholds of the generator's limit, judged from the figures the run
// recorded of itself (result.MarkGenerator).
const (
	// PressureLimit is the CPU pressure, the share of wall time in which
	// some runnable task waited for a CPU, above which other processes
	// competed with surge for the CPU.
	PressureLimit = 0.2
	// StealLimit is the share of the machine's CPU time stolen by its
	// hypervisor above which surge's CPU was taken from outside.
	StealLimit = 0.1
	// StarvedWait is the share of the time surge's threads were ready to
	// run that they waited for a CPU above which a run counts as
	// CPU-starved even when its send lag stayed under LagLimit: surge
	// waited for the CPU longer than it ran, and the response times it
	// read were late by as much. Where the wait is not recorded, the CPU
	// pressure stands in with the same threshold.
	StarvedWait = 0.5
	// StarvedWaitFloor is the wait for a CPU, in seconds per second of
	// the run summed over surge's threads, that a starved run must also
	// reach: a light run that wakes thousands of times a second waits a
	// few microseconds each time even on an idle machine, a large share of
	// its little CPU time but about 1 % of the run.
	StarvedWaitFloor = 0.05
	// WaitLimit is the share of the time surge's threads were ready to run
	// that they spent waiting for a CPU above which other processes took
	// the CPU from surge. Where the wait is recorded it is judged instead
	// of PressureLimit, which is the machine's and not surge's.
	// On this project's 2-core machine, a surge running under SCHED_RR,
	// which no other process could take the CPU from, waited 20–23 % of
	// its ready time (wake-up latency); with other processes competing,
	// 45–97 %.
	WaitLimit = 0.4
	// ShareLimit is the fraction of a limit (descriptors, ephemeral ports)
	// whose use counts as having reached it.
	ShareLimit = 0.9
)

// Machine is what the run recorded of the generator's process and its
// machine; a field is -1 when the run did not record it (an older surge,
// or a platform without it).
type Machine struct {
	// CPUSeconds is the process's CPU time, WallSeconds the run's wall
	// time, CPUs the cores it could use (GOMAXPROCS).
	CPUSeconds  float64 `json:"cpu_seconds"`
	WallSeconds float64 `json:"wall_seconds"`
	CPUs        float64 `json:"cpus"`
	// CPUWait is the time its threads were runnable but waited for a CPU.
	CPUWait float64 `json:"cpu_wait_seconds"`
	// Involuntary and Voluntary count the process's context switches.
	Involuntary float64 `json:"ctx_switches_involuntary"`
	Voluntary   float64 `json:"ctx_switches_voluntary"`
	// MachineCPUs, Busy and Steal: the machine's CPUs and the busy and
	// stolen shares of their time.
	MachineCPUs float64 `json:"machine_cpus"`
	Busy        float64 `json:"machine_busy"`
	Steal       float64 `json:"steal"`
	// Pressure is the share of wall time some task waited for a CPU;
	// RunQueue the most runnable tasks seen.
	Pressure float64 `json:"cpu_pressure"`
	RunQueue float64 `json:"run_queue_peak"`
	// PeakInFlight and Cap: the most requests seen in flight, and the cap.
	PeakInFlight float64 `json:"peak_in_flight"`
	Cap          float64 `json:"in_flight_cap"`
	// FDs and FDLimit: descriptors held at most, and the limit.
	FDs     float64 `json:"fds_peak"`
	FDLimit float64 `json:"fd_limit"`
	// Sockets and Ports: TCP sockets of the machine at most, and the
	// ephemeral ports there are.
	Sockets float64 `json:"tcp_sockets_peak"`
	Ports   float64 `json:"ephemeral_ports"`
}

// machineOf gathers the figures recorded by runs: sums of the counts and
// CPU seconds, peaks' maxima, shares weighted by wall time.
func machineOf(runs []result.Meta) Machine {
	var g Machine
	fields := []struct {
		key string
		v   *float64
		how byte // s: sum, m: max, w: weighted by wall time
	}{
		{result.AttrCPUSeconds, &g.CPUSeconds, 's'}, {result.AttrWallSeconds, &g.WallSeconds, 's'}, {result.AttrCPUs, &g.CPUs, 'm'},
		{result.AttrCPUWaitSeconds, &g.CPUWait, 's'}, {result.AttrSwitchesInvoluntary, &g.Involuntary, 's'}, {result.AttrSwitchesVoluntary, &g.Voluntary, 's'},
		{result.AttrMachineCPUs, &g.MachineCPUs, 'm'}, {result.AttrMachineBusy, &g.Busy, 'w'}, {result.AttrSteal, &g.Steal, 'w'},
		{result.AttrCPUPressure, &g.Pressure, 'w'}, {result.AttrRunQueuePeak, &g.RunQueue, 'm'},
		{result.AttrPeakInFlight, &g.PeakInFlight, 'm'}, {result.AttrInFlightCap, &g.Cap, 'm'},
		{result.AttrFDsPeak, &g.FDs, 'm'}, {result.AttrFDLimit, &g.FDLimit, 'm'},
		{result.AttrSocketsPeak, &g.Sockets, 'm'}, {result.AttrPorts, &g.Ports, 'm'},
	}
	for _, f := range fields {
		*f.v = -1
		var wall float64
		for _, m := range runs {
			x, err := strconv.ParseFloat(m.Attrs[f.key], 64)
			if err != nil {
				continue
			}
			w, err := strconv.ParseFloat(m.Attrs[result.AttrWallSeconds], 64)
			if err != nil || w <= 0 {
				w = m.Duration.Seconds()
			}
			switch {
			case *f.v < 0 && f.how != 'w':
				*f.v = x
			case f.how == 's':
				*f.v += x
			case f.how == 'm':
				*f.v = max(*f.v, x)
			case w > 0:
				*f.v = (max(*f.v, 0)*wall + x*w) / (wall + w)
				wall += w
			}
		}
	}
	return g
}

// contended reports whether other processes took the CPU from surge, and
// says with which figures.
func (g Machine) contended() (bool, string) {
	busy := g.Pressure > PressureLimit
	if w := g.waitShare(); w >= 0 {
		// surge's own wait, where recorded, rather than the machine's
		// pressure, which other processes waiting for each other raise.
		busy = w > WaitLimit
	}
	if busy || g.Steal > StealLimit {
		return true, g.cpuText() + ": other processes took the CPU — run surge with fewer competitors or on another machine"
	}
	return false, ""
}

// waitShare is the share of the time surge's threads were ready to run
// that they waited for a CPU, -1 when not recorded.
func (g Machine) waitShare() float64 {
	if g.CPUWait < 0 || g.CPUSeconds < 0 || g.CPUWait+g.CPUSeconds <= 0 {
		return -1
	}
	return g.CPUWait / (g.CPUWait + g.CPUSeconds)
}

// starved reports whether surge waited for a CPU more than StarvedWait of
// the time it was ready to run and more than StarvedWaitFloor of the run
// (the CPU pressure standing in when the wait is not recorded), or the
// hypervisor stole more than StealLimit.
func (g Machine) starved() bool {
	if w := g.waitShare(); w >= 0 && g.WallSeconds > 0 {
		return w > StarvedWait && g.CPUWait/g.WallSeconds > StarvedWaitFloor || g.Steal > StealLimit
	}
	return g.Pressure > StarvedWait || g.Steal > StealLimit
}

// cpuText states the CPU figures recorded, those the run has.
func (g Machine) cpuText() string {
	var p []string
	switch {
	case g.CPUSeconds >= 0 && g.WallSeconds > 0 && g.CPUWait >= 0:
		p = append(p, fmt.Sprintf("surge got %.2f CPU-seconds per second of the %.2f it asked for (it waited for a CPU %.0f%% of the time it was ready to run)",
			g.CPUSeconds/g.WallSeconds, (g.CPUSeconds+g.CPUWait)/g.WallSeconds, 100*g.waitShare()))
	case g.CPUSeconds >= 0 && g.WallSeconds > 0 && g.CPUs > 0:
		p = append(p, fmt.Sprintf("surge got %.2f CPU-seconds per second of the %s it could use", g.CPUSeconds/g.WallSeconds, num(g.CPUs)))
	}
	if g.Involuntary >= 0 {
		p = append(p, num(g.Involuntary)+" involuntary context switches")
	}
	if g.RunQueue >= 0 && g.MachineCPUs > 0 {
		p = append(p, fmt.Sprintf("run queue up to %s on %s CPUs", num(g.RunQueue), num(g.MachineCPUs)))
	}
	if g.Pressure >= 0 {
		p = append(p, fmt.Sprintf("some task waited for a CPU %.0f%% of the time", 100*g.Pressure))
	}
	if g.Steal >= 0 {
		p = append(p, fmt.Sprintf("steal %.0f%%", 100*g.Steal))
	}
	return strings.Join(p, ", ")
}

// limit names what held a limited generator back: cause in a few words
// for a headline, and text with its numbers and the advice that follows;
// cpu is its CPU use in [0,1] of its cores, -1 when not recorded. Only a
// peak in flight at the cap earns "raise -connections".
func (g Machine) limit(cpu float64) (cause, text string) {
	if g.FDLimit > 0 && g.FDs >= ShareLimit*g.FDLimit {
		return "its file descriptors", fmt.Sprintf("it held %s file descriptors of its limit of %s: raise the limit (ulimit -n) or lower -connections", num(g.FDs), num(g.FDLimit))
	}
	if g.Ports > 0 && g.Sockets >= ShareLimit*g.Ports {
		return "the machine's local ports", fmt.Sprintf("the machine had %s TCP sockets open or in TIME_WAIT for %s ephemeral ports: keep connections alive, lower -connections, or widen net.ipv4.ip_local_port_range",
			num(g.Sockets), num(g.Ports))
	}
	if g.Cap > 0 && g.PeakInFlight >= g.Cap {
		return "its in-flight cap (-connections " + num(g.Cap) + ")",
			fmt.Sprintf("%s requests were in flight, the cap (-connections %s): the server is too slow for the rate asked at this cap; raise -connections", num(g.PeakInFlight), num(g.Cap))
	}
	if ok, why := g.contended(); ok {
		return "other processes taking its CPU", why
	}
	if cpu > CPULimit {
		return "its own CPU", fmt.Sprintf("surge kept its %s CPUs %.0f%% busy with no competitor seen: give it more CPU (a bigger machine, or several generators) or lower the rate", num(g.CPUs), 100*cpu)
	}
	var p []string
	if g.PeakInFlight >= 0 && g.Cap > 0 {
		p = append(p, fmt.Sprintf("at most %s requests were in flight of the cap of %s", num(g.PeakInFlight), num(g.Cap)))
	}
	if t := g.cpuText(); t != "" {
		p = append(p, t)
	}
	if len(p) == 0 {
		return "the generator (what limited it was not recorded)", "the run did not record what limited it (an older surge): re-run with this one to name the limit"
	}
	return "the generator (none of its recorded limits was reached)",
		strings.Join(p, ", ") + ": none of the generator's recorded limits was reached; look for stalls of the machine (timers, swapping, a paused VM)"
}

// GeneratorCause names, in a few words for a headline, what limited the
// generator of the runs in s, from the figures they recorded: "its
// in-flight cap (-connections 10)", "other processes taking its CPU", "its
// own CPU", "its file descriptors", "the machine's local ports", or "the
// generator" with why it cannot say more. It does not judge whether the
// generator was limited: GeneratorHealth does.
func GeneratorCause(s *summary.Summary) string {
	cause, _ := machineOf(s.Runs).limit(cpuUse(s.Runs, s.Total))
	return cause
}

// num formats x as an integer with thousands separators, or with two
// decimals when it has a fraction.
func num(x float64) string {
	if x != float64(int64(x)) {
		return strconv.FormatFloat(x, 'f', 2, 64)
	}
	s := strconv.FormatInt(int64(x), 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// GeneratorLimited reports whether run (an index of s.Runs) was limited
// by its generator or starved of CPU, with the reason in a sentence. When
// s holds that run alone, the send lag and unsent requests of s.Total are
// judged too (GeneratorHealth); with several runs only the figures the
// run recorded of itself are, since s does not keep send lag per run:
// pass a summary of one run for the whole verdict. A run out of range is
// not limited.
func GeneratorLimited(s *summary.Summary, run int) (bool, string) {
	if run < 0 || run >= len(s.Runs) {
		return false, ""
	}
	if len(s.Runs) == 1 {
		g := GeneratorHealth(s)
		return g.Limited || g.Starved, g.Text
	}
	m := s.Runs[run]
	g := machineOf([]result.Meta{m})
	id := m.ID
	if id == "" {
		id = strconv.Itoa(run)
	}
	cpu := -1.0
	if g.CPUSeconds >= 0 && g.CPUs > 0 && g.WallSeconds > 0 {
		cpu = g.CPUSeconds / (g.CPUs * g.WallSeconds)
	}
	switch {
	case cpu > CPULimit:
		// In flight at the cap is no limit by itself here: a max-rate or
		// closed run holds the cap by design; it limits an open run only
		// when requests went out late, which s does not keep per run.
		_, why := g.limit(cpu)
		return true, "the generator limited run " + id + ": " + why
	case g.starved():
		_, why := g.contended()
		return true, "run " + id + " was starved of CPU: " + why
	}
	return false, ""
}
