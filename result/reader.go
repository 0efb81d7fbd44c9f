package result

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"time"
)

// Reader decodes results from one or more concatenated results files. It
// streams: memory is bounded by one block, whatever the file's length.
//
// Problems that lose data without stopping the read — a corrupt block, a
// damaged header, a truncated tail — are passed to Warn (if set) and kept in
// Warnings, and reading continues with the next whole block. Runs says, per
// run, what was read and what was lost.
type Reader struct {
	// Warn, if set, is called with every *OffsetError wrapping ErrCorrupt,
	// ErrHeader or ErrTruncated as it happens.
	Warn func(error)
	// Scrape, if set, is called with every server-signal reading, in
	// stream order: during the Read that first passes it, after every
	// result before it has been returned. s.Run is set; s is only valid
	// during the call. Without it, signal blocks are skipped unread.
	Scrape func(s *Scrape)

	src  io.Reader
	buf  []byte // buf[r:w] is unread input
	r, w int
	eof  bool
	off  int64 // input offset of buf[r]

	metas    []Meta
	markers  []Marker
	warnings []error

	sig signalReader

	block []byte // current block's records
	left  int    // records left in block
	strs  []string
	prev  state

	// Kept after the fields decode uses, so that those stay together.
	runs       []RunRead // parallel to metas
	run        *RunRead  // &runs[len(runs)-1]
	blockStart int64     // input offset of the current block
}

// NewReader returns a Reader of the results in src.
func NewReader(src io.Reader) *Reader { return newReaderSize(src, 256<<10) }

// newReaderSize returns a Reader whose buffer starts at size bytes; it
// grows to hold a block when needed.
func newReaderSize(src io.Reader, size int) *Reader {
	return &Reader{src: src, buf: make([]byte, size)}
}

// Meta returns the header of the run whose results are being read, or nil
// before the first header has been read. A run whose header was damaged
// has an empty Meta (see RunRead.HeaderDamaged).
func (r *Reader) Meta() *Meta {
	if len(r.metas) == 0 {
		return nil
	}
	return &r.metas[len(r.metas)-1]
}

// Metas returns the headers of every run read so far, in input order.
func (r *Reader) Metas() []Meta { return r.metas }

// Runs returns what was read of every run so far, parallel to Metas. It is
// complete once Read has returned io.EOF.
func (r *Reader) Runs() []RunRead { return r.runs }

// Warnings returns the problems skipped so far.
func (r *Reader) Warnings() []error { return r.warnings }

// Truncated reports whether the input ended inside a block.
func (r *Reader) Truncated() bool {
	for _, err := range r.warnings {
		if errors.Is(err, ErrTruncated) {
			return true
		}
	}
	return false
}

// newRun starts the run of header m.
func (r *Reader) newRun(m Meta, rr RunRead) {
	r.metas = append(r.metas, m)
	r.runs = append(r.runs, rr)
	r.run = &r.runs[len(r.runs)-1]
}

// fill makes at least n bytes available in buf[r:w], unless the input ends
// first. It reports whether they are available.
func (r *Reader) fill(n int) bool {
	for r.w-r.r < n && !r.eof {
		if r.r > 0 {
			copy(r.buf, r.buf[r.r:r.w])
			r.w -= r.r
			r.r = 0
		}
		if r.w == len(r.buf) {
			// Grow by doubling, not to n at once: a damaged length
			// near the end of the input then costs what the input has.
			nb := make([]byte, min(n, 2*len(r.buf)))
			copy(nb, r.buf[:r.w])
			r.buf = nb
		}
		m, err := r.src.Read(r.buf[r.w:])
		r.w += m
		if err == io.EOF {
			r.eof = true
		} else if err != nil {
			r.eof = true
			r.warn(r.off+int64(r.w-r.r), fmt.Errorf("%w: read: %v", ErrTruncated, err))
			if r.run != nil {
				r.run.Truncated = true
			}
		}
	}
	return r.w-r.r >= n
}

