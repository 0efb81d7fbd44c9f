// Package dashboard serves a live web page of a running attack — the HTML
// report's charts, updated once a second over Server-Sent Events, with a
// stop button — and the generator's own figures at /metrics in Prometheus
// text format, on one address.
//
// Routes: "/" the page, "/events" the SSE stream (one HTMLData document per
// event; an event named "done" when the run ended), "/stop" (POST) ends the
// run, "/report.html" the HTML report of what was observed so far (the
// final report once Finish was called), "/metrics" Prometheus.
//
// Who may do what. Each Server has a secret token (Config.Token, random by
// default) that a request shows as the X-Surge-Token header, as
// "Authorization: Bearer TOKEN" or as the query parameter token=TOKEN; the
// page carries it and sends it. On a loopback address, a request whose
// Host header is not the dashboard's own address (a loopback IP or
// "localhost", with the port served) is refused with 421, so that a web
// page whose name was rebound to 127.0.0.1 (DNS rebinding) reads nothing;
// reading needs no token. With Config.AllowRemote, every request needs the
// token (401 without it). Stopping the run needs both the token and
// same-origin proof: a browser's Sec-Fetch-Site or Origin header, when
// sent, must name the dashboard itself (403 otherwise).
package dashboard

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/report"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// DefaultAddr is the address served when Config.Addr is empty.
const DefaultAddr = "127.0.0.1:8089"

// Defaults for Config.
const (
	DefaultInterval  = time.Second
	DefaultMaxPoints = 20_000
	// DefaultLinger bounds how long Close waits for open pages to fetch
	// the final report.
	DefaultLinger = 3 * time.Second
)

// ErrNotLoopback is returned by New for an address that is not on the
// loopback interface when Config.AllowRemote is false.
var ErrNotLoopback = errors.New("dashboard: address is not loopback (127.0.0.1, ::1, localhost); allow remote access explicitly to bind it")

// Config configures a Server. The zero value of every field means its
// default.
type Config struct {
	// Addr is the host:port to listen on; default DefaultAddr. Port 0
	// picks a free port.
	Addr string
	// AllowRemote allows an address that is not loopback. Every request
	// must then show Token, and the Host header is not checked (the
	// machine's names and proxies in front of it are not known).
	AllowRemote bool
	// Token is the secret a request shows to stop the run (and, with
	// AllowRemote, to see anything); default: 128 random bits in hex.
	Token string
	// Stop is called (once) when the stop button is pressed; nil hides
	// nothing but makes /stop answer 501.
	Stop func()
	// Meta describes the run; results' offsets count from Meta.Start.
	Meta *result.Meta
	// Name names the run in the title and legends; default: from Meta,
	// the scenario's name of "surge run", else the command line, else
	// "live".
	Name string
	// Summary configures the aggregation (bounds, windows).
	Summary summary.Options
	// InFlight, if set, reports requests in flight for /metrics.
	InFlight func() int64
	// Interval between updates; default DefaultInterval.
	Interval time.Duration
	// MaxPoints is the request-point budget of the latency chart; default
	// DefaultMaxPoints.
	MaxPoints int
	// Linger bounds how long Close waits for open pages to fetch the final
	// report; default DefaultLinger.
	Linger time.Duration
}

// Server is a live dashboard. Create it with New, then Start; feed it as
// the result.Consumer of the run's stream (or with Observe); end with
// Finish and Close. Its methods are safe for concurrent use.
type Server struct {
	cfg  Config
	ln   net.Listener
	srv  *http.Server
	host string // the host of Config.Addr, a name the Host header may use
	port string // the port served

	mu      sync.Mutex // guards the aggregation below
	sum     *summary.Summary
	points  *report.Points
	metrics metrics
	settle  settle // how long results take to arrive, for live snapshots
	// findings are the last diagnosis of sum, reused by stale snapshots.
	findings *analyze.Findings
	stale    int

	snapMu   sync.Mutex
	snap     []byte        // latest HTMLData
	changed  chan struct{} // closed and replaced at each new snapshot
	final    []byte        // final HTML report, once finished
	ended    bool          // the run's last snapshot was taken: no live one replaces it
	finished chan struct{}

	clients  atomic.Int64 // open event streams
	fetched  atomic.Int64 // final reports fetched
	waiting  atomic.Int64 // streams open when the run finished
	stopOnce sync.Once
	finOnce  sync.Once
	quit     chan struct{}
	loopDone chan struct{}
}

