package result

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// Reader decodes results from one or more concatenated results files. It
// streams: memory is bounded by one block, whatever the file's length.
//
// Problems that lose data without stopping the read — a corrupt block, a
// truncated tail — are passed to Warn (if set) and kept in Warnings, and
// reading continues with the next whole block.
type Reader struct {
	// Warn, if set, is called with every *OffsetError wrapping ErrCorrupt or
	// ErrTruncated as it happens.
	Warn func(error)

	src  io.Reader
	buf  []byte // buf[r:w] is unread input
	r, w int
	eof  bool
	off  int64 // input offset of buf[r]

	metas    []Meta
	markers  []Marker
	warnings []error

	block    []byte // current block's records
	left     int    // records left in block
	strs     []string
	prev     state
	inHeader bool
}

// NewReader returns a Reader of the results in src.
func NewReader(src io.Reader) *Reader {
	return &Reader{src: src, buf: make([]byte, 256<<10), inHeader: true}
}

// Meta returns the header of the run whose results are being read, or nil
// before the first header has been read.
func (r *Reader) Meta() *Meta {
	if len(r.metas) == 0 {
		return nil
	}
	return &r.metas[len(r.metas)-1]
}

// Metas returns the headers of every run read so far, in input order.
func (r *Reader) Metas() []Meta { return r.metas }

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

