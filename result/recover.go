package result

// How the Reader goes on past damage: a truncated input, a corrupt block or
// a lost header is recorded as a warning and in the run's RunRead, and
// reading resumes at the next marker, so no whole block is lost with a
// damaged neighbour.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"
)

func (r *Reader) warn(off int64, err error) {
	e := &OffsetError{Offset: off, Err: err}
	r.warnings = append(r.warnings, e)
	if r.Warn != nil {
		r.Warn(e)
	}
}

// truncated records that the input ended inside the block or header at off.
func (r *Reader) truncated(off int64, err error) {
	r.warn(off, err)
	if r.run != nil {
		r.run.Truncated = true
	}
	r.skip(r.w - r.r)
}

// corrupt records that the bytes from off to the reader's position hold no
// valid block; why, if not empty, says what was wrong.
func (r *Reader) corrupt(off int64, why string) {
	n := r.off - off
	if why == "" {
		r.warn(off, fmt.Errorf("%w: %d bytes without a valid block", ErrCorrupt, n))
	} else {
		r.warn(off, fmt.Errorf("%w: %d bytes: %s", ErrCorrupt, n, why))
	}
	r.run.Corrupt++
	r.run.CorruptBytes += n
	if r.run.FirstCorrupt < 0 {
		r.run.FirstCorrupt = off
	}
}

// nearMagic reports whether head starts with the magic bytes but one: the
// first header's magic with a damaged byte.
func nearMagic(head []byte) bool {
	if len(head) < len(magic) {
		return false
	}
	diff := 0
	for i := range len(magic) {
		if head[i] != magic[i] {
			diff++
		}
	}
	return diff == 1
}

// resync skips at least one byte, up to the next block or header marker or
// the end of the input. It reports whether a marker was found.
func (r *Reader) resync() bool {
	r.skip(1)
	for {
		r.fill(len(magic))
		p := r.buf[r.r:r.w]
		i := bytes.Index(p, []byte(blockSync))
		lim := p
		if i >= 0 {
			lim = p[:min(len(p), i+len(magic))]
		}
		if j := bytes.Index(lim, []byte(magic)); j >= 0 && (i < 0 || j < i) {
			i = j
		}
		if i >= 0 {
			r.skip(i)
			return true
		}
		if r.eof {
			r.skip(len(p))
			return false
		}
		// Keep the last few bytes: a marker may straddle the refill.
		if n := len(p) - (len(magic) - 1); n > 0 {
			r.skip(n)
		}
		r.fill(r.w - r.r + 1)
	}
}

// headerLost starts a run whose header is damaged: its metadata is lost,
// its blocks are still read. The placeholder Meta keeps the run's start
// time when the damaged bytes still name it, else the Start of the run
// before it, so that the run's results stay on a plausible wall-clock
// time line, where merged files meet.
func (r *Reader) headerLost(off int64, msg string) error {
	var m Meta
	if t, ok := r.damagedStart(); ok {
		m.Start = t
	} else if len(r.metas) > 0 {
		m.Start = r.metas[len(r.metas)-1].Start
	}
	r.warn(off, fmt.Errorf("%w: %s: run metadata lost, its results are still read", ErrHeader, msg))
	r.resync()
	r.newRun(m, RunRead{HeaderDamaged: true, Written: -1, FirstCorrupt: -1, End: r.off})
	return nil
}

// startScan bounds how far into a damaged header damagedStart looks: the
// writer puts the start time third, after the version and the run ID.
const startScan = 256

// damagedStart returns the start time that the damaged header at the
// reader's position still names: the "start" field near the beginning of
// its metadata, whatever else was damaged. The rest of the metadata is
// not trusted.
func (r *Reader) damagedStart() (time.Time, bool) {
	r.fill(len(magic) + 2*binary.MaxVarintLen64 + startScan)
	p := r.buf[r.r:r.w]
	p = p[:min(len(p), len(magic)+2*binary.MaxVarintLen64+startScan)]
	const key = `"start":"`
	i := bytes.Index(p, []byte(key))
	if i < 0 {
		return time.Time{}, false
	}
	p = p[i+len(key):]
	j := bytes.IndexByte(p, '"')
	if j < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(p[:j]))
	return t, err == nil
}

// headerLostBefore starts a run for blocks found at off after the end of
// the previous run, whose own header could not be found.
func (r *Reader) headerLostBefore(off int64) {
	m := Meta{Start: r.metas[len(r.metas)-1].Start}
	r.warn(off, fmt.Errorf("%w: results after the end of run %d and no header: run metadata lost", ErrHeader, len(r.runs)))
	r.newRun(m, RunRead{HeaderDamaged: true, Written: -1, FirstCorrupt: -1, End: off})
}
