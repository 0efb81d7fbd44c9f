// Package lab is surge's built-in target server. It reproduces the classic
// causes of slow APIs with known parameters — fixed latency, cold start,
// stop-the-world pauses, a bounded pool, a warming-up readiness check,
// injected errors and connection resets, real garbage-collector work (/gc) and a
// lookup that scans its whole table unless indexed (/lookup) — so that demos,
// docs and tests have a server whose truth is known. A few API-shaped endpoints (/users, /search,
// /login, /me) add state that spans requests: unique emails, a cost that grows
// with a date range, bearer tokens. It exposes its own figures at /metrics in the
// Prometheus text format, after the Go runtime's and the process's, named as the
// Prometheus Go client names them.
//
// Every endpoint keeps one state per parameter set (the endpoint and its
// canonical query), created by that set's first request: /cold?n=10 and
// /cold?n=20 warm up separately, /pool?size=2 and /pool?size=4 are two pools.
// README.md lists the endpoints and the exact formulas.
package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a lab Server. The zero value is ready at once and uses
// the wall clock.
type Config struct {
	// Warmup is how long /ready answers 503 after New; 0 means ready at once.
	Warmup time.Duration
	// Now returns the current time; nil means time.Now. Waiting always uses
	// real timers: Now only decides where requests fall (pause windows,
	// readiness, uptime).
	Now func() time.Time
	// MaxUsers bounds the emails /users remembers; beyond it /users answers
	// 507. 0 (or less) means DefaultMaxUsers.
	MaxUsers int
	// MaxTokens bounds the bearer tokens /login remembers; beyond it the
	// oldest token is forgotten. 0 (or less) means DefaultMaxTokens.
	MaxTokens int
}

// Defaults of Config.MaxUsers and Config.MaxTokens. At these bounds the stores
// hold up to about 1 GB and 150 MB.
const (
	DefaultMaxUsers  = 10_000_000
	DefaultMaxTokens = 1_000_000
)

// Server is the lab target. It implements http.Handler, so it can be mounted
// anywhere or served on its own with Start. It is safe for concurrent use.
type Server struct {
	cfg   Config
	now   func() time.Time
	start time.Time

	// aliases maps raw query strings already seen to their state, so the hot
	// path is one lock-free map lookup without parsing. It is copied on write
	// and holds at most maxAliases entries; queries beyond that are parsed
	// each time (a client that adds a unique id to every URL must not grow it
	// without bound).
	aliases atomic.Pointer[map[aliasKey]*state]

	mu     sync.Mutex
	states map[stateKey]*state // by canonical parameter set

	gcHeaps gcHeaps // /gc's live heaps by size
	tables  tables  // /lookup's table

	users  userStore  // emails seen by /users
	tokens tokenStore // tokens issued by /login

	srvMu  sync.Mutex
	srv    *http.Server
	cancel context.CancelFunc
}

const maxAliases = 4096

type aliasKey struct {
	ep  endpointID
	raw string
}

type stateKey struct {
	ep     endpointID
	params string
}

// state is what one parameter set remembers.
type state struct {
	ep      endpointID
	params  string    // canonical query, the "params" label
	set     settings  // parsed parameters
	created time.Time // first request; origin of the pause windows
	ident   []byte    // `"endpoint":"…","params":"…"` for response bodies
	labels  string    // `{endpoint="…",params="…"}` for /metrics
	pool    *pool     // /pool only

	requests atomic.Uint64 // counted on arrival; also the 1-based arrival index
	inFlight atomic.Int64
	errors   atomic.Uint64
	resets   atomic.Uint64

	registered   atomic.Uint64 // /users 201
	conflicts    atomic.Uint64 // /users 409
	unauthorized atomic.Uint64 // /login and /me 401

	liveBytes  atomic.Int64  // /gc: bytes of the live heap the set uses
	allocBytes atomic.Uint64 // /gc: garbage allocated by its requests

	rowsScanned atomic.Uint64 // /lookup: rows read
}