func (r *Reader) warn(off int64, err error) {
	e := &OffsetError{Offset: off, Err: err}
	r.warnings = append(r.warnings, e)
	if r.Warn != nil {
		r.Warn(e)
	}
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
		if n > len(r.buf) {
			nb := make([]byte, max(n, 2*len(r.buf)))
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
	for r.left == 0 {
		if err := r.nextBlock(); err != nil {
			return err
		}
	}
	r.left--
	if err := r.decode(res); err != nil {
		// The checksum passed, so this is a writer bug or a version skew:
		// drop the rest of the block rather than return garbage.
		r.left = 0
		r.warn(r.off, fmt.Errorf("%w: %v", ErrCorrupt, err))
		return r.Read(res)
	}
	return nil
}

// nextBlock positions the reader on the next results block.
func (r *Reader) nextBlock() error {
	for {
		if !r.fill(len(magic)) {
			if r.w == r.r {
				if len(r.metas) == 0 {
					return fmt.Errorf("%w: input is empty", ErrNotResults)
				}
				return io.EOF
			}
			if len(r.metas) == 0 {
				return fmt.Errorf("%w: input too short", ErrNotResults)
			}
			// Fewer bytes left than a marker: a truncated block start.
		}
		head := r.buf[r.r:r.w]
		switch {
		case bytes.HasPrefix(head, []byte(magic)):
			if err := r.readHeader(); err != nil {
				return err
			}
			continue
		case len(r.metas) == 0:
			return fmt.Errorf("%w: it does not start with the .srg magic bytes", ErrNotResults)
		case bytes.HasPrefix(head, []byte(blockSync)):
			ok, err := r.readBlock()
			if err != nil {
				return err
			}
			if ok {
				return nil
			}
			continue
		}
		if r.eof && r.w-r.r < len(magic) && (bytes.HasPrefix([]byte(blockSync), head) || bytes.HasPrefix([]byte(magic), head) || bytes.HasPrefix(head, []byte(blockSync))) {
			r.warn(r.off, ErrTruncated)
			r.skip(r.w - r.r)
			return io.EOF
		}
		r.resync()
	}
}

// resync skips to the next block or header marker, warning once.
func (r *Reader) resync() {
	start := r.off
	for {
		if !r.fill(len(magic)) && r.w == r.r {
			break
		}
		i := bytes.Index(r.buf[r.r+1:r.w], []byte(blockSync))
		j := bytes.Index(r.buf[r.r+1:r.w], []byte(magic))
		if j >= 0 && (i < 0 || j < i) {
			i = j
		}
		if i >= 0 {
			r.skip(i + 1)
			break
		}
		// Keep the last few bytes: a marker may straddle the refill.
		n := r.w - r.r - len(magic)
		if n <= 0 {
			if r.eof {
				r.skip(r.w - r.r)
				break
			}
			n = 0
		}
		r.skip(n)
		if r.eof && r.w-r.r <= len(magic) {
			r.skip(r.w - r.r)
			break
		}
		if n == 0 && !r.fill(r.w-r.r+1) {
			r.skip(r.w - r.r)
			break
		}
	}
	r.warn(start, fmt.Errorf("%w: %d bytes without a valid block", ErrCorrupt, r.off-start))
}

func (r *Reader) readHeader() error {
	start := r.off
	// magic, version, meta length: at most 8+10+10 bytes.
	r.fill(len(magic) + 20)
	p := r.buf[r.r+len(magic) : r.w]
	ver, n1 := binary.Uvarint(p)
	if n1 <= 0 {
		return r.headerErr(start, "bad version field")
	}
	if ver != Version {
		return &OffsetError{start, fmt.Errorf("results file version %d is not supported (this surge reads version %d)", ver, Version)}
	}
	ml, n2 := binary.Uvarint(p[n1:])
	if n2 <= 0 || ml > maxMeta {
		return r.headerErr(start, "bad metadata length")
	}
	hl := len(magic) + n1 + n2
	total := hl + int(ml) + 4
	if !r.fill(total) {
		return r.headerErr(start, "header is truncated")
	}
	js := r.buf[r.r+hl : r.r+hl+int(ml)]
	sum := binary.LittleEndian.Uint32(r.buf[r.r+hl+int(ml):])
	if crc32.Checksum(js, crcTable) != sum {
		return r.headerErr(start, "header checksum mismatch")
	}
	var m Meta
	if err := json.Unmarshal(js, &m); err != nil {
		return r.headerErr(start, "metadata: "+err.Error())
	}
	r.metas = append(r.metas, m)
	r.skip(total)
	return nil
}

func (r *Reader) headerErr(off int64, msg string) error {
	if len(r.metas) == 0 {
		return &OffsetError{off, fmt.Errorf("%w: %s", ErrNotResults, msg)}
	}
	// A damaged header of a later concatenated run: its blocks can still be
	// read with the previous run's metadata.
	r.warn(off, fmt.Errorf("%w: run header: %s", ErrCorrupt, msg))
	r.skip(1)
	r.resync()
	return nil
}

// readBlock reads the block at the reader's position. It reports whether a
// results block is ready to decode; false means the block was skipped.
func (r *Reader) readBlock() (bool, error) {
	start := r.off
	r.fill(len(blockSync) + 1 + 20)
	p := r.buf[r.r+len(blockSync) : r.w]
	if len(p) < 1 {
		r.warn(start, ErrTruncated)
		r.skip(r.w - r.r)
		return false, nil
	}
	kind := p[0]
	cnt, n1 := binary.Uvarint(p[1:])
	pl, n2 := 0, 0
	if n1 > 0 {
		v, n := binary.Uvarint(p[1+n1:])
		pl, n2 = int(v), n
		if v > maxPayload {
			n2 = -1
		}
	}
	if n1 <= 0 || n2 <= 0 {
		if r.eof && n1 == 0 || n2 == 0 {
			r.warn(start, ErrTruncated)
			r.skip(r.w - r.r)
			return false, nil
		}
		r.skip(1)
		r.resync()
		return false, nil
	}
	hl := len(blockSync) + 1 + n1 + n2
	total := hl + pl + 4
	if !r.fill(total) {
		r.warn(start, fmt.Errorf("%w: last block has %d of %d bytes", ErrTruncated, r.w-r.r, total))
		r.skip(r.w - r.r)
		return false, nil
	}
	body := r.buf[r.r+len(blockSync) : r.r+hl+pl]
	sum := binary.LittleEndian.Uint32(r.buf[r.r+hl+pl:])
	if crc32.Checksum(body, crcTable) != sum {
		// Do not trust the length: look for the next marker inside it.
		r.skip(1)
		r.resync()
		return false, nil
	}
	if kind == kindMarkers {
		r.addMarkers(start, r.buf[r.r+hl:r.r+hl+pl])
		r.skip(total)
		return false, nil
	}
	if kind != kindResults {
		r.skip(total) // a kind from a newer writer
		return false, nil
	}
	payload := r.buf[r.r+hl : r.r+hl+pl]
	if err := r.startBlock(payload, cnt); err != nil {
		r.warn(start, fmt.Errorf("%w: %v", ErrCorrupt, err))
		r.skip(total)
		return false, nil
	}
	r.skip(total)
	return true, nil
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
