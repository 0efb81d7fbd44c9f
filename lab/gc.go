package lab

import (
	"fmt"
	"net/http"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"
)

// maxLiveMB bounds the live heaps one Server keeps for /gc, over all sizes:
// each size asked for is built once and kept for the Server's life.
const maxLiveMB = 4096

// gcNode is one object of a /gc heap: 64 bytes, all pointers, so that the
// collector has every word of it to scan, as in a cache of small entries.
type gcNode struct {
	next *gcNode
	refs [7]*gcNode
}

const gcNodeSize = 64

// liveHeap is a retained heap of a given size, shared by every /gc
// parameter set that asks for that size and kept until the Server is
// dropped. Its nodes point at each other, so marking it is real work.
type liveHeap struct {
	once  sync.Once
	nodes []*gcNode
	bytes int64 // nodes and the slice that holds them
}

// build allocates about mb MiB of linked nodes: each node points to the
// next and to seven others spread over the heap.
func (h *liveHeap) build(mb int) {
	n := mb << 20 / (gcNodeSize + 8) // a node and its slot in nodes
	h.nodes = make([]*gcNode, n)
	for i := range h.nodes {
		h.nodes[i] = new(gcNode)
	}
	for i, nd := range h.nodes {
		nd.next = h.nodes[(i+1)%n]
		for j := range nd.refs {
			nd.refs[j] = h.nodes[(i+j+2)%n]
		}
	}
	h.bytes = int64(n) * (gcNodeSize + 8)
}

// gcHeaps holds a Server's live heaps by size in MiB.
type gcHeaps struct {
	mu    sync.Mutex
	bySz  map[int]*liveHeap
	total int // MiB asked for, over all sizes
}

// errLiveFull is the answer to a /gc size that would take the live heaps
// beyond maxLiveMB.
var errLiveFull = fmt.Errorf("live heaps full: the lab keeps at most %d MiB of /gc live heap over all sizes", maxLiveMB)

// get returns the live heap of mb MiB, building it on first use (callers of
// the same size wait for that build), or errLiveFull.
func (g *gcHeaps) get(mb int) (*liveHeap, error) {
	g.mu.Lock()
	h := g.bySz[mb]
	if h == nil {
		if g.total+mb > maxLiveMB {
			g.mu.Unlock()
			return nil, errLiveFull
		}
		if g.bySz == nil {
			g.bySz = map[int]*liveHeap{}
		}
		h = &liveHeap{}
		g.bySz[mb] = h
		g.total += mb
	}
	g.mu.Unlock()
	h.once.Do(func() { h.build(mb) })
	return h, nil
}

// gcSink keeps the garbage of a request reachable until the request ends;
// it lives on the stack of serveGC.
type gcSink struct{ head *gcNode }

// allocGarbage allocates kb KiB of linked 64-byte nodes, which become
// garbage when the request ends, and returns how many it made.
//
//go:noinline
func allocGarbage(sink *gcSink, kb int) int {
	n := kb << 10 / gcNodeSize
	for range n {
		nd := new(gcNode)
		nd.next = sink.head
		sink.head = nd
	}
	return n
}

var gcCycleSamples = sync.Pool{New: func() any {
	return &[1]metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
}}

// gcCycles returns the number of GC cycles completed so far.
func gcCycles() uint64 {
	s := gcCycleSamples.Get().(*[1]metrics.Sample)
	metrics.Read(s[:])
	n := s[0].Value.Uint64()
	gcCycleSamples.Put(s)
	return n
}

// serveGC answers /gc: it allocates alloc KiB of garbage while a live heap
// of live MiB is retained, so the collector runs about once every live MiB
// allocated (GOGC=100) and has live MiB to mark each time. Its service time
// is the time that took, measured; the answer also says how many GC cycles
// ended meanwhile.
func (s *Server) serveGC(w http.ResponseWriter, r *http.Request, st *state, i uint64) {
	start := time.Now()
	if st.set.liveMB > 0 {
		h, err := s.gcHeaps.get(st.set.liveMB)
		if err != nil {
			writeJSON(w, http.StatusInsufficientStorage, marshal(errorBody{Error: "live heap full", Endpoint: "gc", Message: err.Error()}))
			return
		}
		st.liveBytes.Store(h.bytes)
	}
	c0 := gcCycles()
	var sink gcSink
	n := allocGarbage(&sink, st.set.allocKB)
	cycles := gcCycles() - c0
	d := time.Since(start)
	st.allocBytes.Add(uint64(n) * gcNodeSize)
	sink.head = nil

	bp := bufPool.Get().(*[]byte)
	b := appendBody((*bp)[:0], true, st, i, d)
	b = append(b[:len(b)-1], `,"gc":`...)
	b = strconv.AppendUint(b, cycles, 10)
	b = append(b, '}')
	writeJSON(w, http.StatusOK, b)
	*bp = b
	bufPool.Put(bp)
}