// New returns a lab server. Its warm-up and uptime count from now.
func New(cfg Config) *Server {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Server{
		cfg:    cfg,
		now:    now,
		start:  now(),
		states: make(map[stateKey]*state),
		users:  newUserStore(orDefault(cfg.MaxUsers, DefaultMaxUsers)),
		tokens: newTokenStore(orDefault(cfg.MaxTokens, DefaultMaxTokens)),
	}
}

func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// ServeHTTP answers the lab's endpoints. Any method and any body are
// accepted, except by /users, /search, /login and /me, which take one method
// and validate their input.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep, ok := endpointAt(r.URL.Path)
	if !ok {
		s.serveUnlisted(w, r)
		return
	}
	e := &endpoints[ep]
	if !e.allows(r.Method) {
		writeMethodNotAllowed(w, e, r.Method)
		return
	}
	st, err := s.lookup(ep, r.URL.RawQuery)
	if err != nil {
		writeBadRequest(w, ep, err)
		return
	}
	var in input
	if e.read != nil {
		if in, err = e.read(r); err != nil {
			writeBadRequest(w, ep, err)
			return
		}
	}
	i := st.requests.Add(1)
	st.inFlight.Add(1)
	defer st.inFlight.Add(-1)
	e.serve(s, w, r, st, i, in)
}

// serveUnlisted answers the paths that are not stateful endpoints: the
// metrics, the index, and 404 for anything else.
func (s *Server) serveUnlisted(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/metrics":
		s.serveMetrics(w)
	case "/":
		writeJSON(w, http.StatusOK, indexBody)
	default:
		writeError(w, http.StatusNotFound, errorBody{
			Error: "not found", Path: r.URL.Path,
			Message: "unknown path; GET / lists the endpoints",
		})
	}
}

// writeMethodNotAllowed answers 405 to a request to e with a method it does
// not take.
func writeMethodNotAllowed(w http.ResponseWriter, e *endpoint, method string) {
	allow := e.method
	if allow == http.MethodGet {
		allow = "GET, HEAD"
	}
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, errorBody{
		Error: "method not allowed", Endpoint: e.name,
		Message: "method: expected " + allow + ", got " + method,
	})
}

// writeBadRequest answers 400 to a request whose parameters (*ParamError) or
// body (*fieldError) the lab cannot use.
func writeBadRequest(w http.ResponseWriter, ep endpointID, err error) {
	body := errorBody{Error: "bad parameter", Endpoint: endpoints[ep].name, Message: err.Error()}
	var pe *ParamError
	var fe *fieldError
	switch {
	case errors.As(err, &pe):
		body.Param = pe.Param
	case errors.As(err, &fe):
		body.Error, body.Field = "bad body", fe.Field
	}
	writeError(w, http.StatusBadRequest, body)
}

// lookup returns the state of ep's parameter set written as raw, creating it
// on first use. Its error is a *ParamError.
func (s *Server) lookup(ep endpointID, raw string) (*state, error) {
	if m := s.aliases.Load(); m != nil {
		if st, ok := (*m)[aliasKey{ep, raw}]; ok {
			return st, nil
		}
	}
	set, canon, err := parseParams(&endpoints[ep], raw)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := stateKey{ep, canon}
	st := s.states[key]
	if st == nil {
		st = &state{ep: ep, params: canon, set: set, created: s.now()}
		st.ident = append([]byte(`"endpoint":`), marshal(endpoints[ep].name)...)
		st.ident = append(append(st.ident, `,"params":`...), marshal(canon)...)
		st.labels = `{endpoint="` + escapeLabel(endpoints[ep].name) + `",params="` + escapeLabel(canon) + `"}`
		if ep == epPool {
			st.pool = newPool(set.size)
		}
		s.states[key] = st
	}
	var old map[aliasKey]*state
	if m := s.aliases.Load(); m != nil {
		old = *m
	}
	if len(old) < maxAliases {
		m := make(map[aliasKey]*state, len(old)+1)
		for k, v := range old {
			m[k] = v
		}
		m[aliasKey{ep, raw}] = st
		s.aliases.Store(&m)
	}
	return st, nil
}

