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
	// Worker is stored in every result (the shard of a distributed run).
	Worker uint32
	// Client, if set, sends the requests; else Transport builds the
	// client.
	Client Client
	// Transport builds the client when Client is nil, and configures the
	// protocol: an HTTPConfig (the default, its zero value net/http with
	// defaults), or another protocol's. Its options are its own, not
	// Config's.
	Transport Transport

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
//
// Its shape is HTTP's: a target.Target is a method, URL, header and body.
// A transport of another protocol implements Do for one exchange of it: it
// reads from t what its protocol needs (the URL names the endpoint, the
// body is the message, the method may name an operation), and fills
// r.Status with its outcome on HTTP's scale (2xx success, for reports
// and checks), BytesIn and BytesOut, Error (with a result class prefix)
// and the phase timings it knows. The engine fills the rest: sequence,
// label, times and flags (recorder.go).
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
