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
