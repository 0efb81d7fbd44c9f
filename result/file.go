package result

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"time"
)

// Version is the results file format version this package writes.
const Version = 1

// magic starts every results file. Like PNG's, it catches text-mode
// transfers (CR/LF translation) and is not valid UTF-8.
const magic = "\x89SRG\r\n\x1a\n"

// blockSync starts every block, so a reader can find the next block after a
// corrupt one.
const blockSync = "SRGB"

// Block kinds. Readers skip kinds they do not know, so a new kind needs no
// new format version.
const (
	kindResults byte = 1
	// kindEnd is the end-of-run record, the last block of a run, written by
	// Close: its payload is the number of results and of results blocks
	// written (uvarints). A run without it was cut short. Readers older
	// than it skip it; Meta.EndRecord tells newer ones to expect it.
	kindEnd byte = 3
)

const (
	maxBlockRecords = 4096
	maxBlockBytes   = 64 << 10
	// maxPayload bounds what a reader will believe a block's length to be.
	maxPayload = 16 << 20
	maxMeta    = 16 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

var (
	// ErrNotResults means the input does not start with a results file header.
	ErrNotResults = errors.New("not a surge results file")
	// ErrTruncated means the input ended inside a block; every whole block
	// before it was read.
	ErrTruncated = errors.New("results file is truncated")
	// ErrCorrupt means a block failed its checksum and was skipped.
	ErrCorrupt = errors.New("corrupt block skipped")
	// ErrHeader means a run header was damaged. Its results are read all
	// the same; the error says whether its metadata was lost.
	ErrHeader = errors.New("damaged run header")
	// ErrClosed is returned by a Writer's methods after Close.
	ErrClosed = errors.New("results writer is closed")
)

// OffsetError locates a problem in a results file.
type OffsetError struct {
	Offset int64 // byte offset from the start of the input
	Err    error
}

func (e *OffsetError) Error() string { return fmt.Sprintf("at byte %d: %v", e.Offset, e.Err) }
func (e *OffsetError) Unwrap() error { return e.Err }

// Record header flags, one byte per record. Fields that repeat the previous
// record's value are left out; most records carry only three varints.
const (
	fSeq      = 1 << iota // seq is not previous+1: zigzag delta follows
	fStatus               // status differs: uvarint
	fLabel                // label differs: uvarint string index
	fError                // error present: uvarint string index
	fBytesIn              // bytes in differ: uvarint
	fBytesOut             // bytes out differ: uvarint
	fPhases               // phase mask byte and one uvarint per set bit
	fExt                  // extension byte: Flags, then worker if flagged
)

const extWorker = 0x80 // in the extension byte: worker differs, uvarint follows

// state is the previous record's values, the base of delta encoding. It is
// reset at every block so blocks decode on their own.
type state struct {
	seq      uint64
	intended time.Duration
	status   uint16
	label    string
	bytesIn  int64
	bytesOut int64
	worker   uint32
}

func (s *state) reset() { *s = state{seq: math.MaxUint64} }

// Writer encodes results to a results file. It buffers up to a block of
// records; call Flush to make them durable and Close at the end. A Writer
// is not safe for concurrent use.
type Writer struct {
	w       io.Writer
	recs    []byte // encoded records of the current block
	n       int    // records in the current block
	strs    map[string]uint64
	strList []string
	prev    state
	out     []byte
	err     error
	// first is the first error of Add, AddBatch, AddMarker or AddScrape,
	// for Err.
	first error
	// records and blocks count what was written, for the end-of-run record.
	records uint64
	blocks  uint64
	sig     signalWriter
}

// NewWriter writes the header for m to w and returns a Writer for the
// run's results. m.Version is set to Version and m.EndRecord to true.
func NewWriter(w io.Writer, m *Meta) (*Writer, error) {
	m.Version = Version
	m.EndRecord = true
	js, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode run metadata: %w", err)
	}
	h := binary.AppendUvarint([]byte(magic), Version)
	h = binary.AppendUvarint(h, uint64(len(js)))
	h = append(h, js...)
	h = binary.LittleEndian.AppendUint32(h, crc32.Checksum(js, crcTable))
	if _, err := w.Write(h); err != nil {
		return nil, fmt.Errorf("write results header: %w", err)
	}
	wr := &Writer{w: w, strs: make(map[string]uint64), recs: make([]byte, 0, maxBlockBytes+256)}
	wr.prev.reset()
	return wr, nil
}

