package main

import (
	"fmt"
	"io"
)

// fdReserve is what a run keeps for descriptors other than its
// connections: the event loops' epoll sets, the dashboard, a DNS lookup.
const fdReserve = 8

// fdCount is the file-descriptor budget of the process.
type fdCount struct {
	limit, hard uint64 // soft and hard RLIMIT_NOFILE
	open        int    // descriptors open now
}

// left returns the descriptors left for connections.
func (b fdCount) left() int64 {
	return int64(b.limit) - int64(b.open) - fdReserve
}

// warnDescriptors warns on w, before any load, when conns connections
// (the most the run can have in flight, Attacker.PeakInFlight) need more
// file descriptors than the process has left: the requests beyond them would fail for lack of one, and be
// recorded as not sent.
func warnDescriptors(w io.Writer, conns int) {
	b, ok := fdBudget()
	if !ok || int64(conns) <= b.left() {
		return
	}
	fix := fmt.Sprintf("raise the limit (ulimit -n %d)", conns+b.open+fdReserve)
	if b.hard <= b.limit {
		fix = fmt.Sprintf("raise the hard limit (%d; ulimit -n %d as root, or in limits.conf)", b.hard, conns+b.open+fdReserve)
	}
	fmt.Fprintf(w, "surge: warning: %d connections in flight (-connections, or the rate × -timeout when less) need more file descriptors than the %d left (RLIMIT_NOFILE %d, %d open, %d kept for the run): "+
		"requests beyond them will fail for lack of one and be recorded as not sent (local: too many open files); %s or lower -connections\n",
		conns, max(b.left(), 0), b.limit, b.open, fdReserve, fix)
}
