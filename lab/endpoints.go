package lab

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"
)

// endpointID names a stateful endpoint; it indexes endpoints.
type endpointID int

const (
	epFixed endpointID = iota
	epCold
	epPause
	epPool
	epReady
	epError
	epReset
	epUsers
	epSearch
	epLogin
	epMe
	epGC
	epLookup
	numEndpoints
)

// endpoint describes one stateful endpoint: its path, its parameters (sorted
// by name), the checks that span several parameters, and how it answers. The
// endpoints of the API-shaped workloads (/users, /search, /login, /me) also
// take one method and carry input beyond their parameter set, which read
// parses and validates before the request is counted.
//
// This table is the one place an endpoint is declared: ServeHTTP routes by
// it, the index at / lists it and the metrics name it. A new endpoint is an
// endpointID, an entry here and its serve method.
type endpoint struct {
	name   string
	doc    string
	params []paramSpec
	check  func(settings) error
	serve  serveFunc

	method string // the only method accepted (GET also allows HEAD); "" means any
	input  string // the query, body or header the request carries, for the index
	read   func(*http.Request) (input, error)
}

func (e *endpoint) path() string { return "/" + e.name }

// allows reports whether the endpoint accepts a request with method.
func (e *endpoint) allows(method string) bool {
	return e.method == "" || method == e.method || e.method == http.MethodGet && method == http.MethodHead
}

// serveFunc answers request i (1-based, counted on arrival) to the
// parameter set st, with the input the endpoint's read returned.
type serveFunc func(s *Server, w http.ResponseWriter, r *http.Request, st *state, i uint64, in input)

// byArrival adapts a serve method that needs the request's arrival index
// and no input.
func byArrival(f func(*Server, http.ResponseWriter, *http.Request, *state, uint64)) serveFunc {
	return func(s *Server, w http.ResponseWriter, r *http.Request, st *state, i uint64, _ input) {
		f(s, w, r, st, i)
	}
}

// endpointAt returns the endpoint whose path is path. A scan of the table
// is as fast as a map at this size: most names differ in length.
func endpointAt(path string) (endpointID, bool) {
	if len(path) < 2 || path[0] != '/' {
		return 0, false
	}
	for ep := range endpoints {
		if endpoints[ep].name == path[1:] {
			return endpointID(ep), true
		}
	}
	return 0, false
}

var (
	msParam = func(def float64) paramSpec {
		return paramSpec{name: "ms", kind: kindMillis, def: def, max: maxMillis, doc: "service time in milliseconds"}
	}
	ratioParam = paramSpec{name: "ratio", kind: kindRatio, def: 0.1, max: 1,
		doc: "fraction of requests affected, spaced evenly (rounded to 6 decimals)"}
)

