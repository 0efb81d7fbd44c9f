package lab

import (
	"math/bits"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// maxRows bounds /lookup's table: 10⁷ rows of 16 bytes, 160 MB, and an
// index of 128 MiB more once asked for.
const maxRows = 10_000_000

// row is one row of the /lookup table: a unique key and a value.
type row struct{ key, val uint64 }

// rowKey is the key of row i: a bijective mix of i (splitmix64's
// finaliser), so keys are unique and in no order a scan could use.
func rowKey(i uint64) uint64 {
	i ^= i >> 30
	i *= 0xbf58476d1ce4e5b9
	i ^= i >> 27
	i *= 0x94d049bb133111eb
	i ^= i >> 31
	return i
}

// table is the /lookup table at one size, with its hash index built the
// first time a request asks for it.
type table struct {
	rows []row

	indexOnce sync.Once
	slots     []uint32 // open addressing, linear probing: row position + 1, 0 = empty
	mask      uint64
}

func newTable(n int) *table {
	t := &table{rows: make([]row, n)}
	for i := range t.rows {
		t.rows[i] = row{key: rowKey(uint64(i)), val: uint64(i)}
	}
	return t
}

// index returns the table's hash index, building it on first use: a slot
// array of at least twice the rows, so probes stay short.
func (t *table) index() []uint32 {
	t.indexOnce.Do(func() {
		size := uint64(1) << bits.Len64(uint64(2*len(t.rows)-1))
		t.slots, t.mask = make([]uint32, size), size-1
		for i, r := range t.rows {
			h := r.key & t.mask
			for t.slots[h] != 0 {
				h = (h + 1) & t.mask
			}
			t.slots[h] = uint32(i + 1)
		}
	})
	return t.slots
}

// scan reads the first n rows, as a query on an unindexed column must, and
// returns the value of the row whose key is key (the last one; keys are
// unique) and the rows read: n.
func (t *table) scan(n int, key uint64) (val uint64, read int) {
	for _, r := range t.rows[:n] {
		if r.key == key {
			val = r.val
		}
	}
	return val, n
}

// seek finds key through the index and returns its value and the rows it
// compared (one, more when a probe meets other keys first).
func (t *table) seek(key uint64) (val uint64, read int) {
	slots := t.index()
	for h := key & t.mask; slots[h] != 0; h = (h + 1) & t.mask {
		r := &t.rows[slots[h]-1]
		read++
		if r.key == key {
			return r.val, read
		}
	}
	return 0, read
}

// tables holds a Server's /lookup table: one, of the largest size asked,
// whose first rows a request to a smaller size reads, so memory is bounded
// by the largest size and not by the number of sizes.
type tables struct {
	mu  sync.Mutex
	cur atomic.Pointer[table]
}

// get returns a table of at least n rows, building a larger one (all its
// rows anew: they are a function of their position) when the current one
// is too small. Requests in flight keep reading the table they got.
func (ts *tables) get(n int) *table {
	if t := ts.cur.Load(); t != nil && len(t.rows) >= n {
		return t
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if t := ts.cur.Load(); t != nil && len(t.rows) >= n {
		return t
	}
	t := newTable(n)
	ts.cur.Store(t)
	return t
}

// serveLookup answers /lookup: it finds the row of one key in a table of
// rows rows, by a full scan (index=0: every row read, cost linear in rows)
// or through a hash index (index=1: about one row read, cost flat). The
// key is row (i·2654435761 mod rows)'s, so requests spread over the table.
// Its service time is measured; the answer says how many rows it read.
func (s *Server) serveLookup(w http.ResponseWriter, _ *http.Request, st *state, i uint64) {
	start := time.Now()
	n := st.set.rows
	t := s.tables.get(n)
	pos := i * 2654435761 % uint64(n)
	key := rowKey(pos)
	var val uint64
	var read int
	if st.set.index {
		val, read = t.seek(key)
	} else {
		val, read = t.scan(n, key)
	}
	d := time.Since(start)
	st.rowsScanned.Add(uint64(read))

	bp := bufPool.Get().(*[]byte)
	b := appendBody((*bp)[:0], true, st, i, d)
	b = append(b[:len(b)-1], `,"rows_scanned":`...)
	b = strconv.AppendInt(b, int64(read), 10)
	b = append(b, `,"value":`...)
	b = strconv.AppendUint(b, val, 10)
	b = append(b, '}')
	writeJSON(w, http.StatusOK, b)
	*bp = b
	bufPool.Put(bp)
}