func (r *Reader) skip(n int) {
	r.r += n
	r.off += int64(n)
}

// Read decodes the next result into res. It returns io.EOF at the end of
// the input, ErrNotResults (wrapped) when the input is not a results file.
func (r *Reader) Read(res *Result) error {
	for {
		for r.left == 0 {
			if err := r.nextBlock(); err != nil {
				return err
			}
		}
		r.left--
		err := r.decode(res)
		if err == nil {
			return nil
		}
		// The checksum passed, so this is a writer bug or a version skew:
		// drop the rest of the block rather than return garbage.
		r.run.Records -= int64(r.left + 1)
		r.left = 0
		r.run.Corrupt++
		if r.run.FirstCorrupt < 0 {
			r.run.FirstCorrupt = r.blockStart
		}
		r.warn(r.blockStart, fmt.Errorf("%w: %v", ErrCorrupt, err))
	}
}

// nextBlock positions the reader on the next results block.
func (r *Reader) nextBlock() error {
	for {
		r.fill(len(magic))
		head := r.buf[r.r:r.w]
		switch {
		case len(head) == 0:
			if len(r.metas) == 0 {
				return fmt.Errorf("%w: input is empty", ErrNotResults)
			}
			return io.EOF
		case bytes.HasPrefix(head, []byte(magic)):
			if err := r.readHeader(); err != nil {
				return err
			}
			continue
		case len(r.metas) == 0:
			if r.off == 0 && nearMagic(head) {
				if err := r.readHeader(); err != nil {
					return err
				}
				continue
			}
			if len(head) < len(magic) {
				return fmt.Errorf("%w: input too short", ErrNotResults)
			}
			return fmt.Errorf("%w: it does not start with the .srg magic bytes", ErrNotResults)
		case bytes.HasPrefix(head, []byte(blockSync)):
			if r.readBlock() {
				return nil
			}
			continue
		case r.eof && len(head) < len(magic) && (bytes.HasPrefix([]byte(blockSync), head) || bytes.HasPrefix([]byte(magic), head)):
			r.truncated(r.off, ErrTruncated)
			return io.EOF
		}
		start := r.off
		r.resync()
		r.corrupt(start, "")
	}
}

func (r *Reader) readHeader() error {
	start := r.off
	// magic, version, meta length: at most 8+10+10 bytes.
	r.fill(len(magic) + 2*binary.MaxVarintLen64)
	p := r.buf[r.r+len(magic) : r.w]
	ver, n1 := binary.Uvarint(p)
	if n1 <= 0 {
		return r.headerLost(start, "bad version field")
	}
	if ver != Version {
		// The version field is outside the checksum. When the header
		// reads as this version's and its checksummed metadata says so
		// too, only the field was damaged; otherwise the file is newer.
		if !r.headerIs(Version) {
			return &OffsetError{start, fmt.Errorf("results file version %d is not supported (this surge reads version %d)", ver, Version)}
		}
		n1 = len(binary.AppendUvarint(nil, Version))
		r.warn(start, fmt.Errorf("%w: its version field says %d, its checksummed metadata %d (nothing lost)", ErrHeader, ver, Version))
		p = r.buf[r.r+len(magic) : r.w] // headerIs may have moved the input
	}
	ml, n2 := binary.Uvarint(p[n1:])
	if n2 <= 0 || ml > maxMeta {
		return r.headerLost(start, "bad metadata length")
	}
	hl := len(magic) + n1 + n2
	total := hl + int(ml) + 4
	if !r.fill(total) {
		return r.headerLost(start, "header is cut short or its length is damaged")
	}
	js := r.buf[r.r+hl : r.r+hl+int(ml)]
	sum := binary.LittleEndian.Uint32(r.buf[r.r+hl+int(ml):])
	if crc32.Checksum(js, crcTable) != sum {
		return r.headerLost(start, "checksum mismatch")
	}
	var m Meta
	if err := json.Unmarshal(js, &m); err != nil {
		return r.headerLost(start, "metadata: "+err.Error())
	}
	if !bytes.HasPrefix(r.buf[r.r:], []byte(magic)) {
		r.warn(start, fmt.Errorf("%w: magic bytes (nothing lost)", ErrHeader))
	}
	r.skip(total)
	r.newRun(m, RunRead{Written: -1, FirstCorrupt: -1, End: r.off, legacy: !m.EndRecord})
	return nil
}