var endpoints = [numEndpoints]endpoint{
	epFixed: {
		name:  "fixed",
		serve: byArrival((*Server).serveFixed),
		doc:   "fixed service time ms, plus a uniform jitter in [-jitter, +jitter]",
		params: []paramSpec{
			{name: "jitter", kind: kindMillis, max: maxMillis, doc: "half-width of the uniform jitter in milliseconds; at most ms"},
			msParam(0),
		},
		check: func(s settings) error {
			if s.jitter > s.ms {
				return &ParamError{Param: "jitter", Message: fmt.Sprintf("jitter: expected at most ms (%v), got %v", s.ms, s.jitter)}
			}
			return nil
		},
	},
	epCold: {
		name:  "cold",
		serve: byArrival((*Server).serveCold),
		doc:   "cold start: request i (1-based) costs ms + extra*(n-i+1)/n for i <= n, then ms",
		params: []paramSpec{
			{name: "extra", kind: kindMillis, def: 800, max: maxMillis, doc: "extra time of the first request in milliseconds"},
			msParam(5),
			{name: "n", kind: kindCount, def: 300, min: 1, max: maxCount, doc: "number of requests that pay an extra cost"},
		},
	},
	epPause: {
		name:  "pause",
		serve: byArrival((*Server).servePause),
		doc:   "stop-the-world pauses in windows [k*every, k*every+for), k >= 1, from the parameter set's first request",
		params: []paramSpec{
			{name: "every", kind: kindDuration, def: 5000, min: 1, max: maxMillis, doc: "period of the pauses"},
			{name: "for", kind: kindDuration, def: 1000, max: maxMillis, doc: "length of each pause; less than every"},
			msParam(5),
		},
		check: func(s settings) error {
			if s.pause >= s.every {
				return &ParamError{Param: "for", Message: fmt.Sprintf("for: expected less than every (%v), got %v", s.every, s.pause)}
			}
			return nil
		},
	},
	epPool: {
		name:  "pool",
		serve: byArrival((*Server).servePool),
		doc:   "at most size requests in service at once, the rest wait in FIFO order; capacity size/ms*1000 req/s",
		params: []paramSpec{
			msParam(50),
			{name: "size", kind: kindCount, def: 4, min: 1, max: maxCount, doc: "number of requests served at once"},
		},
	},
	epReady: {
		name:  "ready",
		serve: func(s *Server, w http.ResponseWriter, _ *http.Request, _ *state, _ uint64, _ input) { s.serveReady(w) },
		doc:   "503 until the warm-up has passed since the lab started, then 200",
	},
	epError: {
		name:  "error",
		serve: byArrival((*Server).serveError),
		doc:   "request i (1-based) answers code when floor(i*ratio) > floor((i-1)*ratio), others 200",
		params: []paramSpec{
			{name: "code", kind: kindStatus, def: 500, min: 200, max: 599, doc: "status code of the injected errors"},
			msParam(0),
			ratioParam,
		},
	},
	epReset: {
		name:  "reset",
		serve: byArrival((*Server).serveReset),
		doc:   "request i (1-based) has its connection closed mid-response when floor(i*ratio) > floor((i-1)*ratio)",
		params: []paramSpec{
			msParam(0),
			ratioParam,
		},
	},
	epUsers: {
		name: "users",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, st *state, _ uint64, in input) {
			s.serveUsers(w, r, st, in.email)
		},
		doc:    "registers an email: 201 the first time it is seen, 409 after that, 507 once the lab holds Config.MaxUsers emails; costs ms",
		params: []paramSpec{msParam(2)},
		method: http.MethodPost,
		input:  `JSON body {"email":"…"} with a non-empty email`,
		read:   readUser,
	},
	epSearch: {
		name: "search",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, st *state, _ uint64, in input) {
			s.serveSearch(w, r, st, in)
		},
		doc: "searches a lot over a date range: costs ms + per_day*days, days = to - from + 1",
		params: []paramSpec{
			msParam(5),
			{name: "per_day", kind: kindMillis, def: 1, max: maxMillis, doc: "service time per day of the searched range, in milliseconds"},
		},
		method: http.MethodGet,
		input:  fmt.Sprintf("query lot=ID&from=YYYY-MM-DD&to=YYYY-MM-DD, from <= to, at most %d days", maxSearchDays),
		read:   readSearch,
	},
	epLogin: {
		name: "login",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, st *state, _ uint64, in input) {
			s.serveLogin(w, r, st, in.user, in.password)
		},
		doc:    `issues a bearer token for /me, remembering the last Config.MaxTokens; password "wrong" gets 401; costs ms`,
		params: []paramSpec{msParam(5)},
		method: http.MethodPost,
		input:  `JSON body {"user":"…","password":"…"}, both non-empty`,
		read:   readLogin,
	},
	epMe: {
		name: "me",
		serve: func(s *Server, w http.ResponseWriter, r *http.Request, st *state, _ uint64, _ input) {
			s.serveMe(w, r, st)
		},
		doc:    "answers the user of a token issued by /login, else 401; costs ms",
		params: []paramSpec{msParam(1)},
		method: http.MethodGet,
		input:  "header Authorization: Bearer <token from /login>",
	},
	epGC: {
		name:  "gc",
		serve: byArrival((*Server).serveGC),
		doc:   "real GC work: allocates alloc KiB of garbage per request while live MiB stay retained (built once per size, shared), so the Go collector runs about once per live MiB allocated and marks live MiB each time; service time measured, answer's gc = cycles that ended during the request",
		params: []paramSpec{
			{name: "alloc", kind: kindCount, def: 1024, max: maxAllocKB, doc: "KiB of garbage allocated per request, in 64-byte objects"},
			{name: "live", kind: kindCount, def: 64, max: maxLiveMB, doc: "MiB of pointer-rich heap kept live (shared by the sets of the same size)"},
		},
	},
	epLookup: {
		name:  "lookup",
		serve: byArrival((*Server).serveLookup),
		doc:   "the missing index: finds one key among rows in-memory rows by a full scan (index=0, every row read: cost linear in rows) or a hash index (index=1, about one row read); service time measured, answer's rows_scanned = rows read",
		params: []paramSpec{
			{name: "index", kind: kindCount, max: 1, doc: "1 to look the key up through an index, 0 to scan every row"},
			{name: "rows", kind: kindCount, def: 100_000, min: 1, max: maxRows, doc: "rows in the table (one table of the largest size asked is kept and shared)"},
		},
	},
}