// Write appends r to the current block, writing the block out when full.
func (w *Writer) Write(r *Result) error {
	if w.err != nil {
		return w.err
	}
	p := &w.prev
	var f byte
	at := len(w.recs)
	b := append(w.recs, 0) // flag byte, filled in below
	if r.Seq != p.seq+1 {
		f |= fSeq
		b = binary.AppendVarint(b, int64(r.Seq-(p.seq+1)))
	}
	if r.Status != p.status {
		f |= fStatus
		b = binary.AppendUvarint(b, uint64(r.Status))
	}
	if r.Label != p.label {
		f |= fLabel
		b = binary.AppendUvarint(b, w.intern(r.Label))
		p.label = r.Label
	}
	if r.Error != "" {
		f |= fError
		b = binary.AppendUvarint(b, w.intern(r.Error))
	}
	if r.BytesIn != p.bytesIn {
		f |= fBytesIn
		b = binary.AppendUvarint(b, uint64(r.BytesIn))
	}
	if r.BytesOut != p.bytesOut {
		f |= fBytesOut
		b = binary.AppendUvarint(b, uint64(r.BytesOut))
	}
	if r.DNS|r.Connect|r.TLS|r.FirstByte != 0 {
		f |= fPhases
		var mask byte
		for i, d := range [4]time.Duration{r.DNS, r.Connect, r.TLS, r.FirstByte} {
			if d != 0 {
				mask |= 1 << i
			}
		}
		b = append(b, mask)
		for _, d := range [4]time.Duration{r.DNS, r.Connect, r.TLS, r.FirstByte} {
			if d != 0 {
				b = binary.AppendVarint(b, int64(d))
			}
		}
	}
	if r.Flags != 0 || r.Worker != p.worker {
		f |= fExt
		ext := byte(r.Flags) &^ extWorker
		if r.Worker != p.worker {
			ext |= extWorker
		}
		b = append(b, ext)
		if ext&extWorker != 0 {
			b = binary.AppendUvarint(b, uint64(r.Worker))
		}
	}
	b = binary.AppendVarint(b, int64(r.Intended-p.intended))
	b = binary.AppendVarint(b, int64(r.Sent-r.Intended))
	b = binary.AppendVarint(b, int64(r.Latency))
	b[at] = f
	w.recs = b
	p.seq, p.intended, p.status = r.Seq, r.Intended, r.Status
	p.bytesIn, p.bytesOut, p.worker = r.BytesIn, r.BytesOut, r.Worker
	w.n++
	if w.n >= maxBlockRecords || len(w.recs) >= maxBlockBytes {
		return w.Flush()
	}
	return nil
}

// Add implements Consumer: it writes r like Write, keeping the first
// error for Err. m is ignored: a Writer holds the run of its header.
func (w *Writer) Add(_ *Meta, r *Result) {
	if err := w.Write(r); err != nil && w.first == nil {
		w.first = err
	}
}

// AddBatch implements BatchConsumer: it writes the results of b in order,
// stopping at the first error, which it keeps for Err.
func (w *Writer) AddBatch(_ *Meta, b []Result) {
	for i := range b {
		if err := w.Write(&b[i]); err != nil {
			if w.first == nil {
				w.first = err
			}
			return
		}
	}
}

// AddMarker implements Consumer: it writes mk like WriteMarker, keeping
// the first error for Err.
func (w *Writer) AddMarker(_ *Meta, mk Marker) {
	if err := w.WriteMarker(&mk); err != nil && w.first == nil {
		w.first = err
	}
}

// Err returns the first error of Add, AddBatch, AddMarker or AddScrape: a run that
// writes through the Consumer methods checks it to stop on a failed write.
func (w *Writer) Err() error { return w.first }

// intern returns the block-local index of s; 0 is the empty string.
func (w *Writer) intern(s string) uint64 {
	if s == "" {
		return 0
	}
	if i, ok := w.strs[s]; ok {
		return i
	}
	w.strList = append(w.strList, s)
	i := uint64(len(w.strList))
	w.strs[s] = i
	return i
}

// Flush writes the current block, if it holds any record.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.n == 0 {
		return nil
	}
	// Payload: string table, then records.
	o := append(w.out[:0], blockSync...)
	o = append(o, kindResults)
	o = binary.AppendUvarint(o, uint64(w.n))
	tbl := binary.AppendUvarint(nil, uint64(len(w.strList)))
	for _, s := range w.strList {
		tbl = binary.AppendUvarint(tbl, uint64(len(s)))
		tbl = append(tbl, s...)
	}
	o = binary.AppendUvarint(o, uint64(len(tbl)+len(w.recs)))
	o = append(o, tbl...)
	o = append(o, w.recs...)
	o = binary.LittleEndian.AppendUint32(o, crc32.Checksum(o[len(blockSync):], crcTable))
	w.out = o
	if _, err := w.w.Write(o); err != nil {
		w.err = fmt.Errorf("write results block: %w", err)
		return w.err
	}
	w.records += uint64(w.n)
	w.blocks++
	w.recs = w.recs[:0]
	w.n = 0
	clear(w.strs)
	w.strList = w.strList[:0]
	w.prev.reset()
	return nil
}

// Close flushes the last block and ends the run with its end-of-run record,
// by which readers know the run was not cut short. It does not close the
// underlying writer. Later calls of Close return nil; other methods return
// ErrClosed.
func (w *Writer) Close() error {
	if w.err == ErrClosed {
		return nil
	}
	if err := w.Flush(); err != nil {
		return err
	}
	o := append(w.out[:0], blockSync...)
	o = append(o, kindEnd)
	o = binary.AppendUvarint(o, 1)
	body := binary.AppendUvarint(nil, w.records)
	body = binary.AppendUvarint(body, w.blocks)
	o = binary.AppendUvarint(o, uint64(len(body)))
	o = append(o, body...)
	o = binary.LittleEndian.AppendUint32(o, crc32.Checksum(o[len(blockSync):], crcTable))
	w.out = o
	if _, err := w.w.Write(o); err != nil {
		w.err = fmt.Errorf("write end-of-run record: %w", err)
		return w.err
	}
	w.err = ErrClosed
	return nil
}
