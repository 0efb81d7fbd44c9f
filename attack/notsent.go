package attack

import (
	"time"

	"github.com/surge-dev/surge/schedule"
)

// Not-sent accounting. An open-model tick that is due when no connection
// is free (every one the cap allows is busy) or the generator has no CPU
// for it waits, and its lag counts in its latency once it goes out. The
// ticks still waiting when the run stops are recorded as not sent, one
// result each, so nothing is dropped silently. Two bounds keep that cheap:
//
//   - schedule.MaxRate: no schedule asks for more than one process could
//     send, so a run's results, sent or not, are at most schedule.MaxRate ×
//     its length.
//   - maxBacklog: at most that many due ticks wait. When more are due, the
//     oldest are recorded as not sent right away (the in-flight cap or the
//     CPU was reached), as a run of consecutive ticks found with a handful
//     of pacer look-ups, so the stop never has more than maxBacklog ticks
//     to record, and stops within a fraction of a second however far
//     behind the run fell.
//
// A result per not-sent tick, rather than one record for a range of
// them, keeps the results file's one record kind that every report,
// converter and merge already counts; the two bounds above are what keep
// their number, and so the file, proportional to the run's length.

// maxBacklog bounds the due ticks that wait to be sent: 100,000, which
// the stop records in about 20 ms (the results file takes ~5 bytes for
// each) and which is 100 s of waiting at 1,000/s, 0.1 s at
// schedule.MaxRate.
const maxBacklog = 100_000

// backlogSpan is the shortest time maxBacklog ticks can span (at
// schedule.MaxRate): a tick less late than this cannot have maxBacklog due
// ticks behind it, so only later ones are checked.
const backlogSpan = time.Duration(maxBacklog * float64(time.Second) / schedule.MaxRate)

// tick returns the intended time of request seq, and false when the
// schedule has no such request (Count reached, or the pacer's end).
func (rs *runState) tick(seq uint64) (time.Duration, bool) {
	if rs.count > 0 && seq >= rs.count {
		return 0, false
	}
	return rs.pacer.At(seq)
}

// firstAt returns the first of seq, seq+stride, seq+2·stride, … whose tick
// is at or after t, or that the schedule does not have. It doubles, then
// bisects: a few dozen pacer look-ups however many ticks it passes.
func (rs *runState) firstAt(seq, stride uint64, t time.Duration) uint64 {
	before := func(k uint64) bool {
		at, ok := rs.tick(seq + k*stride)
		return ok && at < t
	}
	if !before(0) {
		return seq
	}
	// before(lo) holds and before(hi) does not. A schedule of more than
	// 2^40 ticks (12 days at schedule.MaxRate) ends there for this search.
	lo, hi := uint64(0), uint64(1)
	for hi < 1<<40/stride && before(hi) {
		lo, hi = hi, 2*hi
	}
	for hi-lo > 1 {
		if mid := lo + (hi-lo)/2; before(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return seq + hi*stride
}

// claimTo takes every sequence number below end that no worker has
// claimed from the shared counter, in one step, and returns the first of
// them (end when there was none). Workers claim one number at a time
// with rs.claim; this is how one of them takes a run of ticks to record
// as not sent.
func (rs *runState) claimTo(end uint64) uint64 {
	for {
		cur := rs.next.Load()
		if cur >= end {
			return end
		}
		if rs.next.CompareAndSwap(cur, end) {
			return cur
		}
	}
}

// shedFrom returns, when more than maxBacklog ticks from seq on are due at
// now (a tick at seq is at least backlogSpan late), the sequence number
// below which the oldest are to be recorded as not sent, leaving half of
// maxBacklog due, so that the ticks after it are sent (late) until the
// backlog has grown again; otherwise it returns seq.
func (rs *runState) shedFrom(seq, stride uint64, at, now time.Duration) uint64 {
	if now-at < backlogSpan {
		return seq
	}
	share := (maxBacklog + stride - 1) / stride // this caller's, in its own ticks
	due := rs.firstAt(seq, stride, now+1)
	if (due-seq)/stride <= share {
		return seq
	}
	return due - share/2*stride
}