// New checks cfg and returns a Server that is not yet listening.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("dashboard address %q: %w", cfg.Addr, err)
	}
	if !cfg.AllowRemote && !isLoopback(host) {
		return nil, fmt.Errorf("%w: %q", ErrNotLoopback, cfg.Addr)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.MaxPoints <= 0 {
		cfg.MaxPoints = DefaultMaxPoints
	}
	if cfg.Linger <= 0 {
		cfg.Linger = DefaultLinger
	}
	if cfg.Meta == nil {
		cfg.Meta = &result.Meta{Start: time.Now()}
	}
	if cfg.Name == "" {
		cfg.Name = runName(cfg.Meta)
	}
	if cfg.Token == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("dashboard token: %w", err)
		}
		cfg.Token = hex.EncodeToString(b[:])
	}
	s := &Server{
		cfg:      cfg,
		host:     host,
		sum:      summary.New(cfg.Summary),
		points:   report.NewPoints(cfg.MaxPoints),
		changed:  make(chan struct{}),
		finished: make(chan struct{}),
		quit:     make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	s.metrics.init()
	return s, nil
}

// isLoopback reports whether host names only the loopback interface. An
// empty host (every interface) is not loopback.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Start listens and serves in the background, and returns the address
// served (with the port chosen when Config.Addr had port 0).
func (s *Server) Start() (string, error) {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return "", fmt.Errorf("dashboard: %w", err)
	}
	s.ln = ln
	_, s.port, _ = net.SplitHostPort(ln.Addr().String())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /events", s.events)
	mux.HandleFunc("POST /stop", s.stop)
	mux.HandleFunc("GET /report.html", s.reportHTML)
	mux.HandleFunc("GET /metrics", s.metricsHandler)
	s.srv = &http.Server{Handler: s.guard(mux), ReadHeaderTimeout: 10 * time.Second}
	s.snapshot(true)
	go s.srv.Serve(ln)
	go s.loop()
	return ln.Addr().String(), nil
}

// Token returns the secret that requests show (see the package doc).
func (s *Server) Token() string { return s.cfg.Token }

// tokenHeader is the request header the page sends its token in.
const tokenHeader = "X-Surge-Token"

