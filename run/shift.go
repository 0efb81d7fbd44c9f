package run

import (
	"time"

	"github.com/surge-dev/surge/result"
)

// Shifted returns a Consumer that hands c copies of the stream moved onto
// a later time line: sequence numbers raised by seq, offsets (a result's
// intended and send times, a marker's and a server-signal reading's At)
// by at. Runs written one after
// another to one file (capacity trials) use it to share one time line.
// c's Err method, if any, is kept.
func Shifted(c result.Consumer, seq uint64, at time.Duration) result.Consumer {
	return &shifted{c: c, seq: seq, at: at}
}

type shifted struct {
	c   result.Consumer
	seq uint64
	at  time.Duration
	buf []result.Result
}

func (s *shifted) Add(m *result.Meta, r *result.Result) {
	c := *r
	c.Seq += s.seq
	c.Intended += s.at
	c.Sent += s.at
	s.c.Add(m, &c)
}

func (s *shifted) AddBatch(m *result.Meta, b []result.Result) {
	s.buf = append(s.buf[:0], b...)
	for i := range s.buf {
		r := &s.buf[i]
		r.Seq += s.seq
		r.Intended += s.at
		r.Sent += s.at
	}
	result.AddBatch(s.c, m, s.buf)
}

func (s *shifted) AddMarker(m *result.Meta, mk result.Marker) {
	mk.At += s.at
	s.c.AddMarker(m, mk)
}

func (s *shifted) AddScrape(m *result.Meta, sc *result.Scrape) {
	c := *sc
	c.At += s.at
	result.AddScrape(s.c, m, &c)
}

func (s *shifted) Err() error {
	if f, ok := s.c.(interface{ Err() error }); ok {
		return f.Err()
	}
	return nil
}
