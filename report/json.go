package report

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/summary"
)

// JSON writes s to w as one line of JSON.
//
// The keys, units and order of vegeta's JSON report come first, for the
// total: latencies {total, mean, 50th, 90th, 95th, 99th, max, min} in
// nanoseconds, bytes_in and bytes_out {total, mean}, earliest, latest and
// end (RFC 3339), duration and wait (ns), requests, rate, throughput,
// success (a ratio in [0,1]), status_codes {"200": n} and errors (the
// error strings, first seen first: one per error class, an example of it,
// and one per message without a class, such as a status line).
//
// surge's additions follow:
//
//	percentiles     {"50": ns, ..., "99.99": ns}, Options.Percentiles in order
//	stddev          latency standard deviation, ns
//	distribution    [{"label": "t < 800ms", "count": n, "ratio": f}, ...,
//	                {"label": "failed", ...}]; ratio of requests in [0,1]
//	send_lag        {"50th", "99th", "max"}, ns
//	sent            requests that went out
//	late            sent requests whose send lag exceeded the summary's LateAfter
//	not_sent        requests due but never sent
//	resent          sent requests that went out a second time after a reused
//	                connection failed before the response (idempotent only)
//	error_counts    [{"error": s, "count": n, "class": c}], the errors with
//	                their counts and classes ("reset", "timeout", "local", …;
//	                "" for a status line or a failed check)
//	other_errors    requests whose error was not kept (over 1000 groups)
//	warmup_skipped  warm-up results left out
//	labels          {label: the object above, for that label's results}
//	runs            the run ids (or start times of runs without id)
//	warning         the warnings the text report starts with, one per
//	                line: inputs that lost something, then the generator's;
//	                "" if none
//	findings        the diagnoses f (analyze.Findings; null when f is nil):
//	                generator health and,
//	                per label, cold_phase (null if none), steady_state (the
//	                figures without the cold phase, null if none), spikes,
//	                saturation and ceiling (null when the run is too short
//	                to judge, or, for saturation and ceiling, has no offered
//	                rate; ceiling: concurrency = throughput × service, with
//	                unjudged saying why a run that fell behind got none, and
//	                gauge, the scrape's pool pinned at its size, when read),
//	                and signals when the run recorded server signals (-scrape,
//	                -watch): window, windows, series, sources, distinct,
//	                tests, fdr, moved, generator, matches [{source, name,
//	                labels, kind, meaning, symptom, stat, lag (windows, > 0:
//	                the series moved first), r (rank correlation), p, n_eff,
//	                episodes, matched, event, episode_p, same, text}];
//	                at the findings' top, stages {target, labels, ceiling}
//	                when every label is a stage of one target (-rate a,b,c):
//	                the ceiling of the stages together;
//	                durations in ns, rates in requests/s, each with "text"
//	inputs          the runs of results files read, when the caller named
//	                them: {file, run (from 1), complete, end_record,
//	                records, written (by the end-of-run record, null
//	                without one), blocks, end (the byte the readable part
//	                ends at), header_damaged, corrupt_blocks, corrupt_bytes,
//	                truncated, warning ("" if nothing was lost)}
//
// The last six appear at the top level only.
func JSON(w io.Writer, s *summary.Summary, f *analyze.Findings, o Options) error {
	o, err := o.resolve(s)
	if err != nil {
		return err
	}
	rep := jsonReport{
		jsonStats:     newJSONStats(s.Total, o),
		WarmupSkipped: s.WarmupSkipped,
		Labels:        map[string]jsonStats{},
		Runs:          []string{},
		Warning:       generatorWarning(s),
		Findings:      f,
	}
	if rep.Warning == "" {
		rep.Warning = findingsWarning(s, rep.Findings)
	}
	rep.Warning = firstWarning(s, rep.Warning)
	rep.Inputs = jsonInputs(s)
	for _, st := range s.Labels() {
		rep.Labels[st.Label] = newJSONStats(st, o)
	}
	for _, m := range s.Runs {
		id := m.ID
		if id == "" {
			id = m.Start.Format(time.RFC3339Nano)
		}
		rep.Runs = append(rep.Runs, id)
	}
	// One line, as vegeta writes it. Unescaped HTML characters keep the
	// distribution labels ("t < 800ms") readable; parsers see no difference.
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}

type jsonReport struct {
	jsonStats
	WarmupSkipped int64                `json:"warmup_skipped"`
	Labels        map[string]jsonStats `json:"labels"`
	Runs          []string             `json:"runs"`
	Warning       string               `json:"warning"`
	Findings      *analyze.Findings    `json:"findings"`
	Inputs        []jsonInput          `json:"inputs,omitempty"`
}

