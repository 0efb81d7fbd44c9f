package signals

import "github.com/surge-dev/surge/result"

// Reading collects the samples of one reading of a source.
type Reading struct {
	t       *table
	key     []byte
	commits []func()
}

// onCommit has f called if the reading is kept: a source's own memory of
// the reading (Scraper's family hashes) must not outlive a failed one.
func (r *Reading) onCommit(f func()) { r.commits = append(r.commits, f) }

// Gauge adds a sample of a gauge: name and, "" or in Prometheus text form
// with names sorted ({code="200",method="get"}), its labels.
func (r *Reading) Gauge(name, labels string, v float64) {
	r.sample(name, labels, result.SignalGauge, v)
}

// Counter adds a sample of a counter, its total since it started.
func (r *Reading) Counter(name, labels string, v float64) {
	r.sample(name, labels, result.SignalCounter, v)
}

func (r *Reading) sample(name, labels, kind string, v float64) {
	r.key = append(append(r.key[:0], name...), labels...)
	r.t.add(r.key, len(name), kind, v)
}
