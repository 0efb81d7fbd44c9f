package analyze

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/surge-dev/surge/latency"
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
	// Local is the part of NotSent a local resource (descriptors, ports)
	// kept from going out, nil when none did.
	Local *Shortage `json:"local"`
	// ClientErrors counts sent requests that failed in the client:
	// NoResponse got no HTTP response (connection refused or reset, DNS,
	// TLS, a timeout before the status line), CutOff got a status line
	// but were cut off by a transport error (a reset or a timeout reading
	// the body). Timeouts is the part of ClientErrors that timed out.
	ClientErrors int64 `json:"client_errors"`
	NoResponse   int64 `json:"no_response"`
	CutOff       int64 `json:"cut_off"`
	Timeouts     int64 `json:"timeouts"`
	// CPU is the generator's mean CPU utilisation in [0,1] of its cores,
	// -1 when the results file does not record it.
	CPU float64 `json:"cpu"`
	// Machine holds what the runs recorded of the generator's process and
	// machine (CPU, context switches, steal, run queue, in flight,
	// descriptors, sockets), the figures that name its limit.
	Machine Machine `json:"machine"`
	// Limited is true when the generator, not the server, limited the run.
	Limited bool `json:"limited"`
	// Starved is true when other processes kept surge waiting for the CPU
	// more than StarvedWait of the time it was ready to run (or steal
	// passed StealLimit)
	// although its send lag stayed low: the latencies include time surge
	// waited for the CPU to read the responses.
	Starved bool   `json:"starved"`
	Text    string `json:"text"`
}

// GeneratorHealth judges the generator from the total statistics and the
// runs' headers.
func GeneratorHealth(s *summary.Summary) Generator {
	st := s.Total
	g := Generator{
		SendLagP50: st.SendLag.Quantile(0.5), SendLagP99: st.SendLag.Quantile(0.99), SendLagMax: st.SendLag.Max(),
		Late: st.Late, NotSent: st.NotSent, CPU: cpuUse(s.Runs, st),
		ClientErrors: st.NoResponse + st.CutOff, NoResponse: st.NoResponse, CutOff: st.CutOff, Timeouts: st.Timeouts,
	}
	g.Machine = machineOf(s.Runs)
	var why []string
	advice := ""
	if sh := LocalShortage(st); sh.NotSent > 0 {
		g.Local = &sh
		why = append(why, fmt.Sprintf("%s could not be sent for lack of %s (%s)", plural(sh.NotSent, "request"), sh.Resource, sh.Example))
		advice = sh.Advice
	}
	if n := g.NotSent - st.NotSentLocal; n > 0 {
		why = append(why, plural(n, "request")+" never went out")
	}
	if g.SendLagP99 > LagLimit {
		why = append(why, fmt.Sprintf("send lag p99 was %s (limit %s)", latency.Round3(g.SendLagP99), LagLimit))
	}
	if g.CPU > CPULimit {
		why = append(why, fmt.Sprintf("its CPU was %.0f%% busy", 100*g.CPU))
	}
	g.Limited = len(why) > 0
	cpu := "CPU not recorded"
	if g.CPU >= 0 {
		cpu = fmt.Sprintf("CPU %.0f%%", 100*g.CPU)
	}
	starved, starvedWhy := g.Machine.contended()
	switch {
	case g.Limited:
		if advice == "" {
			_, advice = g.Machine.limit(g.CPU)
		}
		g.Text = "the generator limited this run: " + strings.Join(why, ", ") +
			"; " + advice + " before reading the latencies as the server's"
	case starved && g.Machine.starved():
		g.Starved = true
		g.Text = fmt.Sprintf("the generator was starved of CPU although send lag p99 was %s: %s; the latencies include time surge waited for the CPU",
			latency.Round3(g.SendLagP99), starvedWhy)
	default:
		g.Text = fmt.Sprintf("the generator kept up: send lag p99 %s, %d not sent, %s", latency.Round3(g.SendLagP99), g.NotSent, cpu)
	}
	if g.ClientErrors > 0 {
		g.Text += "; " + clientErrorsText(g) + ": connection errors are seen by the client, check the server's accept queue, limits and the network"
	}
	return g
}

// clientErrorsText says how many requests failed in the client and how,
// in numbers that add up: no response + cut off = failed, timeouts a part.
func clientErrorsText(g Generator) string {
	var t string
	switch {
	case g.CutOff == 0:
		t = plural(g.NoResponse, "request") + " got no HTTP response"
	case g.NoResponse == 0:
		t = plural(g.CutOff, "response") + " were cut off after the status line"
		if g.CutOff == 1 {
			t = "1 response was cut off after the status line"
		}
	default:
		t = fmt.Sprintf("%s failed in the client: %d got no HTTP response, %d were cut off after the status line",
			plural(g.ClientErrors, "request"), g.NoResponse, g.CutOff)
	}
	switch {
	case g.Timeouts == 0:
	case g.Timeouts == g.ClientErrors && g.ClientErrors == 1:
		t += " (it timed out)"
	case g.Timeouts == g.ClientErrors:
		t += " (all timed out)"
	default:
		t += fmt.Sprintf(" (%d of the %d timed out)", g.Timeouts, g.ClientErrors)
	}
	return t
}

// cpuUse returns the generators' CPU utilisation over the runs that
// recorded it, or -1.
func cpuUse(runs []result.Meta, st *summary.Stats) float64 {
	var used, avail float64
	for _, m := range runs {
		sec, err1 := strconv.ParseFloat(m.Attrs[result.AttrCPUSeconds], 64)
		cpus, err2 := strconv.ParseFloat(m.Attrs[result.AttrCPUs], 64)
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
