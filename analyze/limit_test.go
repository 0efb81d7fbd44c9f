package analyze

import (
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// laggedRun is a one-run summary whose requests went out 40 ms late, the
// run's generator marker carrying attrs.
func laggedRun(attrs map[string]string) *summary.Summary {
	s := summary.New(summary.Options{})
	m := &result.Meta{ID: "r", Duration: time.Second}
	s.Add(m, &result.Result{Seq: 0, Status: 200, Latency: ms})
	for i := 1; i < 100; i++ {
		at := time.Duration(i) * 10 * ms
		s.Add(m, &result.Result{Seq: uint64(i), Intended: at, Sent: at + 40*ms, Latency: 41 * ms, Status: 200})
	}
	if attrs != nil {
		s.AddMarker(m, result.Marker{At: time.Second, Kind: result.MarkGenerator, Attrs: attrs})
	}
	return s
}

// TestGeneratorLimit checks that the advice names the limit the run's own
// figures show, with its numbers, and says "raise -connections" only when
// in flight reached the cap.
func TestGeneratorLimit(t *testing.T) {
	base := func(kv ...string) map[string]string {
		a := map[string]string{
			result.AttrCPUSeconds: "0.6", result.AttrCPUs: "2", result.AttrWallSeconds: "1",
			result.AttrSwitchesInvoluntary: "50", result.AttrMachineCPUs: "2", result.AttrCPUPressure: "0.02",
			result.AttrSteal: "0", result.AttrRunQueuePeak: "2", result.AttrPeakInFlight: "57", result.AttrInFlightCap: "10000",
			result.AttrFDsPeak: "70", result.AttrFDLimit: "20000", result.AttrSocketsPeak: "100", result.AttrPorts: "28232",
		}
		for i := 0; i < len(kv); i += 2 {
			a[kv[i]] = kv[i+1]
		}
		return a
	}
	for _, tc := range []struct {
		name      string
		attrs     map[string]string
		want, not string
	}{
		{"contention", base(result.AttrCPUPressure, "0.45", result.AttrSwitchesInvoluntary, "14000", result.AttrRunQueuePeak, "6"),
			"surge got 0.60 CPU-seconds per second of the 2 it could use, 14,000 involuntary context switches, run queue up to 6 on 2 CPUs, some task waited for a CPU 45% of the time, steal 0%: other processes took the CPU", "-connections"},
		{"steal", base(result.AttrSteal, "0.3"), "steal 30%: other processes took the CPU", "-connections"},
		{"cap", base(result.AttrPeakInFlight, "10", result.AttrInFlightCap, "10"), "10 requests were in flight, the cap (-connections 10): the server is too slow for the rate asked at this cap; raise -connections", "other processes"},
		{"fds", base(result.AttrFDsPeak, "19500"), "it held 19,500 file descriptors of its limit of 20,000: raise the limit (ulimit -n)", "raise -connections"},
		{"ports", base(result.AttrSocketsPeak, "28000"), "28,000 TCP sockets open or in TIME_WAIT for 28,232 ephemeral ports", "raise -connections"},
		{"own CPU", base(result.AttrCPUSeconds, "1.95"), "surge kept its 2 CPUs 95% busy with no competitor seen", "-connections"},
		{"none reached", base(), "at most 57 requests were in flight of the cap of 10,000, surge got 0.60", "raise -connections"},
		{"not recorded", nil, "the run did not record what limited it", "raise -connections"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := laggedRun(tc.attrs)
			g := GeneratorHealth(s)
			if !g.Limited || !strings.Contains(g.Text, tc.want) || strings.Contains(g.Text, tc.not) {
				t.Errorf("limited %v, finding %q\nwant it to contain %q and not %q", g.Limited, g.Text, tc.want, tc.not)
			}
			if lim, why := GeneratorLimited(s, 0); !lim || why != g.Text {
				t.Errorf("GeneratorLimited = %v, %q; want true, %q", lim, why, g.Text)
			}
		})
	}
}

// TestGeneratorStarved checks the verdict on runs whose send lag stayed
// low: starved when surge waited for a CPU longer than it ran and for more
// than StarvedWaitFloor of the run, clean otherwise, however busy the
// machine was for others.
func TestGeneratorStarved(t *testing.T) {
	for _, tc := range []struct {
		name          string
		cpu, wait     string
		pressure      string
		starved, lag  bool
		want, notWant string
	}{
		{"starved", "0.2", "0.6", "0.9", true, false, "starved of CPU although send lag p99 was 0s: surge got 0.20 CPU-seconds per second of the 0.80 it asked for (it waited for a CPU 75%", "-connections"},
		{"short waits of a light run", "0.02", "0.03", "0.1", false, false, "the generator kept up", "starved"},
		{"busy machine, surge not waiting", "0.2", "0.01", "0.95", false, false, "the generator kept up", "starved"},
		{"lagged, busy machine, surge not waiting", "0.2", "0.01", "0.95", false, true, "none of the generator's recorded limits was reached", "other processes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attrs := map[string]string{result.AttrCPUSeconds: tc.cpu, result.AttrCPUs: "2", result.AttrWallSeconds: "1",
				result.AttrCPUWaitSeconds: tc.wait, result.AttrCPUPressure: tc.pressure, result.AttrPeakInFlight: "3", result.AttrInFlightCap: "10000"}
			s := laggedRun(attrs)
			if !tc.lag {
				s = summary.New(summary.Options{})
				m := &result.Meta{ID: "r", Duration: time.Second}
				for i := range 100 {
					at := time.Duration(i) * 10 * ms
					s.Add(m, &result.Result{Seq: uint64(i), Intended: at, Sent: at, Latency: ms, Status: 200})
				}
				s.AddMarker(m, result.Marker{Kind: result.MarkGenerator, Attrs: attrs})
			}
			g := GeneratorHealth(s)
			if g.Starved != tc.starved || !strings.Contains(g.Text, tc.want) || strings.Contains(g.Text, tc.notWant) {
				t.Errorf("starved %v, finding %q\nwant starved %v, containing %q and not %q", g.Starved, g.Text, tc.starved, tc.want, tc.notWant)
			}
			if lim, _ := GeneratorLimited(s, 0); lim != (tc.starved || tc.lag) {
				t.Errorf("GeneratorLimited = %v, want %v", lim, tc.starved || tc.lag)
			}
		})
	}
}
