package capacity

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/threshold"
)

// Trial thresholds; see docs/methods.md.
const (
	// HardErrors is the error rate above which a trial is a hard failure.
	HardErrors = 0.5
	// trialKeepUp: a sustainable trial completes at least this fraction of
	// the requests due in its measured part within it.
	trialKeepUp = 0.95
	// trialTrend: ... and its second half's p50 is at most this times the
	// first half's, plus trialTrendSlack: otherwise a queue is building
	// and the SLO would break in a longer run.
	trialTrend      = 1.2
	trialTrendSlack = 2 * time.Millisecond
	// lagFloor and lagShare bound the generator's send lag: a trial whose
	// send lag p99 is above the larger of lagFloor and lagShare of the
	// SLO's tightest latency bound did not offer its rate on time.
	lagFloor = 10 * time.Millisecond
	lagShare = 0.25
	// tailRequests is how many requests a percentile of the SLO must rest
	// on above it: pQ needs tailRequests/(1−Q) measured requests.
	tailRequests = 10
)

// SaturatedPressure is the machine's CPU pressure (the share of a trial
// in which some runnable task waited for a CPU) from which a failed trial
// against a target on this machine is Saturated.
const SaturatedPressure = 0.5

// LagBound returns the send lag p99 above which a trial's generator fell
// behind: the larger of 10ms and a quarter of slo's tightest latency bound.
func LagBound(slo threshold.SLO) time.Duration {
	var tight time.Duration
	for _, o := range slo {
		if o.IsLatency() && (tight == 0 || o.Duration() < tight) {
			tight = o.Duration()
		}
	}
	return max(lagFloor, time.Duration(lagShare*float64(tight)))
}

// MinRequests returns how many measured requests a trial needs for slo's
// highest percentile pQ to rest on at least 10 requests above it:
// ⌈10/(1−Q)⌉ (p50: 20, p95: 200, p99: 1,000, p99.9: 10,000); 0 when slo
// has no percentile.
func MinRequests(slo threshold.SLO) int64 {
	var n int64
	for _, o := range slo {
		if o.Metric == threshold.MetricQuantile && o.Quantile < 1 {
			// Rounded first: 10/(1−0.999) is 10000.000000000009 in floats.
			n = max(n, int64(math.Ceil(math.Round(tailRequests/(1-o.Quantile)*1e6)/1e6)))
		}
	}
	return n
}

// Trial is one constant-rate step of a capacity search.
type Trial struct {
	N int `json:"n"`
	// Rate is the offered rate, requests/s.
	Rate float64 `json:"rate"`
	// Requests counts the measured requests (after the trial's warm-up).
	Requests int64         `json:"requests"`
	P50      time.Duration `json:"p50"`
	P99      time.Duration `json:"p99"`
	Mean     time.Duration `json:"mean"`
	Max      time.Duration `json:"max"`
	// Errors is the server's error rate in [0,1]; Timeouts counts
	// timed-out requests. Canceled counts requests surge itself cancelled
	// when the trial stopped and NotSent the ticks it never sent (the
	// in-flight cap held them until the end, or a local resource was
	// missing): neither is a server error, so neither is in Errors.
	Errors   float64 `json:"errors"`
	Timeouts int64   `json:"timeouts"`
	Canceled int64   `json:"canceled,omitempty"`
	NotSent  int64   `json:"not_sent,omitempty"`
	// Throughput is the successful completions per second within the
	// measured part; KeptUp says whether it followed the offered rate.
	Throughput float64 `json:"throughput"`
	KeptUp     bool    `json:"kept_up"`
	// FirstP50 and SecondP50 are the p50 of the measured part's halves.
	FirstP50  time.Duration `json:"first_p50"`
	SecondP50 time.Duration `json:"second_p50"`
	// SendLagP99 is the 99th percentile of surge's send lag (Sent −
	// Intended). The latencies above are the server's: each request's
	// latency less its send lag.
	SendLagP99 time.Duration `json:"send_lag_p99"`
	// SendLagMax is the longest send lag: the worst the generator bunched
	// requests together, which bounds how much of a failure its bursts
	// could account for.
	SendLagMax time.Duration `json:"send_lag_max"`
	// Unreliable is true when the trial says nothing sure about the
	// server: the generator fell behind (send lag p99 above LagBound, or
	// ticks not sent while the in-flight cap was not reached), or the
	// trial measured fewer than MinRequests; Why says which.
	Unreliable bool `json:"unreliable,omitempty"`
	// Note says how the trial was set up differently from the flags, e.g.
	// lengthened to hold enough requests for the SLO's percentile.
	Note string `json:"note,omitempty"`
	Pass bool   `json:"pass"`
	Hard bool   `json:"hard_failure"`
	Why  string `json:"why"`
	// Stopped is true when the trial was cut short by a hard failure.
	Stopped bool `json:"stopped,omitempty"`
	// Probes are the recovery probes run before the trial, in order.
	Probes []Probe `json:"probes,omitempty"`
	// Machine is how busy the machine was during the trial, from the
	// run's generator figures; nil when they were not recorded.
	Machine *Machine `json:"machine,omitempty"`
	// Saturated is true when the trial failed (not a hard failure) against
	// a target on this machine while the machine's CPU pressure was at
	// least SaturatedPressure: the server then shared CPUs that were
	// oversubscribed, so its failure may be the machine's, and a search
	// gives no rate bounded by such failures alone.
	Saturated bool `json:"saturated,omitempty"`
}

