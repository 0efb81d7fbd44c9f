package result

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"time"
)

// kindSignals blocks hold server-signal readings (Scrape), one per block.
// Older readers skip the kind, so files with signals need no new version.
//
// A block is self-contained, like a results block: it names the strings
// it uses itself, so any block decodes without the ones before it. Its
// payload, after the block header (whose count is the number of readings,
// 1 as written), is for each reading:
//
//	varint  At (ns)         uvarint Took (ns)
//	string  Source          string  Err
//	uvarint names; names × string            (metric names of New)
//	uvarint new;   new × series
//	uvarint values; values × value
//
// where a string is a uvarint length and its bytes, a series is
//
//	uvarint ID−previous ID (in New order, from 0)
//	uvarint name index     string labels     byte kind (0 gauge, 1 counter)
//	value   Initial
//
// and a value of Values is a uvarint (ID−previous ID)<<2 | encoding, in
// ID order from 0, followed by the number. Encodings: 0, an integral
// number of magnitude at most 2^53, as a zigzag varint (a counter's
// increase of a few requests or bytes takes one to three bytes); 1, a
// number that float32 holds exactly, 4 bytes; 2, any other float64, 8
// bytes (little endian). Initial is the same number without the ID.
// Series.Source is not stored: a series is new in a reading of its own
// source, whose Source the reader gives it.
const kindSignals byte = 4

// Value encodings of a signal block.
const (
	encInt     = 0
	encFloat32 = 1
	encFloat64 = 2
)

// maxInt is the largest magnitude written as a varint: every integer up
// to it is exact in a float64.
const maxInt = 1 << 53

// signalWriter is the Writer's scratch space for signal blocks, kept to
// write readings without allocating once warm.
type signalWriter struct {
	names   map[string]uint64
	nameTbl []string
	body    []byte
	vals    []SignalValue
	news    []byte
}

// WriteScrape writes s after every result written so far (the pending
// block is flushed first, so stream order is kept). s.Run is ignored.
// The Values of s are written, and read back, in ID order.
func (w *Writer) WriteScrape(s *Scrape) error {
	if err := w.Flush(); err != nil {
		return err
	}
	sw := &w.sig
	body, err := sw.encode(sw.body[:0], s)
	sw.body = body
	if err != nil {
		return err
	}
	if len(body) > maxPayload {
		return fmt.Errorf("encode server signals: %d bytes, over the block limit of %d", len(body), maxPayload)
	}
	o := append(w.out[:0], blockSync...)
	o = append(o, kindSignals)
	o = binary.AppendUvarint(o, 1)
	o = binary.AppendUvarint(o, uint64(len(body)))
	o = append(o, body...)
	o = binary.LittleEndian.AppendUint32(o, crc32.Checksum(o[len(blockSync):], crcTable))
	w.out = o
	if _, err := w.w.Write(o); err != nil {
		w.err = fmt.Errorf("write server-signal block: %w", err)
		return w.err
	}
	return nil
}

// AddScrape implements ScrapeConsumer: it writes s like WriteScrape,
// keeping the first error for Err.
func (w *Writer) AddScrape(_ *Meta, s *Scrape) {
	if err := w.WriteScrape(s); err != nil && w.first == nil {
		w.first = err
	}
}

var _ ScrapeConsumer = (*Writer)(nil)

// encode appends the payload of one reading to b.
func (sw *signalWriter) encode(b []byte, s *Scrape) ([]byte, error) {
	b = binary.AppendVarint(b, int64(s.At))
	b = binary.AppendUvarint(b, uint64(max(s.Took, 0)))
	b = appendString(b, s.Source)
	b = appendString(b, s.Err)
	if sw.names == nil {
		sw.names = make(map[string]uint64)
	}
	clear(sw.names)
	sw.nameTbl = sw.nameTbl[:0]
	news := sw.news[:0]
	var prev uint32
	for i := range s.New {
		se := &s.New[i]
		if se.ID < prev {
			return b, fmt.Errorf("encode server signals: series %d (%s) after series %d: new series must come in ID order", se.ID, se.Name, prev)
		}
		var kind byte
		switch se.Kind {
		case SignalGauge:
		case SignalCounter:
			kind = 1
		default:
			return b, fmt.Errorf("encode server signals: series %d (%s): kind %q, want %q or %q", se.ID, se.Name, se.Kind, SignalGauge, SignalCounter)
		}
		ni, ok := sw.names[se.Name]
		if !ok {
			ni = uint64(len(sw.nameTbl))
			sw.names[se.Name] = ni
			sw.nameTbl = append(sw.nameTbl, se.Name)
		}
		news = binary.AppendUvarint(news, uint64(se.ID-prev))
		prev = se.ID
		news = binary.AppendUvarint(news, ni)
		news = appendString(news, se.Labels)
		news = append(news, kind)
		news = appendNumber(news, 0, se.Initial)
	}
	sw.news = news
	b = binary.AppendUvarint(b, uint64(len(sw.nameTbl)))
	for _, n := range sw.nameTbl {
		b = appendString(b, n)
	}
	b = binary.AppendUvarint(b, uint64(len(s.New)))
	b = append(b, news...)

	vals := s.Values
	if !slices.IsSortedFunc(vals, cmpID) {
		sw.vals = append(sw.vals[:0], vals...)
		slices.SortStableFunc(sw.vals, cmpID)
		vals = sw.vals
	}
	b = binary.AppendUvarint(b, uint64(len(vals)))
	prev = 0
	for _, v := range vals {
		b = appendNumber(b, uint64(v.ID-prev), v.V)
		prev = v.ID
	}
	return b, nil
}

