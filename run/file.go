package run

import (
	"io"
	"time"

	"github.com/surge-dev/surge/result"
)

// FlushEvery bounds how long results sit in memory before reaching the
// results file, so a crash loses at most this much. The first flush comes
// after FirstFlush and the interval doubles up to FlushEvery, so that a
// run killed in its first second still leaves results on disk.
const (
	FlushEvery = time.Second
	FirstFlush = 100 * time.Millisecond
)

// file is a run's results file as a Consumer: a result.Writer that also
// flushes, after a batch, when the flush interval has passed.
type file struct {
	w     *result.Writer
	last  time.Time
	every time.Duration
	err   error // of a flush
}

// newFile writes the header m to out and returns the file of the run.
func newFile(out io.Writer, m *result.Meta) (*file, error) {
	w, err := result.NewWriter(out, m)
	if err != nil {
		return nil, err
	}
	return &file{w: w, last: time.Now(), every: FirstFlush}, nil
}

// Add implements result.Consumer.
func (f *file) Add(m *result.Meta, r *result.Result) { f.w.Add(m, r) }

// AddMarker implements result.Consumer.
func (f *file) AddMarker(m *result.Meta, mk result.Marker) { f.w.AddMarker(m, mk) }

// AddScrape implements result.ScrapeConsumer: the reading goes into the
// file when its writer takes server signals.
func (f *file) AddScrape(m *result.Meta, s *result.Scrape) { result.AddScrape(f.w, m, s) }

// AddBatch implements result.BatchConsumer: it writes b, then flushes if
// the interval has passed.
func (f *file) AddBatch(m *result.Meta, b []result.Result) {
	f.w.AddBatch(m, b)
	if time.Since(f.last) > f.every {
		f.last, f.every = time.Now(), min(2*f.every, FlushEvery)
		if err := f.w.Flush(); err != nil && f.err == nil {
			f.err = err
		}
	}
}

// Err returns the first error of a write or a flush.
func (f *file) Err() error {
	if err := f.w.Err(); err != nil {
		return err
	}
	return f.err
}

var (
	_ result.BatchConsumer  = (*file)(nil)
	_ result.ScrapeConsumer = (*file)(nil)
)
