// Package dashboard serves a live web page of a running attack — the HTML
// report's charts, updated once a second over Server-Sent Events, with a
// stop button — and the generator's own figures at /metrics in Prometheus
// text format, on one address.
//
// Routes: "/" the page, "/events" the SSE stream (one HTMLData document per
// event; an event named "done" when the run ended), "/stop" (POST) ends the
// run, "/report.html" the HTML report of what was observed so far (the
// final report once Finish was called), "/metrics" Prometheus.
package dashboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

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
	// AllowRemote allows an address that is not loopback. The dashboard has
	// no authentication and its stop button ends the run.
	AllowRemote bool
	// Stop is called (once) when the stop button is pressed; nil hides
	// nothing but makes /stop answer 501.
	Stop func()
	// Meta describes the run; results' offsets count from Meta.Start.
	Meta *result.Meta
	// Name names the run in legends; default "live".
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

// Server is a live dashboard. Create it with New, then Start; feed it with
// Observe; end with Finish and Close. Observe, Finish and Close are safe
// for concurrent use.
type Server struct {
	cfg Config
	ln  net.Listener
	srv *http.Server

	mu      sync.Mutex // guards the aggregation below
	sum     *summary.Summary
	points  *report.Points
	metrics metrics

	snapMu   sync.Mutex
	snap     []byte        // latest HTMLData
	changed  chan struct{} // closed and replaced at each new snapshot
	final    []byte        // final HTML report, once finished
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
	if cfg.Name == "" {
		cfg.Name = "live"
	}
	if cfg.Meta == nil {
		cfg.Meta = &result.Meta{Start: time.Now()}
	}
	s := &Server{
		cfg:      cfg,
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
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /events", s.events)
	mux.HandleFunc("POST /stop", s.stop)
	mux.HandleFunc("GET /report.html", s.reportHTML)
	mux.HandleFunc("GET /metrics", s.metricsHandler)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.snapshot()
	go s.srv.Serve(ln)
	go s.loop()
	return ln.Addr().String(), nil
}

// Observe folds a batch of results in. It takes one lock per batch and
// does not allocate once every label and error string has been seen.
func (s *Server) Observe(batch []result.Result) {
	s.mu.Lock()
	m := s.cfg.Meta
	for i := range batch {
		r := &batch[i]
		s.sum.Add(m, r)
		if r.Flags&result.Warmup == 0 || s.cfg.Summary.IncludeWarmup {
			s.points.Add(r, 0)
		}
		s.metrics.observe(r)
	}
	s.mu.Unlock()
}

// AddMarker records a phase marker (a stage, a warm-up) of the run.
func (s *Server) AddMarker(mk result.Marker) {
	s.mu.Lock()
	s.sum.AddMarker(s.cfg.Meta, mk)
	s.mu.Unlock()
}

// Report writes the HTML report of everything observed so far.
func (s *Server) Report(w io.Writer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return report.HTML(w, s.runs(), report.Options{})
}

func (s *Server) runs() []report.Run {
	return []report.Run{{Name: s.cfg.Name, Summary: s.sum, Points: s.points, Origin: s.cfg.Meta.Start}}
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
		s.snapshot()
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
			s.snapshot()
		}
	}
}

// snapshot renders the current data once for every open page.
func (s *Server) snapshot() {
	s.mu.Lock()
	js, err := report.HTMLData(s.runs(), report.Options{})
	s.mu.Unlock()
	if err != nil {
		return
	}
	s.snapMu.Lock()
	s.snap = js
	close(s.changed)
	s.changed = make(chan struct{})
	s.snapMu.Unlock()
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = report.LivePage(w, "surge live: "+s.cfg.Name)
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