func cmpID(a, b SignalValue) int {
	switch {
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendNumber appends the uvarint tag<<2 | encoding and v in that
// encoding.
func appendNumber(b []byte, tag uint64, v float64) []byte {
	switch {
	case v == math.Trunc(v) && math.Abs(v) <= maxInt && !(v == 0 && math.Signbit(v)):
		b = binary.AppendUvarint(b, tag<<2|encInt)
		return binary.AppendVarint(b, int64(v))
	case float64(float32(v)) == v:
		b = binary.AppendUvarint(b, tag<<2|encFloat32)
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v)))
	default:
		// NaN lands here too: a NaN is never equal to itself.
		b = binary.AppendUvarint(b, tag<<2|encFloat64)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
}

// signalReader is the Reader's space for decoding signal blocks; the
// Scrapes handed to Reader.Scrape reuse it.
type signalReader struct {
	ss    []Scrape
	names []string
}

// errSignal is a signal block whose checksum passed but whose payload
// does not decode.
var errSignal = errors.New("server-signal block does not decode")

// sigDec reads the fields of a signal block; the first failure empties b
// and sets bad.
type sigDec struct {
	b   []byte
	bad bool
}

func (d *sigDec) fail() {
	d.b, d.bad = nil, true
}

func (d *sigDec) uv() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *sigDec) sv() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *sigDec) str() string {
	l := d.uv()
	if l > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:l])
	d.b = d.b[l:]
	return s
}

// count reads a count of items that each take at least size bytes, and
// fails when the rest of the block cannot hold them, so that a damaged
// count never makes the reader allocate more than the block's size.
func (d *sigDec) count(size int) int {
	n := d.uv()
	if n > uint64(len(d.b)/size) {
		d.fail()
		return 0
	}
	return int(n)
}

// number reads a tagged number; it returns the tag and the value.
func (d *sigDec) number() (uint64, float64) {
	t := d.uv()
	switch t & 3 {
	case encInt:
		return t >> 2, float64(d.sv())
	case encFloat32:
		if len(d.b) < 4 {
			d.fail()
			return 0, 0
		}
		v := math.Float32frombits(binary.LittleEndian.Uint32(d.b))
		d.b = d.b[4:]
		return t >> 2, float64(v)
	case encFloat64:
		if len(d.b) < 8 {
			d.fail()
			return 0, 0
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
		d.b = d.b[8:]
		return t >> 2, v
	}
	d.fail()
	return 0, 0
}

// id adds a delta to an ID, failing when the sum leaves uint32.
func (d *sigDec) id(prev uint32, delta uint64) uint32 {
	if delta > math.MaxUint32-uint64(prev) {
		d.fail()
		return 0
	}
	return prev + uint32(delta)
}

// decode reads one reading from d into s, reusing its slices.
func (sr *signalReader) decode(d *sigDec, s *Scrape) error {
	news, vals := s.New[:0], s.Values[:0]
	*s = Scrape{}
	s.At = time.Duration(d.sv())
	took := d.uv()
	if took > math.MaxInt64 {
		d.fail()
	}
	s.Took = time.Duration(took)
	s.Source = d.str()
	s.Err = d.str()
	sr.names = sr.names[:0]
	for range d.count(1) {
		sr.names = append(sr.names, d.str())
	}
	var prev uint32
	for range d.count(5) {
		var se Series
		se.ID = d.id(prev, d.uv())
		prev = se.ID
		ni := d.uv()
		if ni >= uint64(len(sr.names)) {
			d.fail()
			break
		}
		se.Name = sr.names[ni]
		se.Labels = d.str()
		if len(d.b) == 0 || d.b[0] > 1 {
			d.fail()
			break
		}
		se.Kind = SignalGauge
		if d.b[0] == 1 {
			se.Kind = SignalCounter
		}
		d.b = d.b[1:]
		var tag uint64
		tag, se.Initial = d.number()
		if tag != 0 {
			d.fail()
		}
		se.Source = s.Source
		news = append(news, se)
	}
	prev = 0
	for range d.count(2) {
		delta, v := d.number()
		id := d.id(prev, delta)
		prev = id
		vals = append(vals, SignalValue{ID: id, V: v})
	}
	if d.bad {
		return errSignal
	}
	if len(news) > 0 {
		s.New = news
	}
	if len(vals) > 0 {
		s.Values = vals
	}
	return nil
}

// addScrapes decodes the readings of a signal block and hands each to
// r.Scrape. The whole block is decoded first: a block that does not
// decode is skipped with a warning, and none of its readings is handed on.
func (r *Reader) addScrapes(off int64, payload []byte, cnt uint64) {
	if r.Scrape == nil {
		return
	}
	if cnt == 0 || cnt > uint64(len(payload)) {
		r.corrupt(off, fmt.Sprintf("%v: %d readings in %d bytes", errSignal, cnt, len(payload)))
		return
	}
	sr := &r.sig
	d := sigDec{b: payload}
	// sr.ss grows as readings decode, not to cnt at once: a damaged count
	// then costs what the block holds.
	for i := range int(cnt) {
		if i == len(sr.ss) {
			sr.ss = append(sr.ss, Scrape{})
		}
		if err := sr.decode(&d, &sr.ss[i]); err != nil {
			r.corrupt(off, fmt.Sprintf("%v (reading %d)", err, i+1))
			return
		}
	}
	if len(d.b) != 0 {
		r.corrupt(off, fmt.Sprintf("%v: %d bytes after its readings", errSignal, len(d.b)))
		return
	}
	for i := range sr.ss[:cnt] {
		sr.ss[i].Run = len(r.metas) - 1
		r.Scrape(&sr.ss[i])
	}
}
