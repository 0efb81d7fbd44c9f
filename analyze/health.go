package analyze

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// Generator-health thresholds.
const (
	// LagLimit is the send-lag p99 above which the generator limited the
	// run (the same figure as report.LagWarning).
	LagLimit = 10 * time.Millisecond
	// CPULimit is the generator CPU utilisation, in [0,1] of the cores it
	// could use, above which it limited the run.
	CPULimit = 0.9
)

// Meta.Attrs keys read for the generator's CPU: cumulative user+system CPU
// seconds of the generator process over the run, and the cores it could
// use (GOMAXPROCS). Absent keys mean the CPU was not recorded.
const (
	AttrCPUSeconds = "cpu_seconds"
	AttrCPUs       = "cpus"
)

// Generator is the health of the load generator during the run.
type Generator struct {
	// SendLagP50, SendLagP99 and SendLagMax: how late requests went out.
	SendLagP50 time.Duration `json:"send_lag_p50"`
	SendLagP99 time.Duration `json:"send_lag_p99"`
	SendLagMax time.Duration `json:"send_lag_max"`
	// Late counts requests that went out later than the summary's
	// LateAfter, NotSent those that never went out.
	Late    int64 `json:"late"`
	NotSent int64 `json:"not_sent"`
	// ClientErrors counts sent requests that got no HTTP response
	// (connection refused or reset, DNS, TLS, timeouts); Timeouts is the
	// part of them that timed out.
	ClientErrors int64 `json:"client_errors"`
	Timeouts     int64 `json:"timeouts"`
	// CPU is the generator's mean CPU utilisation in [0,1] of its cores,
	// -1 when the results file does not record it.
	CPU float64 `json:"cpu"`
	// Limited is true when the generator, not the server, limited the run.
	Limited bool   `json:"limited"`
	Text    string `json:"text"`
}

// GeneratorHealth judges the generator from the total statistics and the
// runs' headers.
func GeneratorHealth(s *summary.Summary) Generator {
	st := s.Total
	g := Generator{
		SendLagP50: st.SendLag.Quantile(0.5), SendLagP99: st.SendLag.Quantile(0.99), SendLagMax: st.SendLag.Max(),
		Late: st.Late, NotSent: st.NotSent, CPU: cpuUse(s.Runs, st),
		ClientErrors: st.StatusCodes[0] - st.NotSent,
	}
	for _, e := range st.Errors {
		if isTimeout(e.Error) {
			g.Timeouts += e.Count
		}
	}
	var why []string
	if g.NotSent > 0 {
		why = append(why, plural(g.NotSent, "request")+" never went out")
	}
	if g.SendLagP99 > LagLimit {
		why = append(why, fmt.Sprintf("send lag p99 was %s (limit %s)", round3(g.SendLagP99), LagLimit))
	}
	if g.CPU > CPULimit {
		why = append(why, fmt.Sprintf("its CPU was %.0f%% busy", 100*g.CPU))
	}
	g.Limited = len(why) > 0
	cpu := "CPU not recorded"
	if g.CPU >= 0 {
		cpu = fmt.Sprintf("CPU %.0f%%", 100*g.CPU)
	}
	if g.Limited {
		g.Text = "the generator limited this run: " + strings.Join(why, ", ") +
			"; raise -connections or use more generator CPU (or workers) before reading the latencies as the server's"
	} else {
		g.Text = fmt.Sprintf("the generator kept up: send lag p99 %s, %d not sent, %s", round3(g.SendLagP99), g.NotSent, cpu)
	}
	if g.ClientErrors > 0 {
		g.Text += fmt.Sprintf("; %s got no HTTP response (%d timeouts): connection errors are seen by the client, check the server's accept queue, limits and the network", plural(g.ClientErrors, "request"), g.Timeouts)
	}
	return g
}

func isTimeout(e string) bool {
	e = strings.ToLower(e)
	return strings.Contains(e, "timeout") || strings.Contains(e, "deadline exceeded")
}

// cpuUse returns the generators' CPU utilisation over the runs that
// recorded it, or -1.
func cpuUse(runs []result.Meta, st *summary.Stats) float64 {
	var used, avail float64
	for _, m := range runs {
		sec, err1 := strconv.ParseFloat(m.Attrs[AttrCPUSeconds], 64)
		cpus, err2 := strconv.ParseFloat(m.Attrs[AttrCPUs], 64)
		if err1 != nil || err2 != nil || cpus <= 0 {
			continue
		}
		span := st.Duration() + st.Wait()
		if len(runs) > 1 || span <= 0 {
			span = m.Duration
		}
		if span <= 0 {
			continue
		}
		used += sec
		avail += cpus * span.Seconds()
	}
	if avail == 0 {
		return -1
	}
	return used / avail
}

func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
