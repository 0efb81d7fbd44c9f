// Package result defines the record surge keeps for every request and the
// results file (.srg) that streams those records to disk.
//
// A results file is a header (magic, format version, run metadata as JSON)
// followed by self-contained blocks of compactly encoded records, each with
// its own CRC-32C, and an end-of-run record written when the writer closes
// the file. Blocks never refer to one another, so a truncated copy loses at
// most its last partial block, a corrupt block is skipped, not fatal, and a
// damaged header loses the run's metadata but none of its results. A run
// without its end-of-run record was cut short (the writer was killed or is
// still running), and readers say so. Files may be concatenated: a header
// where a block is expected starts a new run.
package result

import (
	"slices"
	"strings"
	"time"
)

// Flags mark special results.
type Flags uint8

const (
	// NotSent marks a request that was due but never went out: the in-flight
	// cap held it until the run ended, or a local resource of the generator
	// (a file descriptor, a port) was missing to open its connection, and
	// then Error says which (class ClassLocal). Its Latency is zero and it
	// counts as failed.
	NotSent Flags = 1 << iota
	// Warmup marks a request made during a warm-up phase; reports exclude it
	// by default.
	Warmup
	// Resent marks a request that went out twice: a reused keep-alive
	// connection failed before the first byte of the response, and the
	// request, being idempotent, was sent once more on another connection.
	// The server may have seen both; the result is the second one's.
	Resent
)

// Result is the record of one request. All offsets are measured on the
// monotonic clock from the run's start (Meta.Start).
type Result struct {
	// Seq numbers requests in the order they were scheduled, from 0.
	Seq uint64
	// Label names the target or step; it is the row of per-label reports.
	Label string
	// Intended is when the schedule wanted the request sent.
	Intended time.Duration
	// Sent is when it actually went out. Sent − Intended is the send lag,
	// time spent queueing inside the generator.
	Sent time.Duration
	// Latency is completion − Intended: the response time a user of an
	// open system sees, including send lag (coordinated omission
	// corrected). Service time is Latency − SendLag.
	Latency time.Duration
	// Status is the HTTP status code, 0 when no response arrived.
	Status uint16
	// BytesIn and BytesOut count body bytes received and sent.
	BytesIn  int64
	BytesOut int64
	// Error is empty on success of the exchange; otherwise a short message.
	// A 5xx with no transport error has an empty Error.
	Error string
	// Worker is the id of the worker or shard that made the request.
	Worker uint32
	Flags  Flags
	// Optional phase timings, zero when not measured: DNS lookup, TCP
	// connect, TLS handshake (new connections only) and time from Sent to
	// the first response byte.
	DNS, Connect, TLS, FirstByte time.Duration
}

// SendLag returns how late the request went out, Sent − Intended.
func (r *Result) SendLag() time.Duration { return r.Sent - r.Intended }

// End returns the completion offset, Intended + Latency.
func (r *Result) End() time.Duration { return r.Intended + r.Latency }

// OK reports whether the request succeeded the way vegeta counts success:
// sent, no error, and a status in [200, 400).
func (r *Result) OK() bool {
	return r.Flags&NotSent == 0 && r.Error == "" && r.Status >= 200 && r.Status < 400
}

// Meta is the run metadata stored in a results file's header.
type Meta struct {
	// Version of the results file format; set by the Writer.
	Version int `json:"version"`
	// ID identifies the run (random, unique per run).
	ID string `json:"id,omitempty"`
	// Start is the wall-clock time of offset 0. Only labels the run.
	Start time.Time `json:"start"`
	// Command is the command line, with secrets redacted.
	Command []string `json:"command,omitempty"`
	Host    string   `json:"host,omitempty"`
	// Targets describes the requests, "METHOD URL" each, secrets redacted.
	Targets []string `json:"targets,omitempty"`
	// Checks names the run's checks and extractions (a scenario's), so
	// that check_failures can count their errors when the file is read.
	// Files written before the field existed keep them only in Attrs, and
	// writers keep them there too for older readers; read them with
	// CheckNames.
	Checks []string `json:"checks,omitempty"`
	// Profile describes the schedule, e.g. "rate 100/1s for 10s".
	Profile string `json:"profile,omitempty"`
	// Rate is the requested open-model rate in requests per second; 0 means
	// as fast as possible (closed loop).
	Rate        float64       `json:"rate,omitempty"`
	Duration    time.Duration `json:"duration,omitempty"`
	Count       uint64        `json:"count,omitempty"`
	Connections int           `json:"connections,omitempty"`
	Timeout     time.Duration `json:"timeout,omitempty"`
	// Shard is the worker index of a distributed run.
	Shard int `json:"shard,omitempty"`
	// Attrs carries anything else worth keeping with the run.
	Attrs map[string]string `json:"attrs,omitempty"`
	// EndRecord is true when the writer ends the run with an end-of-run
	// record (every Writer does; files of older ones have none), so a
	// reader that finds none knows the run was cut short. Set by the Writer.
	EndRecord bool `json:"end_record,omitempty"`
}

// AttrChecks is the Attrs key under which files written before Meta.Checks
// existed list the run's check names, one a line.
const AttrChecks = "checks"

// CheckNames returns the names of the run's checks: Checks, and those
// listed in Attrs[AttrChecks] (by files written before that field, and
// beside it since), each once.
func (m *Meta) CheckNames() []string {
	names := slices.Clone(m.Checks)
	if old := m.Attrs[AttrChecks]; old != "" {
		for _, n := range strings.Split(old, "\n") {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return names
}
