package run

import (
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/internal/proc"
	"github.com/surge-dev/surge/result"
)

// gaugeEvery is how often the gauge reads the engine's in-flight count;
// the machine's figures (/proc) are read every gaugeProcEvery of those
// ticks, and once more at the end. An atomic load twenty times a second
// and a few small /proc reads a second cost nothing a run can measure,
// and none of it is on the requests' path.
const (
	gaugeEvery     = 50 * time.Millisecond
	gaugeProcEvery = 20
)

// gauge records, beside a run and off its hot path, what names the
// generator's limit when it falls behind: CPU time against wall time,
// context switches, the machine's steal, CPU pressure and run queue, the
// peak in flight against the cap, descriptors and sockets against their
// limits. Its figures go into the run's generator marker (result.Attr*);
// no per-second markers are written, only the run's totals and peaks.
type gauge struct {
	stats *attack.Stats
	cap   int
	begin time.Time
	start usage
	stop  chan struct{}
	done  chan struct{}
	// Peaks, written by the sampler until done is closed; -1 when the
	// platform does not give them.
	inFlight, runQueue, fds, sockets int64
}

// usage is a reading of the process's and the machine's counters.
type usage struct {
	cpu                 time.Duration
	involuntary, volunt int64
	switchesOK          bool
	machine             proc.CPUTimes
	pressure            time.Duration // cumulative; -1 when absent
	wait                time.Duration // cumulative; -1 when absent
}

// startGauge starts sampling the engine whose counters are stats and
// whose in-flight cap is capacity.
func startGauge(stats *attack.Stats, capacity int) *gauge {
	g := &gauge{stats: stats, cap: capacity, begin: time.Now(), start: readUsage(),
		stop: make(chan struct{}), done: make(chan struct{}), runQueue: -1, fds: -1, sockets: -1}
	g.sampleProc()
	go g.run()
	return g
}

func (g *gauge) run() {
	defer close(g.done)
	t := time.NewTicker(gaugeEvery)
	defer t.Stop()
	for i := 1; ; i++ {
		select {
		case <-g.stop:
			return
		case <-t.C:
			g.inFlight = max(g.inFlight, g.stats.InFlight.Load())
			if i%gaugeProcEvery == 0 {
				g.sampleProc()
			}
		}
	}
}

// sampleProc takes the peaks of the machine's figures.
func (g *gauge) sampleProc() {
	if n, ok := runQueue(); ok {
		g.runQueue = max(g.runQueue, n)
	}
	if n, ok := openFDs(); ok {
		g.fds = max(g.fds, n)
	}
	if n, ok := tcpSockets(); ok {
		g.sockets = max(g.sockets, n)
	}
}

// end stops the sampler and returns the run's figures as the generator
// marker's Attrs.
func (g *gauge) end() map[string]string {
	close(g.stop)
	<-g.done
	g.inFlight = max(g.inFlight, g.stats.InFlight.Load())
	g.sampleProc()
	wall := time.Since(g.begin)
	now := readUsage()
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 3, 64) }
	d := func(n int64) string { return strconv.FormatInt(n, 10) }
	a := map[string]string{
		result.AttrCPUSeconds:   f((now.cpu - g.start.cpu).Seconds()),
		result.AttrCPUs:         strconv.Itoa(runtime.GOMAXPROCS(0)),
		result.AttrWallSeconds:  f(wall.Seconds()),
		result.AttrMachineCPUs:  strconv.Itoa(runtime.NumCPU()),
		result.AttrPeakInFlight: d(g.inFlight),
		result.AttrInFlightCap:  strconv.Itoa(g.cap),
	}
	if now.switchesOK && g.start.switchesOK {
		a[result.AttrSwitchesInvoluntary] = d(now.involuntary - g.start.involuntary)
		a[result.AttrSwitchesVoluntary] = d(now.volunt - g.start.volunt)
	}
	if busy, steal, ok := g.start.machine.Shares(now.machine); ok {
		a[result.AttrMachineBusy] = f(busy)
		a[result.AttrSteal] = f(steal)
	}
	if g.start.pressure >= 0 && now.pressure >= 0 && wall > 0 {
		a[result.AttrCPUPressure] = f(min(1, float64(now.pressure-g.start.pressure)/float64(wall)))
	}
	if g.start.wait >= 0 && now.wait >= 0 {
		a[result.AttrCPUWaitSeconds] = f(max(0, now.wait-g.start.wait).Seconds())
	}
	for k, v := range map[string]int64{result.AttrRunQueuePeak: g.runQueue, result.AttrFDsPeak: g.fds, result.AttrSocketsPeak: g.sockets} {
		if v >= 0 {
			a[k] = d(v)
		}
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		a[result.AttrFDLimit] = strconv.FormatUint(uint64(rl.Cur), 10)
	}
	if n, ok := ephemeralPorts(); ok {
		a[result.AttrPorts] = d(n)
	}
	return a
}

// readUsage reads the process's CPU time and context switches and the
// machine's CPU times and pressure.
func readUsage() usage {
	u := usage{pressure: -1, wait: -1}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		u.involuntary, u.volunt, u.switchesOK = int64(ru.Nivcsw), int64(ru.Nvcsw), true
	}
	u.machine = proc.MachineCPU()
	if p, ok := cpuPressure(); ok {
		u.pressure = p
	}
	if w, ok := cpuWait(); ok {
		u.wait = w
	}
	return u
}
