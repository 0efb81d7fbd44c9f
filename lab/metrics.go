package lab

import (
	"bytes"
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// metricsType is the Content-Type of the Prometheus text exposition format.
const metricsType = "text/plain; version=0.0.4; charset=utf-8"

var (
	metricsTypes = []string{metricsType} // shared, as jsonType
	metricsBuf   = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// family is one metric family of /metrics. A labelled family has value, which
// returns a state's sample and whether the state has one (pool figures exist
// only for /pool sets); an unlabelled one has global instead.
type family struct {
	name, typ, help string
	value           func(s *Server, st *state, now time.Time) (float64, bool)
	global          func(s *Server, now time.Time) float64
}

func all(f func(*state) float64) func(*Server, *state, time.Time) (float64, bool) {
	return func(_ *Server, st *state, _ time.Time) (float64, bool) { return f(st), true }
}

func only(ep endpointID, f func(*state) float64) func(*Server, *state, time.Time) (float64, bool) {
	return func(_ *Server, st *state, _ time.Time) (float64, bool) {
		if st.ep != ep {
			return 0, false
		}
		return f(st), true
	}
}

// families lists the families of /metrics, sorted by name.
var families = []family{
	{name: "surge_lab_errors_total", typ: "counter", help: "Injected error responses sent by /error.",
		value: only(epError, func(st *state) float64 { return float64(st.errors.Load()) })},
	{name: "surge_lab_gc_alloc_bytes_total", typ: "counter", help: "Bytes of garbage allocated by /gc requests.",
		value: only(epGC, func(st *state) float64 { return float64(st.allocBytes.Load()) })},
	{name: "surge_lab_gc_live_bytes", typ: "gauge", help: "Bytes of the live heap /gc keeps for the parameter set's size (shared by the sets of that size), 0 until built.",
		value: only(epGC, func(st *state) float64 { return float64(st.liveBytes.Load()) })},
	{name: "surge_lab_in_flight", typ: "gauge", help: "Requests being served, waiting included.",
		value: all(func(st *state) float64 { return float64(st.inFlight.Load()) })},
	{name: "surge_lab_pause_seconds_total", typ: "counter", help: "Time spent inside stop-the-world pause windows since the parameter set's first request.",
		value: func(s *Server, st *state, now time.Time) (float64, bool) {
			if st.ep != epPause {
				return 0, false
			}
			return pausedTotal(st.set.every, st.set.pause, now.Sub(st.created)).Seconds(), true
		}},
	{name: "surge_lab_pool_busy", typ: "gauge", help: "Pool slots in use.",
		value: only(epPool, func(st *state) float64 { b, _ := st.pool.stats(); return float64(b) })},
	{name: "surge_lab_pool_size", typ: "gauge", help: "Pool slots in total.",
		value: only(epPool, func(st *state) float64 { return float64(st.pool.size) })},
	{name: "surge_lab_pool_waiting", typ: "gauge", help: "Requests waiting for a pool slot.",
		value: only(epPool, func(st *state) float64 { _, w := st.pool.stats(); return float64(w) })},
	{name: "surge_lab_ready", typ: "gauge", help: "1 once the warm-up has passed, else 0.",
		global: func(s *Server, now time.Time) float64 {
			if now.Sub(s.start) >= s.cfg.Warmup {
				return 1
			}
			return 0
		}},
	{name: "surge_lab_requests_total", typ: "counter", help: "Requests received, counted on arrival.",
		value: all(func(st *state) float64 { return float64(st.requests.Load()) })},
	{name: "surge_lab_resets_total", typ: "counter", help: "Connections closed mid-response by /reset.",
		value: only(epReset, func(st *state) float64 { return float64(st.resets.Load()) })},
	{name: "surge_lab_rows_scanned_total", typ: "counter", help: "Rows read by /lookup: rows per request without the index, about one with it.",
		value: only(epLookup, func(st *state) float64 { return float64(st.rowsScanned.Load()) })},
	{name: "surge_lab_unauthorized_total", typ: "counter", help: "401 responses sent by /login (wrong password) and /me (missing or unknown token).",
		value: func(_ *Server, st *state, _ time.Time) (float64, bool) {
			if st.ep != epLogin && st.ep != epMe {
				return 0, false
			}
			return float64(st.unauthorized.Load()), true
		}},
	{name: "surge_lab_uptime_seconds", typ: "gauge", help: "Seconds since the lab started.",
		global: func(s *Server, now time.Time) float64 { return now.Sub(s.start).Seconds() }},
	{name: "surge_lab_users_conflicts_total", typ: "counter", help: "409 responses sent by /users: emails already registered.",
		value: only(epUsers, func(st *state) float64 { return float64(st.conflicts.Load()) })},
	{name: "surge_lab_users_created_total", typ: "counter", help: "201 responses sent by /users: emails registered.",
		value: only(epUsers, func(st *state) float64 { return float64(st.registered.Load()) })},
}

// serveMetrics writes the lab's figures in the Prometheus text exposition
// format 0.0.4: the Go runtime's and the process's own (runtime.go), then the
// lab's; families sorted by name, samples by endpoint then params.
func (s *Server) serveMetrics(w http.ResponseWriter) {
	now := s.now()
	s.mu.Lock()
	sts := make([]*state, 0, len(s.states))
	for _, st := range s.states {
		sts = append(sts, st)
	}
	s.mu.Unlock()
	slices.SortFunc(sts, func(a, b *state) int {
		return cmp.Or(strings.Compare(endpoints[a.ep].name, endpoints[b.ep].name), strings.Compare(a.params, b.params))
	})

	b := metricsBuf.Get().(*bytes.Buffer)
	b.Reset()
	processStats.write(b) // go_* and process_* sort before surge_lab_*
	for _, f := range families {
		writeHead(b, f.name, f.typ, f.help)
		if f.global != nil {
			writeSample(b, f.name, "", f.global(s, now))
			continue
		}
		for _, st := range sts {
			if v, ok := f.value(s, st, now); ok {
				writeSample(b, f.name, st.labels, v)
			}
		}
	}
	w.Header()["Content-Type"] = metricsTypes
	_, _ = w.Write(b.Bytes())
	metricsBuf.Put(b)
}

// writeSample writes one sample line without allocating.
func writeSample(b *bytes.Buffer, name, labels string, v float64) {
	b.WriteString(name)
	b.WriteString(labels)
	b.WriteByte(' ')
	b.Write(strconv.AppendFloat(b.AvailableBuffer(), v, 'f', -1, 64))
	b.WriteByte('\n')
}

// escapeLabel escapes a label value as the text format requires: backslash,
// double quote and line feed.
func escapeLabel(v string) string {
	if !strings.ContainsAny(v, "\\\"\n") {
		return v
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}
