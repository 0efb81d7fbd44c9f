//go:build linux

package attack

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// The open model on an event loop. The thread that sends also keeps time:
// it sleeps until the next tick, no timer goroutine handing ticks to
// workers, no worker parked in the netpoller.
//
// When ticks come often (at most lazySpan apart), the loop does not wake
// for responses either: the kernel stamps each segment's arrival
// (SO_TIMESTAMPNS), and the loop reads what arrived when it wakes for the
// next tick. A request then costs one wake-up and four system calls
// (sleep, poll, write, read), fewer when a tick window (wakeAt) shares the
// sleep and the poll, where waking for the response too costs two
// wake-ups, the dearer part; and the latency is the kernel's arrival time
// of the last byte, which a busy or late thread cannot inflate. The loop
// wakes for responses again (epoll) while a connection is being opened or
// a request written, and for good once a response was still arriving when
// it woke: that one may not fit the socket buffer, and the server should
// never wait for the loop's next tick to send the rest.
//
// The measurement rules are every driver's (recorder.go): a request's
// latency counts from its intended time; when every connection the cap allows is busy, the due
// tick waits for the first one free and its lag counts; a tick that was due
// before the stop and never went out is recorded as not sent.

// lazySpan is the longest sleep for which the loop leaves responses to be
// read when it wakes (a variable for tests).
var lazySpan = time.Millisecond

// loopFirstRead bounds the first read of a response, so that its kernel
// stamp is the arrival of the response's first segment.
const loopFirstRead = 512

// loopRetire is how long a connection stays open without a request before
// the loop closes it and drops its buffers, so that a burst of slow
// responses, which opens connections, does not leave them for the rest of
// the run. Free connections are reused most recently freed first, so the
// ones a steady rate does not need are the ones that age.
var loopRetire = time.Second // a variable for tests

// runPaced drives an open-model loop until its schedule is over and its
// last response is in.
func (l *eventLoop) runPaced() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// The kernel may fire a thread's timers up to its timer slack late
	// (50µs by default), and that lateness is send lag: ask for 1µs, and
	// give the thread back as it was.
	slack, _, _ := syscall.RawSyscall(syscall.SYS_PRCTL, prGetTimerslack, 0, 0)
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerslack, 1000, 0)
	defer syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerslack, slack, 0)
	defer l.rs.wg.Done()
	defer syscall.Close(l.epfd)
	defer l.flush()
	defer l.closeAll()
	l.deadline = 1<<63 - 1
	l.stamps, l.lazy = true, true
	l.more = l.schedule()
	for {
		now := l.now()
		l.dispatch(now)
		if !l.more && l.inFlight == 0 {
			return
		}
		wait := loopWait
		if l.more && l.hasFree() {
			wait = min(wait, l.wakeAt()-now)
		}
		wait = max(0, min(wait, l.deadline-now))
		// Short sleeps keep the P when l.rawOK (raw system calls): a
		// goroutine that sleeps thousands of times a second in the usual
		// way keeps sysmon polling, and takes a P back on every wake.
		// Longer sleeps leave it to the rest of the process (an
		// in-process server, the sink).
		raw := l.rawOK && wait <= lazySpan
		if l.lazy && wait <= lazySpan && !l.needsEvents() {
			sleep(wait, raw)
			l.poll(0, raw, true)
		} else {
			l.poll(wait, raw, false)
		}
		now = l.now()
		if now >= l.deadline {
			l.expire(now)
		}
		if l.canceled() {
			l.failAll(fastCanceled)
		}
		if l.rec.stale(now) {
			l.flush()
		}
		if now-l.swept > loopRetire/4 {
			l.sweep(now)
		}
	}
}

// wakeAt returns when the loop should wake to send l.seq: at its time,
// or, when later ticks follow within the tick window, at the last of them,
// to send them all on one wake-up. A tick is never sent early; the
// lateness is send lag, recorded and counted in latency like any other.
func (l *eventLoop) wakeAt() time.Duration {
	w := l.e.tickWindow
	if w <= 0 || l.gap <= 0 || l.gap > w {
		return l.at
	}
	return l.at + w/l.gap*l.gap
}