// Machine is how busy the machine was during a trial, from the
// result.MarkGenerator figures of its run (Linux /proc; each is −1 when
// not recorded): the CPUs' busy share and CPU pressure (the share of the
// time some runnable task waited for a CPU) in [0,1], the share of the
// trial's wall time surge's own threads waited for a CPU (may exceed 1:
// it sums over threads), and the most runnable tasks seen.
type Machine struct {
	Busy         float64 `json:"busy"`
	CPUPressure  float64 `json:"cpu_pressure"`
	SurgeCPUWait float64 `json:"surge_cpu_wait"`
	RunQueuePeak float64 `json:"run_queue_peak"`
}

// machineOf reads a Machine from a generator marker's Attrs, nil when it
// has none of its figures; a figure that is no finite number is −1.
func machineOf(a map[string]string) *Machine {
	get := func(k string) float64 {
		v, err := strconv.ParseFloat(a[k], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return -1
		}
		return v
	}
	m := &Machine{Busy: get(result.AttrMachineBusy), CPUPressure: get(result.AttrCPUPressure), SurgeCPUWait: -1,
		RunQueuePeak: get(result.AttrRunQueuePeak)}
	if w, wall := get(result.AttrCPUWaitSeconds), get(result.AttrWallSeconds); w >= 0 && wall > 0 && !math.IsInf(w/wall, 0) {
		m.SurgeCPUWait = w / wall
	}
	if m.Busy < 0 && m.CPUPressure < 0 && m.SurgeCPUWait < 0 && m.RunQueuePeak < 0 {
		return nil
	}
	return m
}

// Probe is one recovery probe run before a trial: a short run at a low
// rate whose server p50 must be back within Bound (twice the lowest p50
// of the trials that passed, plus 2ms) for the server to count as
// recovered from the trial before. Its requests are no trial's.
type Probe struct {
	Rate     float64       `json:"rate"`
	Requests int64         `json:"requests"`
	P50      time.Duration `json:"p50"`
	P99      time.Duration `json:"p99"`
	// Errors is the probe's error rate in [0,1].
	Errors    float64       `json:"errors"`
	Bound     time.Duration `json:"bound"`
	Recovered bool          `json:"recovered"`
}

// Text says what the probe before trial n found, like "probe before trial
// 7: p50 1.2ms ≤ 3.02ms, recovered".
func (p Probe) Text(n int) string {
	if p.Recovered {
		return fmt.Sprintf("probe before trial %d: p50 %s ≤ %s, recovered", n, latency.Round3(p.P50), latency.Round3(p.Bound))
	}
	return fmt.Sprintf("probe before trial %d: p50 %s > %s, not recovered", n, latency.Round3(p.P50), latency.Round3(p.Bound))
}