// headerIs reports whether the header at the reader's position is whole and
// of version v by its checksummed metadata, whatever its version field says.
func (r *Reader) headerIs(v int) bool {
	n1 := len(binary.AppendUvarint(nil, uint64(v)))
	if r.w-r.r < len(magic)+n1 {
		return false
	}
	ml, n2 := binary.Uvarint(r.buf[r.r+len(magic)+n1 : r.w])
	if n2 <= 0 || ml > maxMeta {
		return false
	}
	hl := len(magic) + n1 + n2
	if !r.fill(hl + int(ml) + 4) {
		return false
	}
	js := r.buf[r.r+hl : r.r+hl+int(ml)]
	if crc32.Checksum(js, crcTable) != binary.LittleEndian.Uint32(r.buf[r.r+hl+int(ml):]) {
		return false
	}
	var m struct {
		Version int `json:"version"`
	}
	return json.Unmarshal(js, &m) == nil && m.Version == v
}

// readBlock reads the block at the reader's position. It reports whether a
// results block is ready to decode; false means the block was skipped.
func (r *Reader) readBlock() bool {
	start := r.off
	r.fill(len(blockSync) + 1 + 2*binary.MaxVarintLen64)
	p := r.buf[r.r+len(blockSync) : r.w]
	if len(p) < 1 {
		r.truncated(start, ErrTruncated)
		return false
	}
	kind := p[0]
	cnt, n1 := binary.Uvarint(p[1:])
	var v uint64
	n2 := 0
	if n1 > 0 {
		v, n2 = binary.Uvarint(p[1+n1:])
	}
	// fill asked for more bytes than two varints take, so a varint that
	// does not end (n == 0) means the input ended; a negative n, a varint
	// too long, is damage.
	if n1 == 0 || n1 > 0 && n2 == 0 {
		r.truncated(start, ErrTruncated)
		return false
	}
	if n1 < 0 || n2 < 0 || v > maxPayload {
		r.resync()
		r.corrupt(start, "")
		return false
	}
	pl := int(v)
	hl := len(blockSync) + 1 + n1 + n2
	total := hl + pl + 4
	if !r.fill(total) {
		// The last block is cut short, or a damaged length runs past the
		// end: a marker after it tells the two apart.
		have := r.w - r.r
		if r.resync() {
			r.corrupt(start, "")
			return false
		}
		r.warn(start, fmt.Errorf("%w: last block has %d of %d bytes", ErrTruncated, have, total))
		r.run.Truncated = true
		return false
	}
	body := r.buf[r.r+len(blockSync) : r.r+hl+pl]
	sum := binary.LittleEndian.Uint32(r.buf[r.r+hl+pl:])
	if crc32.Checksum(body, crcTable) != sum {
		// Do not trust the length: look for the next marker inside it.
		r.resync()
		r.corrupt(start, "")
		return false
	}
	payload := r.buf[r.r+hl : r.r+hl+pl]
	if r.run.Ended && (kind == kindResults || kind == kindMarkers || kind == kindSignals) {
		// Blocks after a run's end-of-run record belong to a next run
		// whose header was damaged beyond recognition.
		r.headerLostBefore(start)
	}
	switch kind {
	case kindMarkers:
		r.addMarkers(start, payload)
	case kindEnd:
		r.endRun(payload)
	case kindSignals:
		// Skipped first: a reading that does not decode is reported
		// as the corrupt bytes of its whole block.
		r.skip(total)
		r.run.End = r.off
		r.addScrapes(start, payload, cnt)
		return false
	case kindResults:
		r.skip(total)
		if err := r.startBlock(payload, cnt); err != nil {
			// The checksum passed: a writer bug or a version skew.
			r.corrupt(start, err.Error())
			return false
		}
		r.blockStart = start
		r.run.Records += int64(cnt)
		r.run.Blocks++
		r.run.End = r.off
		return true
	}
	// Other kinds come from a newer writer and are skipped.
	r.skip(total)
	r.run.End = r.off
	return false
}