// guard refuses what the package doc says is refused, before next sees
// the request.
func (s *Server) guard(next http.Handler) http.Handler {
	// Go's CSRF check: a browser's Sec-Fetch-Site, else its Origin, must
	// say the request comes from the page's own origin (checked against
	// Host, which the Host check below has made the dashboard's own).
	sameOrigin := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.cfg.AllowRemote && !s.ownHost(r.Host) {
			http.Error(w, fmt.Sprintf("dashboard: Host %q is not this dashboard's address (port %s on loopback)", r.Host, s.port), http.StatusMisdirectedRequest)
			return
		}
		if s.cfg.AllowRemote && !s.hasToken(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="surge dashboard"`)
			http.Error(w, "dashboard: every request needs the token printed when the run started (?token=, X-Surge-Token or Authorization: Bearer)", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := sameOrigin.Check(r); err != nil {
				http.Error(w, "dashboard: "+err.Error(), http.StatusForbidden)
				return
			}
			if !s.hasToken(r) {
				http.Error(w, "dashboard: this request needs the dashboard's token (X-Surge-Token, Authorization: Bearer or ?token=)", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// ownHost reports whether a Host header names this dashboard: the port
// served and a loopback IP, "localhost" or the host of Config.Addr. A name
// that merely resolves to 127.0.0.1 (DNS rebinding) is refused.
func (s *Server) ownHost(h string) bool {
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		host, port = h, "80" // no port: the default one
	}
	if port != s.port || host == "" {
		return false
	}
	if strings.EqualFold(host, s.host) || strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hasToken reports whether r shows the dashboard's token.
func (s *Server) hasToken(r *http.Request) bool {
	got := r.Header.Get(tokenHeader)
	if got == "" {
		if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
			got = strings.TrimSpace(a[7:])
		}
	}
	if got == "" {
		got = r.URL.Query().Get("token")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.Token)) == 1
}

// Observe folds a batch of results of the run of Config.Meta in, as
// AddBatch does.
func (s *Server) Observe(batch []result.Result) { s.AddBatch(s.cfg.Meta, batch) }

// AddBatch implements result.BatchConsumer: it folds a batch of results of
// the run m (nil: Config.Meta's) in. It takes one lock per batch and does
// not allocate once every label and error string has been seen.
func (s *Server) AddBatch(m *result.Meta, batch []result.Result) {
	if m == nil {
		m = s.cfg.Meta
	}
	if len(batch) == 0 {
		return
	}
	now := time.Now()
	s.mu.Lock()
	oldest := m.Start.Add(batch[0].Intended)
	for i := range batch {
		r := &batch[i]
		if at := m.Start.Add(r.Intended); at.Before(oldest) {
			oldest = at
		}
		s.sum.Add(m, r)
		if r.Flags&result.Warmup == 0 || s.cfg.Summary.IncludeWarmup {
			s.points.Add(r, 0)
		}
		s.metrics.observe(r)
	}
	s.settle.observe(now, oldest)
	s.mu.Unlock()
}

// Add implements result.Consumer: it folds one result of the run m (nil:
// Config.Meta's) in.
func (s *Server) Add(m *result.Meta, r *result.Result) { s.AddBatch(m, []result.Result{*r}) }

// AddMarker implements result.Consumer: it records a phase marker (a
// stage, a warm-up) of the run m (nil: Config.Meta's).
func (s *Server) AddMarker(m *result.Meta, mk result.Marker) {
	if m == nil {
		m = s.cfg.Meta
	}
	s.mu.Lock()
	s.sum.AddMarker(m, mk)
	s.mu.Unlock()
}

// AddScrape implements result.ScrapeConsumer: it folds a reading of the
// server's signals (a scrape, a watched process) of the run m (nil:
// Config.Meta's) in. The summary keeps a bounded number of points per
// series, so memory stays flat however long the run; the next snapshot
// sends the series to every open page.
func (s *Server) AddScrape(m *result.Meta, sc *result.Scrape) {
	if m == nil {
		m = s.cfg.Meta
	}
	s.mu.Lock()
	s.sum.AddScrape(m, sc)
	s.mu.Unlock()
}

var (
	_ result.BatchConsumer  = (*Server)(nil)
	_ result.ScrapeConsumer = (*Server)(nil)
)

// Report writes the HTML report of everything observed so far.
func (s *Server) Report(w io.Writer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return report.HTML(w, s.runs(true), report.Options{})
}

// diagnoseEvery is how many snapshots reuse the findings of the last
// diagnosis: with a scrape of a few hundred series the analysis takes tens
// of milliseconds, under the lock the run's batches wait for.
const diagnoseEvery = 5

// runs returns the run to draw, with its findings so far, so that the live
// page shades the spike episodes and orders the signals as the final
// report does: diagnosed afresh when fresh is set or every diagnoseEvery
// calls, else the last findings. s.mu must be held.
func (s *Server) runs(fresh bool) []report.Run {
	if fresh || s.findings == nil || s.stale >= diagnoseEvery-1 {
		s.findings, s.stale = analyze.Diagnose(s.sum), 0
	} else {
		s.stale++
	}
	return []report.Run{{Name: s.cfg.Name, Summary: s.sum, Points: s.points, Origin: s.cfg.Meta.Start, Findings: s.findings}}
}

// Finish says the run ended: pages show it and offer html (nil: the report
// of what was observed) as the final report.
func (s *Server) Finish(html []byte) {
	s.finOnce.Do(func() {
		if html == nil {
			var b bytes.Buffer
			if err := s.Report(&b); err == nil {
				html = b.Bytes()
			}
		}
		s.snapshot(false)
		s.snapMu.Lock()
		s.final = html
		s.snapMu.Unlock()
		s.waiting.Store(s.clients.Load())
		close(s.finished)
	})
}

// Close waits, up to Config.Linger, for the pages open when the run
// finished to fetch the final report, then stops serving.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	select {
	case <-s.finished:
		deadline := time.Now().Add(s.cfg.Linger)
		for s.fetched.Load() < s.waiting.Load() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	default:
	}
	close(s.quit)
	<-s.loopDone
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
}

// loop takes a snapshot every Interval until Close.
func (s *Server) loop() {
	defer close(s.loopDone)
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-s.finished:
			return
		case <-t.C:
			s.snapshot(true)
		}
	}
}

// snapshot renders the current data once for every open page. While the
// run is live, the time windows still filling are left out (those not
// over by as long ago as results now take to arrive, see settle) and the
// page shows the run's progress.
func (s *Server) snapshot(live bool) {
	s.mu.Lock()
	rs := s.runs(false)
	if live {
		now := time.Now()
		rs[0].Until = now.Add(-s.settle.lag(now))
	}
	js, err := report.HTMLData(rs, report.Options{})
	s.mu.Unlock()
	if err != nil {
		return
	}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if live && s.ended {
		return // a tick racing Finish
	}
	s.ended = s.ended || !live
	s.snap = js
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = report.LivePage(w, "surge live: "+s.cfg.Name, s.cfg.Token)
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	s.clients.Add(1)
	defer s.clients.Add(-1)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	for {
		s.snapMu.Lock()
		js, changed := s.snap, s.changed
		s.snapMu.Unlock()
		if _, err := fmt.Fprintf(w, "data: %s\n\n", js); err != nil {
			return
		}
		fl.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-s.quit:
			return
		case <-s.finished:
			s.snapMu.Lock()
			js = s.snap
			s.snapMu.Unlock()
			fmt.Fprintf(w, "data: %s\n\nevent: done\ndata: {}\n\n", js)
			fl.Flush()
			return
		case <-changed:
		}
	}
}

func (s *Server) stop(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Stop == nil {
		http.Error(w, "this run cannot be stopped from here", http.StatusNotImplemented)
		return
	}
	s.stopOnce.Do(s.cfg.Stop)
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintln(w, "stopping")
}

func (s *Server) reportHTML(w http.ResponseWriter, r *http.Request) {
	s.snapMu.Lock()
	html := s.final
	s.snapMu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="surge-report.html"`)
	if html != nil {
		w.Write(html)
		s.fetched.Add(1)
		return
	}
	var b bytes.Buffer
	if err := s.Report(&b); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Write(b.Bytes())
}