// Recorder folds one trial's results into a Trial. Results due before
// Warmup are discarded; Length is the trial's schedule length. A request
// completed in time when it ended before Length + InTime (the caller sets
// InTime to the SLO's latency bound, so that requests due at the very end
// are not counted late for latency the SLO allows). AtCap tells Judge
// that the in-flight cap was reached: not-sent ticks were then the
// server's backlog, not the generator's.
type Recorder struct {
	Warmup, Length time.Duration
	InTime         time.Duration
	AtCap          bool
	// Local tells Judge that the target runs on this machine (loopback),
	// so that it shares the CPUs the trial's machine figures describe.
	Local       bool
	all, h1, h2 *latency.Histogram
	lag         *latency.Histogram
	machine     *Machine
	due, failed int64
	completedOK int64
	timeouts    int64
	canceled    int64
	notSent     int64
}

var _ result.Consumer = (*Recorder)(nil)

// NewRecorder returns a recorder for a trial of length whose first warmup
// is discarded.
func NewRecorder(warmup, length time.Duration) *Recorder {
	return &Recorder{Warmup: warmup, Length: length, all: latency.New(), h1: latency.New(), h2: latency.New(), lag: latency.New()}
}

// Add records r; it implements result.Consumer.
func (t *Recorder) Add(_ *result.Meta, r *result.Result) {
	if r.Intended < t.Warmup {
		return
	}
	// surge's own stop is no server error: a request it cancelled at the
	// trial's end and a tick it never sent did not complete in time (they
	// stay due, so the kept-up check counts them), but they are not
	// failures of the server.
	t.due++
	if r.Flags&result.NotSent != 0 {
		t.notSent++
		return
	}
	if result.ClassOf(r.Error) == result.ClassCanceled {
		t.canceled++
		return
	}
	if !r.OK() {
		t.failed++
		if result.ClassOf(r.Error) == result.ClassTimeout {
			t.timeouts++
		}
	} else if r.End() < t.Length+t.InTime {
		t.completedOK++
	}
	// The server's latency: surge's own send lag is not the server's.
	lag := max(0, r.SendLag())
	server := max(0, r.Latency-lag)
	t.lag.Record(lag)
	t.all.Record(server)
	if r.Intended < t.Warmup+(t.Length-t.Warmup)/2 {
		t.h1.Record(server)
	} else {
		t.h2.Record(server)
	}
}

// AddMarker implements result.Consumer; of the markers, a trial keeps
// the machine's figures of the generator's end-of-run marker.
func (t *Recorder) AddMarker(_ *result.Meta, mk result.Marker) {
	if mk.Kind == result.MarkGenerator {
		t.machine = machineOf(mk.Attrs)
	}
}