// maxAllocKB bounds /gc's per-request allocation (64 MiB).
const maxAllocKB = 65536

// coldCost returns the service time of request i (1-based, in arrival order)
// of a /cold parameter set:
//
//	ms + extra·(n−i+1)/n   for 1 ≤ i ≤ n (integer nanoseconds, truncated)
//	ms                     for i > n
//
// so request 1 costs ms+extra, request n costs ms+extra/n and the extra cost
// falls by extra/n per request.
func coldCost(ms, extra time.Duration, n, i uint64) time.Duration {
	if i == 0 || i > n {
		return ms
	}
	return ms + extra*time.Duration(n-i+1)/time.Duration(n)
}

// pauseFinish returns when a request that arrives at offset a (since the
// parameter set's first request) and needs work of service time completes,
// given stop-the-world windows [k·every, k·every+pause) for k = 1, 2, …
//
// The request's work advances only outside the windows: one that arrives in a
// window starts at the window's end, one whose work would run into a window is
// suspended there and resumes at its end, and one that would complete at the
// very instant a window opens (or inside it) completes when it closes. It
// needs every > pause ≥ 0.
func pauseFinish(every, pause, a, work time.Duration) time.Duration {
	if a < 0 {
		a = 0
	}
	if pause <= 0 {
		return a + work
	}
	t := a
	k := t / every
	if k >= 1 && t < k*every+pause {
		t = k*every + pause // arrived inside window k
	}
	gapEnd := (k + 1) * every
	if t+work < gapEnd {
		return t + work
	}
	// Reached window k+1 with work left; each later gap does every-pause of it.
	work -= gapEnd - t
	gap := every - pause
	return (k+1+work/gap)*every + pause + work%gap
}

// pausedTotal returns how much of [0, t) lies inside the windows
// [k·every, k·every+pause), k ≥ 1: (k−1)·pause + min(t−k·every, pause) with
// k = ⌊t/every⌋, or 0 before the first window.
func pausedTotal(every, pause, t time.Duration) time.Duration {
	if every <= 0 || t < every {
		return 0
	}
	k := t / every
	return (k-1)*pause + min(t-k*every, pause)
}

// spaced reports whether request i (1-based) is one of the affected requests
// when a fraction ppm/1e6 is affected: ⌊i·ppm/1e6⌋ > ⌊(i−1)·ppm/1e6⌋. Over the
// first N requests exactly ⌊N·ppm/1e6⌋ are affected, evenly spaced, as in
// Bresenham's line algorithm: ratio 0.1 hits requests 10, 20, 30, …
func spaced(ppm, i uint64) bool {
	if i == 0 {
		return false
	}
	return i*ppm/ppmScale != (i-1)*ppm/ppmScale
}

