package attack

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/target"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultTimeout         = 30 * time.Second
	DefaultOpenConnections = 10000
	DefaultMaxConnections  = 50
	DefaultRedirects       = 10
	// DefaultGrace is how long a stopped run waits for in-flight requests
	// before cancelling them.
	DefaultGrace = 5 * time.Second
	// DefaultTickWindow batches the ticks of open-model rates from
	// 5,000/s per loop up: at most 200µs of send lag, for half the
	// wake-ups or fewer.
	DefaultTickWindow = 200 * time.Microsecond
)

// Config describes an attack. The zero value of every field means its
// default.
type Config struct {
	// Targets are sent round-robin. At least one is required.
	Targets []target.Target
	// Labels, if set, names each target (same length as Targets); results
	// carry the label of their target.
	Labels []string
	// Rate is the open-model request rate; the zero Rate means as fast as
	// the in-flight cap allows.
	Rate schedule.Rate
	// Pacer, if set, replaces Rate with another open-model schedule.
	Pacer schedule.Pacer
	// Duration bounds the run; 0 = until Count requests or the context ends.
	Duration time.Duration
	// Count bounds the number of requests; 0 = no bound.
	Count uint64
	// Connections caps requests in flight (and so connections): default
	// DefaultOpenConnections for a rate, DefaultMaxConnections at max rate.
	Connections int
	// Timeout bounds each request; default DefaultTimeout.
	Timeout time.Duration
	// Grace bounds the wait for in-flight requests after a stop; default
	// DefaultGrace.
	Grace time.Duration
	// NoKeepAlive opens a new connection for every request.
	NoKeepAlive bool
	// HTTP2 allows HTTP/2 over TLS; H2C speaks HTTP/2 over cleartext
	// (prior knowledge).
	HTTP2, H2C bool
	// Insecure skips TLS certificate verification.
	Insecure bool
	// Redirects is the number of redirects to follow; default
	// DefaultRedirects, negative = follow none (the 3xx is the result).
	Redirects int
	// Worker is stored in every result (the shard of a distributed run).
	Worker uint32
	// Client, if set, sends the requests instead of surge's own clients.
	Client Client
	// TickWindow lets an event loop wake once for the ticks due within
	// this span of the first, and send them together when the last is
	// due: fewer wake-ups, each tick at most TickWindow late (recorded
	// as send lag). 0 means DefaultTickWindow; negative, a wake-up for
	// every tick.
	TickWindow time.Duration
	// Loops is the number of event loops (threads) that share the
	// connections; 0 means half of GOMAXPROCS. More loops answer
	// responses sooner, for more CPU per request.
	Loops int
	// NoEventLoop runs an attack of targets (not a Flow) on a FastClient
	// with one goroutine per connection instead of the event loops (Linux
	// only), which record the same results at a lower CPU cost per request.
	NoEventLoop bool

	// Flow, if set, replaces Targets as the source of requests: every
	// open-model tick starts one iteration of it, and every closed-model
	// user runs iterations back to back. Its results carry the virtual
	// user's (or open-model worker's) id as Worker, not Config.Worker.
	// At max rate (no Rate, Pacer or Users), Connections users run.
	Flow Flow
	// Users, if set, selects the closed model: a staircase of user counts
	// (steps in time order). Each user loops iterations of Flow (or of
	// Targets, one request each) and its results are measured from their
	// actual send time. Users is exclusive with Rate and Pacer.
	Users []schedule.UserStep
	// Stages name the phases of the run: each writes a stage marker when
	// it starts, and results intended during a warm-up stage are flagged
	// result.Warmup.
	Stages []schedule.Phase
	// LabelStages appends " [STAGE]" to the label of every result of a
	// stage, so per-label reports show the stages apart. It applies to
	// Targets, not to a Flow, whose steps name their results.
	LabelStages bool
	// Marker, if set, receives the run's markers: stages, warm-up, and a
	// note when a Flow ends the run (a feeder ran out). It is called from
	// the goroutine that calls Run's sink, so both may write to the same
	// result.Writer; an error stops the run as a sink error does.
	Marker func(result.Marker) error
}

// Client sends one request and fills in what it measured: Status,
// BytesIn, BytesOut, Error and phase timings. One Client is shared by all
// workers; NewConn gives each worker its own connection state.
type Client interface {
	NewConn() Conn
}

// Conn is one worker's handle on a Client; it is used by one goroutine.
type Conn interface {
	// Do sends t and fills r. It must not return before the response body
	// has been read or the exchange failed.
	Do(ctx context.Context, t *target.Target, r *result.Result)
	Close()
}

// Stats are live counters of a running attack, safe to read at any time.
// Workers publish Sent, Done, Errors and NotSent with each batch of results
// they hand on (at least every 100ms while busy), not per request: shared
// counters bumped per request cost measurable CPU at max rate. InFlight and
// Workers are exact.
type Stats struct {
	// Started is set by New, so live views may read it before and while
	// Run runs; Run starts within microseconds of it.
	Started  time.Time
	Sent     atomic.Int64 // requests that went out
	Done     atomic.Int64 // results recorded, including not sent
	Errors   atomic.Int64 // results that are not OK
	NotSent  atomic.Int64
	InFlight atomic.Int64
	Workers  atomic.Int64
}
