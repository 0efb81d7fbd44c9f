package attack

import (
	"cmp"
	"time"
)

// A Transport builds the Client of an attack from the attack's Config
// (its Targets, Timeout and in-flight cap Connections, defaults applied)
// and from its own options. HTTPConfig is surge's HTTP transport; another
// protocol (WebSocket, gRPC) is a new Transport with its own Client, Conn
// and options, not new Config fields.
type Transport interface {
	NewClient(cfg Config) (Client, error)
}

// HTTPConfig configures surge's HTTP transports: HTTPClient (net/http),
// and FastClient with its event loops. The zero value of every field
// means its default. As a Transport it builds an HTTPClient; callers that
// want the fast client build it with NewFastClient and set Config.Client.
type HTTPConfig struct {
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
	// with one goroutine per connection instead of its event loops (Linux
	// only), which record the same results at a lower CPU cost per request.
	NoEventLoop bool
}

var _ Transport = HTTPConfig{}

// NewClient returns an HTTPClient for cfg.
func (h HTTPConfig) NewClient(cfg Config) (Client, error) { return NewHTTPClient(cfg) }

// httpConfig returns the HTTPConfig of cfg, with defaults applied: its
// Transport's, or the zero value's when that is not an HTTPConfig.
func httpConfig(cfg *Config) HTTPConfig {
	h, _ := cfg.Transport.(HTTPConfig)
	h.TickWindow = cmp.Or(h.TickWindow, DefaultTickWindow)
	h.Redirects = cmp.Or(h.Redirects, DefaultRedirects)
	return h
}

// timeout returns cfg's Timeout, or its default.
func timeout(cfg *Config) time.Duration {
	if cfg.Timeout <= 0 {
		return DefaultTimeout
	}
	return cfg.Timeout
}

// loopOptions are the HTTPConfig options of FastClient's event loops.
type loopOptions struct {
	loops      int           // HTTPConfig.Loops
	tickWindow time.Duration // HTTPConfig.TickWindow, default applied
	off        bool          // HTTPConfig.NoEventLoop
}

// An engineClient is a Client that runs attacks of targets on an engine of
// its own instead of the engine's goroutine per connection: FastClient and
// its event loops. startEngine starts it on rs with at most conns requests
// in flight, or returns why it will not (then Run uses goroutines).
type engineClient interface {
	Client
	startEngine(rs *runState, conns int) error
}

var _ engineClient = (*FastClient)(nil)

// startEngine starts the event loops, unless HTTPConfig.NoEventLoop.
func (c *FastClient) startEngine(rs *runState, conns int) error {
	if c.loop.off {
		return errLoopOff
	}
	return startLoops(rs, c, conns)
}

// errLoopOff says HTTPConfig.NoEventLoop was set.
const errLoopOff fastError = "event loop: off (NoEventLoop)"