// poll waits up to d for events and handles them; harvest says the loop
// slept without them and collects what arrived meanwhile.
func (l *eventLoop) poll(d time.Duration, raw, harvest bool) {
	n, errno := l.wait(d, raw)
	l.clock.read(l.rs.start)
	if errno != 0 && errno != syscall.EINTR {
		// Cannot happen with a valid epoll fd; fail what is in flight.
		l.failAll(errno.Error())
		return
	}
	l.harvest = harvest
	defer func() { l.harvest = false }()
	for i := range n {
		ev := &l.events[i]
		c := l.conns[ev.Fd]
		if c.state == loopFree {
			// Bytes, a close or an error on an idle connection: the server
			// closed it, or it is out of step. Either way it is no good for
			// the next request.
			if c.fd >= 0 && ev.Events&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
				l.closeConn(c)
			}
			continue
		}
		l.handle(c, ev.Events&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0)
	}
}

// schedule looks up the intended time of l.seq and reports whether the
// schedule has it.
func (l *eventLoop) schedule() bool {
	rs := l.rs
	at, ok := rs.tick(l.seq)
	l.at = at
	if ok {
		if next, ok := rs.pacer.At(l.seq + l.stride); ok {
			l.gap = next - at
		}
	}
	return ok
}

// dispatch sends every due tick a connection is free for. Once the run is
// stopped it records the ticks that were due before the stop as not sent,
// and ends the schedule. Far behind, it records the oldest due ticks as
// not sent (shedFrom) before sending.
func (l *eventLoop) dispatch(now time.Duration) {
	a := l.rs
	if l.more && !a.stopped.Load() {
		if end := a.shedFrom(l.seq, l.stride, l.at, now); end > l.seq {
			l.notSentUntil(end)
		}
	}
	for l.more && l.at <= now && !a.stopped.Load() {
		c := l.takeOpen()
		if c == nil {
			c = l.takeNew()
		}
		if c == nil {
			return // every connection is busy: the tick waits, and its lag counts
		}
		l.start(c, l.seq, l.at, now)
		l.seq += l.stride
		l.more = l.schedule()
	}
	if l.more && a.stopped.Load() {
		// Due before the stop and never sent: recorded; later: never due.
		l.notSentUntil(a.firstAt(l.seq, l.stride, time.Duration(a.stopAt.Load())))
		l.more = false
	}
}

// notSentUntil records this loop's ticks from l.seq up to (not including)
// sequence number end as due but never sent, and moves the schedule on.
func (l *eventLoop) notSentUntil(end uint64) {
	rs := l.rs
	nt := uint64(len(rs.targets))
	for l.more && l.seq < end {
		l.rec.notSent(l.seq, rs.labelAt(l.seq%nt, l.at), l.at, rs.worker)
		l.seq += l.stride
		l.at, l.more = rs.tick(l.seq)
	}
	if l.more {
		l.more = l.schedule()
	}
}

// hasFree reports whether a due tick would find a connection.
func (l *eventLoop) hasFree() bool {
	return len(l.idle) > 0 || len(l.spare) > 0 || len(l.conns) < l.maxConns
}

// takeOpen returns the most recently freed open connection, or nil.
func (l *eventLoop) takeOpen() *loopConn {
	if n := len(l.idle); n > 0 {
		c := l.idle[n-1]
		l.idle = l.idle[:n-1]
		return c
	}
	return nil
}

// takeNew returns a closed free connection, or a new one, or nil when the
// cap is reached and every connection is busy.
func (l *eventLoop) takeNew() *loopConn {
	if n := len(l.spare); n > 0 {
		c := l.spare[n-1]
		l.spare = l.spare[:n-1]
		return c
	}
	if len(l.conns) < l.maxConns {
		c := &loopConn{idx: len(l.conns), fd: -1}
		l.conns = append(l.conns, c)
		return c
	}
	return nil
}

// release puts c, just freed, on its free list.
func (l *eventLoop) release(c *loopConn, now time.Duration) {
	c.freed = now
	if c.fd >= 0 {
		l.idle = append(l.idle, c)
	} else {
		l.spare = append(l.spare, c)
	}
}