type jsonStats struct {
	// vegeta's Metrics, in its field order.
	Latencies   jsonLatencies    `json:"latencies"`
	BytesIn     jsonBytes        `json:"bytes_in"`
	BytesOut    jsonBytes        `json:"bytes_out"`
	Earliest    time.Time        `json:"earliest"`
	Latest      time.Time        `json:"latest"`
	End         time.Time        `json:"end"`
	Duration    time.Duration    `json:"duration"`
	Wait        time.Duration    `json:"wait"`
	Requests    int64            `json:"requests"`
	Rate        float64          `json:"rate"`
	Throughput  float64          `json:"throughput"`
	Success     float64          `json:"success"`
	StatusCodes map[string]int64 `json:"status_codes"`
	Errors      []string         `json:"errors"`

	// surge's additions.
	Percentiles  jsonPercentiles  `json:"percentiles"`
	StdDev       time.Duration    `json:"stddev"`
	Distribution []jsonBucket     `json:"distribution"`
	SendLag      jsonLag          `json:"send_lag"`
	Sent         int64            `json:"sent"`
	Late         int64            `json:"late"`
	NotSent      int64            `json:"not_sent"`
	Resent       int64            `json:"resent"`
	ErrorCounts  []jsonErrorCount `json:"error_counts"`
	OtherErrors  int64            `json:"other_errors"`
}

type jsonLatencies struct {
	Total time.Duration `json:"total"`
	Mean  time.Duration `json:"mean"`
	P50   time.Duration `json:"50th"`
	P90   time.Duration `json:"90th"`
	P95   time.Duration `json:"95th"`
	P99   time.Duration `json:"99th"`
	Max   time.Duration `json:"max"`
	Min   time.Duration `json:"min"`
}

type jsonBytes struct {
	Total int64   `json:"total"`
	Mean  float64 `json:"mean"`
}

type jsonBucket struct {
	Label string  `json:"label"`
	Count int64   `json:"count"`
	Ratio float64 `json:"ratio"`
}

type jsonLag struct {
	P50 time.Duration `json:"50th"`
	P99 time.Duration `json:"99th"`
	Max time.Duration `json:"max"`
}

type jsonErrorCount struct {
	Error string `json:"error"`
	Count int64  `json:"count"`
	Class string `json:"class"`
}

// jsonPercentiles is an object whose keys keep the order of the slice.
type jsonPercentiles []quantileValue

type quantileValue struct {
	q float64
	d time.Duration
}

func (p jsonPercentiles) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(percentLabel(e.q)))
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(int64(e.d), 10))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func newJSONStats(st *summary.Stats, o Options) jsonStats {
	l := st.Latency
	j := jsonStats{
		Latencies: jsonLatencies{
			Total: l.Total(), Mean: l.Mean(),
			P50: l.Quantile(0.5), P90: l.Quantile(0.9), P95: l.Quantile(0.95), P99: l.Quantile(0.99),
			Max: l.Max(), Min: l.Min(),
		},
		BytesIn:     jsonBytes{st.BytesIn, perRequest(st.BytesIn, st.Requests)},
		BytesOut:    jsonBytes{st.BytesOut, perRequest(st.BytesOut, st.Requests)},
		Earliest:    st.Earliest,
		Latest:      st.Latest,
		End:         st.End,
		Duration:    st.Duration(),
		Wait:        st.Wait(),
		Requests:    st.Requests,
		Rate:        st.Rate(),
		Throughput:  st.Throughput(),
		Success:     st.SuccessRatio(),
		StatusCodes: make(map[string]int64, len(st.StatusCodes)),
		Errors:      make([]string, 0, len(st.Errors)),

		StdDev:      l.StdDev(),
		SendLag:     jsonLag{st.SendLag.Quantile(0.5), st.SendLag.Quantile(0.99), st.SendLag.Max()},
		Sent:        st.Sent,
		Late:        st.Late,
		NotSent:     st.NotSent,
		Resent:      st.Resent,
		ErrorCounts: make([]jsonErrorCount, 0, len(st.Errors)),
		OtherErrors: st.OtherErrors,
	}
	for code, n := range st.StatusCodes {
		j.StatusCodes[strconv.Itoa(code)] = n
	}
	for _, e := range st.Errors {
		j.Errors = append(j.Errors, e.Error)
		j.ErrorCounts = append(j.ErrorCounts, jsonErrorCount{e.Error, e.Count, e.Class})
	}
	for _, q := range o.Percentiles {
		j.Percentiles = append(j.Percentiles, quantileValue{q, l.Quantile(q)})
	}
	for i, label := range distributionLabels(o.Bounds) {
		j.Distribution = append(j.Distribution, jsonBucket{label, st.Buckets[i], ratio(st.Buckets[i], st.Requests)})
	}
	return j
}