// Judge returns the trial at rate against slo. A trial passes when every
// objective holds on the server's latency (latency less send lag) and the
// server kept up: it completed at least 95 % of the measured requests in
// time, and the second half's p50 is not above 1.2× the first half's + 2ms
// (a queue building up breaks any SLO given time, even if this trial was
// too short to show it). A trial whose generator fell behind, that
// failed on latency alone by no more than its send lag could account for
// (bursts), or that would pass on fewer than MinRequests(slo), is
// Unreliable and does not pass.
func (t *Recorder) Judge(n int, rate float64, slo threshold.SLO) Trial {
	tr := Trial{N: n, Rate: rate, Requests: t.due, P50: t.all.Quantile(0.5), P99: t.all.Quantile(0.99),
		Mean: t.all.Mean(), Max: t.all.Max(), Timeouts: t.timeouts, Canceled: t.canceled, NotSent: t.notSent,
		FirstP50: t.h1.Quantile(0.5), SecondP50: t.h2.Quantile(0.5), SendLagP99: t.lag.Quantile(0.99),
		SendLagMax: t.lag.Max(), Machine: t.machine}
	if t.due > 0 {
		tr.Errors = float64(t.failed) / float64(t.due)
	}
	span := (t.Length - t.Warmup).Seconds()
	if span > 0 {
		tr.Throughput = float64(t.completedOK) / span
	}
	tr.KeptUp = t.due > 0 && float64(t.completedOK) >= trialKeepUp*float64(t.due-t.failed)
	var why []string
	if t.due == 0 {
		why = append(why, "no requests measured")
	}
	broken, lagged := t.broken(&tr, slo)
	why = append(why, broken...)
	if t.due > 0 && !tr.KeptUp {
		w := fmt.Sprintf("fell behind: %d of %d completed in time", t.completedOK, t.due-t.failed)
		if t.canceled+t.notSent > 0 {
			w += fmt.Sprintf(" (%d cancelled and %d never sent by surge at the trial's end, not counted as errors)", t.canceled, t.notSent)
		}
		why = append(why, w)
	}
	latencyOnly := len(why) == len(broken) && len(broken) == len(lagged)
	if t.h1.Count() > 0 && t.h2.Count() > 0 && rising(tr.FirstP50, tr.SecondP50, 0) {
		why = append(why, fmt.Sprintf("latency rising: p50 %s → %s within the trial (a queue is building)",
			latency.Round3(tr.FirstP50), latency.Round3(tr.SecondP50)))
		if !rising(tr.FirstP50, tr.SecondP50, tr.SendLagMax) {
			lagged = append(lagged, fmt.Sprintf("p50 %s → %s", latency.Round3(tr.FirstP50), latency.Round3(tr.SecondP50)))
		}
	}
	tr.Hard = tr.Errors > HardErrors || tr.Timeouts > 0
	tr.Pass = len(why) == 0
	tr.Why = strings.Join(why, "; ")
	if tr.Pass {
		tr.Why = "SLO holds and the server kept up"
	}
	if latencyOnly && len(lagged) == len(why) && tr.SendLagP99 <= LagBound(slo) {
		bursts(&tr, lagged)
	}
	if u := t.unreliable(&tr, slo); u != "" && !tr.Hard {
		tr.Unreliable, tr.Pass = true, false
		tr.Why = u + "; " + tr.Why
	}
	t.saturated(&tr)
	return tr
}

// saturated marks the judged trial tr Saturated when it failed, not
// hard and not unreliable, against a target on this machine while its
// CPU pressure was at least SaturatedPressure.
func (t *Recorder) saturated(tr *Trial) {
	if m := t.machine; t.Local && m != nil && m.CPUPressure >= SaturatedPressure && !tr.Pass && !tr.Hard && !tr.Unreliable {
		tr.Saturated = true
		tr.Why += fmt.Sprintf("; saturated machine: CPU pressure %.0f%%, shared with the target", 100*m.CPUPressure)
	}
}

// bursts marks the failed trial tr unreliable when the generator's send
// lag could account for every figure it failed on (lagged). A generator
// that sends each request at most L late (L its longest send lag) sends
// in any span at most λL more than the schedule, which a server of
// capacity μ ≥ λ clears within λL/μ ≤ L: its bursts add at most L to any
// request's server latency. A figure that, less L, would have held may
// then be the generator's doing, not the server's (docs/methods.md).
func bursts(tr *Trial, lagged []string) {
	if tr.Pass || tr.Hard || tr.SendLagMax <= 0 || len(lagged) == 0 {
		return
	}
	tr.Unreliable = true
	tr.Why = fmt.Sprintf("generator bursts: send lag up to %s could account for %s (less the lag, it holds); %s",
		latency.Round3(tr.SendLagMax), strings.Join(lagged, " and "), tr.Why)
}