// sweep closes the connections that have been idle for loopRetire, and
// drops their buffers; it keeps the most recently used one open. Idle
// connections closed by the server (fd < 0) move to the spares.
func (l *eventLoop) sweep(now time.Duration) {
	l.swept = now
	keep := l.idle[:0]
	for i, c := range l.idle {
		if c.fd >= 0 && (i == len(l.idle)-1 || now-c.freed < loopRetire) {
			keep = append(keep, c)
			continue
		}
		l.closeConn(c)
		if now-c.freed >= loopRetire {
			c.rbuf, c.p = nil, nil
		}
		l.spare = append(l.spare, c)
	}
	clear(l.idle[len(keep):])
	l.idle = keep
	for _, c := range l.spare {
		if c.p != nil && now-c.freed >= loopRetire {
			c.rbuf, c.p = nil, nil
		}
	}
}

// closeAll closes every connection at the end of the run.
func (l *eventLoop) closeAll() {
	for _, c := range l.conns {
		l.closeConn(c)
	}
}

// needsEvents reports whether a connection is being opened, written to
// or read from (a response partly in): then the loop must wake for its
// events. Past 64 requests in flight it says yes rather than look.
func (l *eventLoop) needsEvents() bool {
	if len(l.flying) > 64 {
		return true
	}
	for _, c := range l.flying {
		if c.state == loopConnecting || c.state == loopWriting || c.state == loopReading && c.gotByte {
			return true
		}
	}
	return false
}

// sleep sleeps for d.
func sleep(d time.Duration, raw bool) {
	if d <= 0 {
		return
	}
	ts := syscall.NsecToTimespec(int64(d))
	if raw {
		syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
	} else {
		syscall.Syscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
	}
}

// wait sleeps in epoll_wait for at most d. epoll_pwait2 (Linux 5.11) takes
// the timeout in nanoseconds; before it, epoll_wait's milliseconds are
// rounded up, so a tick is never early but may be up to 1ms late.
func (l *eventLoop) wait(d time.Duration, raw bool) (int, syscall.Errno) {
	if !noPwait2.Load() {
		ts := syscall.NsecToTimespec(int64(d))
		call := syscall.Syscall6
		if raw {
			call = syscall.RawSyscall6
		}
		n, _, errno := call(sysEpollPwait2, uintptr(l.epfd), uintptr(unsafe.Pointer(&l.events[0])),
			uintptr(len(l.events)), uintptr(unsafe.Pointer(&ts)), 0, 0)
		if errno != syscall.ENOSYS {
			return int(n), errno
		}
		noPwait2.Store(true)
	}
	ms := int((d + time.Millisecond - 1) / time.Millisecond)
	n, err := syscall.EpollWait(l.epfd, l.events[:], ms)
	if err != nil {
		return 0, err.(syscall.Errno)
	}
	return n, 0
}

// wallClock pairs a reading of the monotonic clock (as an offset from the
// run's start) with the wall clock's, to place the kernel's wall-clock
// stamps on the run's time line.
type wallClock struct {
	off  time.Duration
	wall int64 // Unix ns
}

func (w *wallClock) read(start time.Time) {
	t := time.Now()
	w.off, w.wall = t.Sub(start), t.UnixNano()
}

// recv reads from fd like sysRead, and returns when the last segment read
// arrived as an offset from the run's start, or -1 when the kernel gave no
// stamp (then the loop stops relying on stamps).
func (l *eventLoop) recv(fd int, p []byte) (int, time.Duration, syscall.Errno) {
	l.iov.Base = unsafe.SliceData(p)
	l.iov.SetLen(len(p))
	l.msg.Iov, l.msg.Iovlen = &l.iov, 1
	l.msg.Control = &l.oob[0]
	l.msg.SetControllen(len(l.oob))
	n, _, errno := syscall.RawSyscall(syscall.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&l.msg)), 0)
	if errno != 0 || n == 0 {
		return int(n), -1, errno
	}
	const hdr = syscall.SizeofCmsghdr
	if int(l.msg.Controllen) >= hdr+int(unsafe.Sizeof(syscall.Timespec{})) {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&l.oob[0]))
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS {
			ts := (*syscall.Timespec)(unsafe.Pointer(&l.oob[hdr]))
			return int(n), l.clock.off + time.Duration(ts.Nano()-l.clock.wall), 0
		}
	}
	l.stamps, l.lazy = false, false
	return int(n), -1, 0
}

// sysEpollPwait2 is epoll_pwait2's number, the same on every architecture
// (it came after the tables were unified).
const sysEpollPwait2 = 441

const (
	prSetTimerslack = 29
	prGetTimerslack = 30
)

// noPwait2 is set once epoll_pwait2 said ENOSYS.
var noPwait2 atomic.Bool
