package signals

import (
	"fmt"
	"math"

	"github.com/surge-dev/surge/result"
)

// table is what one source's readings have seen: each series by its key
// (name and labels in text form), its ID and its last value, against which
// the next reading is told apart into new series and changed values.
type table struct {
	source string
	max    int
	byKey  map[string]*entry
	gen    uint64

	// Of the reading under way: what it read, the series it saw first
	// (in order; their IDs are assigned on delivery), and the series it
	// left out over max.
	got     []observed
	fresh   []*entry
	pending map[string]*entry
	over    int
	overKey string

	// Reused by commit for the delivered Scrape.
	values []result.SignalValue
	news   []result.Series

	noted bool   // the note on series left out was made
	msg   string // a note to hand on with the reading
}

type entry struct {
	id      uint32
	kind    string
	nameLen int
	key     string
	last    float64
	gen     uint64 // the reading that last saw it
	isNew   bool
}

type observed struct {
	e *entry
	v float64
}

func newTable(source string, max int) *table {
	return &table{source: source, max: max, byKey: map[string]*entry{}, pending: map[string]*entry{}}
}

// begin starts a reading.
func (t *table) begin() {
	t.gen++
	t.got = t.got[:0]
	t.over, t.overKey = 0, ""
	clear(t.pending)
}

// add records a sample of the reading: key is the series' name (its first
// nameLen bytes) followed by its labels in text form. A series seen twice
// in one reading keeps its first value.
func (t *table) add(key []byte, nameLen int, kind string, v float64) {
	e, ok := t.byKey[string(key)]
	if !ok {
		e, ok = t.pending[string(key)]
	}
	if !ok {
		if len(t.byKey)+len(t.pending) >= t.max {
			if t.over == 0 {
				t.overKey = string(key)
			}
			t.over++
			return
		}
		k := string(key)
		e = &entry{kind: kind, nameLen: nameLen, key: k, isNew: true}
		t.pending[k] = e
	}
	if e.gen == t.gen {
		return
	}
	e.gen = t.gen
	t.got = append(t.got, observed{e, v})
}

// abort drops the reading under way: a failed reading changes nothing.
func (t *table) abort() {
	t.got = t.got[:0]
	clear(t.pending)
	t.fresh = t.fresh[:0]
}

// commit ends the reading: the series first seen go into s.New (their
// entries into t.fresh, in the same order, for their IDs), the values
// that changed into s.Values.
func (t *table) commit(s *result.Scrape) {
	t.values, t.news, t.fresh = t.values[:0], t.news[:0], t.fresh[:0]
	for _, o := range t.got {
		e := o.e
		if e.isNew {
			e.isNew = false
			e.last = o.v
			t.byKey[e.key] = e
			t.fresh = append(t.fresh, e)
			t.news = append(t.news, result.Series{Source: t.source, Name: e.key[:e.nameLen], Labels: e.key[e.nameLen:], Kind: e.kind, Initial: o.v})
			continue
		}
		if v, ok := change(e.kind, e.last, o.v); ok {
			t.values = append(t.values, result.SignalValue{ID: e.id, V: v})
		}
		e.last = o.v
	}
	clear(t.pending)
	s.New, s.Values = t.news, t.values
	if t.over > 0 && !t.noted {
		t.noted = true
		t.msg = fmt.Sprintf("%s: %d series over the bound of %d left out, such as %s; the bound keeps memory flat", t.source, t.over, t.max, t.overKey)
	}
}

// note returns, once, the note a reading left to hand on.
func (t *table) note() string {
	m := t.msg
	t.msg = ""
	return m
}

// change returns what a series' reading v says after last, and false
// when it says nothing new: a gauge's new value when it moved; a
// counter's increase, or after a reset (a fall) its new total, when that
// is not zero.
func change(kind string, last, v float64) (float64, bool) {
	if kind == result.SignalCounter {
		switch {
		case v > last:
			return v - last, true
		case v < last && v != 0:
			return v, true
		}
		return 0, false
	}
	return v, math.Float64bits(v) != math.Float64bits(last)
}
