package signals

import (
	"bytes"
	"hash/maphash"
)

// blocks skips the families of a text-format body that are byte for byte
// as they were at the source's previous reading: their samples did not
// change, so parsing them again would add nothing to the reading but
// expfmt's allocations. A family's block runs from its first # HELP or
// # TYPE line to the next family's, so it parses alone.
type blocks struct {
	seed       maphash.Seed
	prev, next map[string]uint64 // hash of each family's block, by name
	out        bytes.Buffer      // the blocks that changed
}

// changed returns the blocks of body that differ from the previous
// committed reading's. The hashes of this reading take over only when
// commit is called, after the reading was kept: a failed reading must not
// hide the changes it held.
func (b *blocks) changed(body []byte) []byte {
	if b.prev == nil {
		b.seed, b.prev, b.next = maphash.MakeSeed(), map[string]uint64{}, map[string]uint64{}
	}
	clear(b.next)
	b.out.Reset()
	name, start := "", 0
	flush := func(end int) {
		if end <= start {
			return
		}
		blk := body[start:end]
		h := maphash.Bytes(b.seed, blk)
		if old, seen := b.next[name]; seen {
			// A family in two places: both parts count.
			h = h*31 + old
		}
		b.next[name] = h
		if old, ok := b.prev[name]; !ok || old != h {
			b.out.Write(blk)
		}
	}
	for i := 0; i < len(body); {
		end := bytes.IndexByte(body[i:], '\n')
		if end < 0 {
			end = len(body)
		} else {
			end += i + 1
		}
		if n, ok := familyName(body[i:end]); ok && n != name {
			flush(i)
			name, start = n, i
		}
		i = end
	}
	flush(len(body))
	return b.out.Bytes()
}

// commit makes this reading's hashes the ones the next is compared with.
func (b *blocks) commit() {
	b.prev, b.next = b.next, b.prev
}

// familyName returns the name of a # HELP or # TYPE line.
func familyName(line []byte) (string, bool) {
	rest, ok := bytes.CutPrefix(line, []byte("# HELP "))
	if !ok {
		if rest, ok = bytes.CutPrefix(line, []byte("# TYPE ")); !ok {
			return "", false
		}
	}
	n, _, _ := bytes.Cut(bytes.TrimRight(rest, "\r\n"), []byte(" "))
	return string(n), true
}