// sleep waits d or until ctx is done and reports whether the full d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Server) serveFixed(w http.ResponseWriter, r *http.Request, st *state, i uint64) {
	d := st.set.ms
	if j := st.set.jitter; j > 0 {
		d += time.Duration((rand.Float64()*2 - 1) * float64(j))
	}
	if sleep(r.Context(), d) {
		writeOK(w, st, i, d)
	}
}

func (s *Server) serveCold(w http.ResponseWriter, r *http.Request, st *state, i uint64) {
	d := coldCost(st.set.ms, st.set.extra, st.set.n, i)
	if sleep(r.Context(), d) {
		writeOK(w, st, i, d)
	}
}

func (s *Server) servePause(w http.ResponseWriter, r *http.Request, st *state, i uint64) {
	a := s.now().Sub(st.created)
	d := pauseFinish(st.set.every, st.set.pause, a, st.set.ms) - max(a, 0)
	if sleep(r.Context(), d) {
		writeOK(w, st, i, d)
	}
}

func (s *Server) servePool(w http.ResponseWriter, r *http.Request, st *state, i uint64) {
	ctx := r.Context()
	if !st.pool.acquire(ctx) {
		return
	}
	ok := sleep(ctx, st.set.ms)
	st.pool.release()
	if ok {
		writeOK(w, st, i, st.set.ms)
	}
}

func (s *Server) serveReady(w http.ResponseWriter) {
	left := s.cfg.Warmup - s.now().Sub(s.start)
	if left <= 0 {
		writeJSON(w, http.StatusOK, readyBody)
		return
	}
	w.Header().Set("Retry-After", fmt.Sprint(int64((left+time.Second-1)/time.Second)))
	body := fmt.Appendf(nil, `{"ready":false,"message":"warming up","remaining_ms":%g}`, durationToMs(left))
	writeJSON(w, http.StatusServiceUnavailable, body)
}

var readyBody = []byte(`{"ready":true}`)

func (s *Server) serveError(w http.ResponseWriter, r *http.Request, st *state, i uint64) {
	if !sleep(r.Context(), st.set.ms) {
		return
	}
	if !spaced(st.set.ppm, i) {
		writeOK(w, st, i, st.set.ms)
		return
	}
	st.errors.Add(1)
	bp := bufPool.Get().(*[]byte)
	b := appendBody((*bp)[:0], false, st, i, st.set.ms)
	b = append(b[:len(b)-1], `,"error":"injected error"}`...)
	writeJSON(w, st.set.code, b)
	*bp = b
	bufPool.Put(bp)
}

func (s *Server) serveReset(w http.ResponseWriter, r *http.Request, st *state, i uint64) {
	if !sleep(r.Context(), st.set.ms) {
		return
	}
	if !spaced(st.set.ppm, i) {
		writeOK(w, st, i, st.set.ms)
		return
	}
	st.resets.Add(1)
	resetConn(w, r)
}

// partialResponse is what a reset connection gets before it is closed: a
// status line and half a header, so the client has read bytes (and does not
// silently retry the request) but cannot parse a response.
const partialResponse = "HTTP/1.1 200 OK\r\nContent-Type: appli"

// resetConn closes the connection in the middle of the response. The request
// body is drained first so the close is an orderly FIN rather than a TCP RST
// that might discard the partial response. Where the connection cannot be
// hijacked (HTTP/2, recorders) the handler aborts, which resets the stream.
func resetConn(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_, _ = buf.WriteString(partialResponse)
	_ = buf.Flush()
	_ = conn.Close()
}

// Paths returns the path of every endpoint, in the table's order, then
// /metrics: what the lab serves, for a start-up line.
func Paths() []string {
	ps := make([]string, 0, len(endpoints)+1)
	for i := range endpoints {
		ps = append(ps, endpoints[i].path())
	}
	return append(ps, "/metrics")
}