// Start listens on addr (for example "127.0.0.1:0") and serves the lab there
// in the background until Close. It returns the bound address. It fails if
// the server is already started.
func (s *Server) Start(addr string) (net.Addr, error) {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv != nil {
		return nil, errors.New("lab: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	// Closing ctx wakes every handler that is waiting, so Close is prompt.
	ctx, cancel := context.WithCancel(context.Background())
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	s.srv, s.cancel = srv, cancel
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr(), nil
}

// Close stops the server started by Start, closing its listener and
// connections and waking waiting handlers. It is a no-op if the server is not
// started. The lab's states survive, so Start may be called again.
func (s *Server) Close() error {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv == nil {
		return nil
	}
	// Connections close first so that handlers woken by cancel cannot send
	// their empty answers.
	err := s.srv.Close()
	s.cancel()
	s.srv, s.cancel = nil, nil
	return err
}

var (
	jsonType  = []string{"application/json"}
	bufPool   = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}
	indexBody = buildIndex()
)

// writeJSON writes a JSON body with status code. The Content-Type slice is
// shared between responses to save an allocation; net/http only reads it.
func writeJSON(w http.ResponseWriter, code int, body []byte) {
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// errorBody is the JSON answer to a request the lab cannot serve.
type errorBody struct {
	OK       bool   `json:"ok"`
	Error    string `json:"error"`
	Endpoint string `json:"endpoint,omitempty"`
	Param    string `json:"param,omitempty"`
	Field    string `json:"field,omitempty"`
	Path     string `json:"path,omitempty"`
	Message  string `json:"message"`
}

func writeError(w http.ResponseWriter, code int, e errorBody) {
	writeJSON(w, code, marshal(e))
}

// marshal encodes v as JSON without escaping &, < and >, which the canonical
// parameters contain.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // only called with encodable values
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// writeOK writes the 200 answer of request i that took d of service time.
func writeOK(w http.ResponseWriter, st *state, i uint64, d time.Duration) {
	bp := bufPool.Get().(*[]byte)
	b := appendBody((*bp)[:0], true, st, i, d)
	writeJSON(w, http.StatusOK, b)
	*bp = b
	bufPool.Put(bp)
}

// appendBody appends {"ok":…,"endpoint":…,"params":…,"request":i,"ms":d}.
func appendBody(b []byte, ok bool, st *state, i uint64, d time.Duration) []byte {
	b = append(b, `{"ok":`...)
	b = strconv.AppendBool(b, ok)
	b = append(b, ',')
	b = append(b, st.ident...)
	b = append(b, `,"request":`...)
	b = strconv.AppendUint(b, i, 10)
	b = append(b, `,"ms":`...)
	b = strconv.AppendFloat(b, durationToMs(d), 'f', -1, 64)
	return append(b, '}')
}

// buildIndex renders the body of GET /: every endpoint with its parameters.
func buildIndex() []byte {
	type param struct {
		Name    string `json:"name"`
		Default string `json:"default"`
		Expect  string `json:"expect"`
		Doc     string `json:"doc"`
	}
	type ep struct {
		Path   string  `json:"path"`
		Method string  `json:"method,omitempty"`
		Doc    string  `json:"doc"`
		Input  string  `json:"input,omitempty"`
		Params []param `json:"params"`
	}
	var eps []ep
	for i := range endpoints {
		e := &endpoints[i]
		out := ep{Path: e.path(), Method: e.method, Doc: e.doc, Input: e.input, Params: []param{}}
		for _, p := range e.params {
			out.Params = append(out.Params, param{p.name, p.format(p.def), p.expect(), p.doc})
		}
		eps = append(eps, out)
	}
	eps = append(eps,
		ep{Path: "/metrics", Doc: "Prometheus text exposition (0.0.4) of the lab's own figures", Params: []param{}},
		ep{Path: "/", Doc: "this index", Params: []param{}})
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(struct {
		Name      string `json:"name"`
		Doc       string `json:"doc"`
		Endpoints []ep   `json:"endpoints"`
	}{
		Name:      "surge lab",
		Doc:       "each distinct parameter set keeps its own state, created on its first request; unknown parameters are ignored",
		Endpoints: eps,
	})
	return b.Bytes()
}