// endRun reads the end-of-run record.
func (r *Reader) endRun(payload []byte) {
	n, k := binary.Uvarint(payload)
	if k <= 0 || n > math.MaxInt64 {
		return
	}
	r.run.Ended = true
	r.run.Written = int64(n)
}

// startBlock reads the string table and keeps the records for decoding. The
// payload is copied: buf is reused by the next fill.
func (r *Reader) startBlock(payload []byte, cnt uint64) error {
	r.block = append(r.block[:0], payload...)
	b := r.block
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return errors.New("bad string table")
	}
	b = b[k:]
	r.strs = append(r.strs[:0], "")
	for range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return errors.New("bad string table entry")
		}
		r.strs = append(r.strs, string(b[k:k+int(l)]))
		b = b[k+int(l):]
	}
	if cnt > uint64(len(b)) { // every record takes at least 4 bytes
		return errors.New("record count exceeds block size")
	}
	r.block = b
	r.left = int(cnt)
	r.prev.reset()
	return nil
}

var errShort = errors.New("record runs past the end of its block")

// decode reads one record from r.block.
func (r *Reader) decode(res *Result) error {
	b := r.block
	if len(b) == 0 {
		return errShort
	}
	f := b[0]
	b = b[1:]
	p := &r.prev
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	sv := func() int64 {
		v, n := binary.Varint(b)
		if n <= 0 {
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	str := func() (string, error) {
		i := uv()
		if i >= uint64(len(r.strs)) {
			return "", fmt.Errorf("string index %d out of range", i)
		}
		return r.strs[i], nil
	}
	*res = Result{}
	res.Seq = p.seq + 1
	if f&fSeq != 0 {
		res.Seq += uint64(sv())
	}
	res.Status = p.status
	if f&fStatus != 0 {
		res.Status = uint16(uv())
	}
	res.Label = p.label
	var err error
	if f&fLabel != 0 {
		if res.Label, err = str(); err != nil {
			return err
		}
	}
	if f&fError != 0 {
		if res.Error, err = str(); err != nil {
			return err
		}
	}
	res.BytesIn, res.BytesOut = p.bytesIn, p.bytesOut
	if f&fBytesIn != 0 {
		res.BytesIn = int64(uv())
	}
	if f&fBytesOut != 0 {
		res.BytesOut = int64(uv())
	}
	if f&fPhases != 0 {
		if len(b) == 0 {
			return errShort
		}
		mask := b[0]
		b = b[1:]
		for i, d := range [4]*time.Duration{&res.DNS, &res.Connect, &res.TLS, &res.FirstByte} {
			if mask&(1<<i) != 0 {
				*d = time.Duration(sv())
			}
		}
	}
	res.Worker = p.worker
	if f&fExt != 0 {
		if len(b) == 0 {
			return errShort
		}
		ext := b[0]
		b = b[1:]
		res.Flags = Flags(ext &^ extWorker)
		if ext&extWorker != 0 {
			res.Worker = uint32(uv())
		}
	}
	res.Intended = p.intended + time.Duration(sv())
	res.Sent = res.Intended + time.Duration(sv())
	if b == nil {
		return errShort
	}
	res.Latency = time.Duration(sv())
	if b == nil {
		return errShort
	}
	r.block = b
	p.seq, p.intended, p.status, p.label = res.Seq, res.Intended, res.Status, res.Label
	p.bytesIn, p.bytesOut, p.worker = res.BytesIn, res.BytesOut, res.Worker
	return nil
}