// unreliable says why the trial tr cannot judge the server, "" when it
// can: the generator fell behind, or too few requests were measured.
func (t *Recorder) unreliable(tr *Trial, slo threshold.SLO) string {
	var why []string
	if b := LagBound(slo); tr.SendLagP99 > b {
		why = append(why, fmt.Sprintf("generator behind: send lag p99 %s > %s", latency.Round3(tr.SendLagP99), b))
	}
	if t.notSent > 0 && !t.AtCap {
		why = append(why, fmt.Sprintf("generator behind: %d ticks not sent below the in-flight cap", t.notSent))
	}
	// A pass on too few requests does not show the percentile held; a
	// failure still shows what broke.
	if need := MinRequests(slo); tr.Pass && t.all.Count() < need {
		why = append(why, fmt.Sprintf("too short: %d requests measured, the SLO's percentile needs %d", t.all.Count(), need))
	}
	return strings.Join(why, "; ")
}

// broken returns a sentence for each objective of slo that tr breaks,
// and the figures among them that the trial's send lag could account
// for: latency objectives whose figure less the longest send lag holds.
func (t *Recorder) broken(tr *Trial, slo threshold.SLO) (why, lagged []string) {
	lag := tr.SendLagMax.Seconds()
	for _, v := range threshold.Check(slo, t.measure(tr)) {
		if v.Pass {
			continue
		}
		why = append(why, missed(v))
		if o := v.Threshold; v.Err == nil && o.IsLatency() && v.Value-lag < o.Duration().Seconds() {
			got := time.Duration(math.Round(v.Value * 1e9))
			lagged = append(lagged, fmt.Sprintf("%s %s", o.Name(), latency.Round3(got)))
		}
	}
	return why, lagged
}

// rising reports whether a trial's p50 went from first to second by more
// than the trend allows once lag is taken off the second: second − lag >
// 1.2 × first + 2ms. With lag 0 it is the trend check itself.
func rising(first, second, lag time.Duration) bool {
	return float64(second-lag) > trialTrend*float64(first)+float64(trialTrendSlack)
}

// measure measures the metrics of an SLO on the trial tr being judged:
// latencies (0 when none was measured) and the error rate of its measured
// part. Other metrics and label filters have no data, and CheckSLO refuses
// them: requests, say, grows with the rate tried, so as an objective it
// would only cap the trials' size.
func (t *Recorder) measure(tr *Trial) threshold.Measure {
	return func(metric string, q float64, filter map[string]string) (float64, bool) {
		if len(filter) > 0 {
			return 0, false
		}
		switch metric {
		case threshold.MetricQuantile:
			return t.all.Quantile(q).Seconds(), true
		case threshold.MetricMean:
			return tr.Mean.Seconds(), true
		case threshold.MetricMin:
			return t.all.Min().Seconds(), true
		case threshold.MetricMax:
			return tr.Max.Seconds(), true
		case threshold.MetricErrorRate:
			return tr.Errors, true
		}
		return 0, false
	}
}

// missed says why an objective failed on a trial, like "p99 612ms ≥
// 500ms" or "errors 2.00% ≥ errors<1%".
func missed(v threshold.Verdict) string {
	o := v.Threshold
	switch {
	case v.Err != nil:
		return v.Err.Error()
	case o.Metric == threshold.MetricErrorRate:
		return fmt.Sprintf("errors %.2f%% ≥ %s", 100*v.Value, o.ObjectiveString())
	case o.IsLatency():
		got := time.Duration(math.Round(v.Value * 1e9))
		return fmt.Sprintf("%s %s ≥ %s", o.Name(), latency.Round3(got), o.Duration())
	}
	return fmt.Sprintf("%s %s ≥ %s", o.Name(), o.FormatValue(v.Value), o.FormatValue(o.Value))
}

// CheckSLO returns an error naming the first objective of slo that a trial
// does not measure: a trial measures latencies and errors, of all its
// requests.
func CheckSLO(slo threshold.SLO) error {
	var tr Trial
	get := NewRecorder(0, time.Second).measure(&tr)
	for _, o := range slo {
		if _, _, err := o.Eval(get); err != nil {
			return fmt.Errorf("%s: a capacity objective is one of pN, med, mean, min, max or errors, of all the requests of a trial", o.Expr)
		}
	}
	return nil
}
