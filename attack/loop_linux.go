//go:build linux

package attack

import (
	"io"
	"net/netip"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/surge-dev/surge/result"
)

// The event-loop engine runs the attacks of a FastClient the way wrk does:
// a few goroutines (half of GOMAXPROCS), each locked to its thread and
// owning a share of the connections, each connection a state machine driven
// by an edge-triggered epoll set over raw non-blocking sockets. A request
// costs a write and a read: no read that finds nothing yet, no goroutine
// parked in the netpoller and woken again, no hand-off between threads.
//
// The loops see of their attack only its runState, and record through a
// recorder each, as every other driver does (recorder.go). At max rate a
// request is due when it goes out (Intended = Sent), sequence numbers come
// from the run's shared counter, and Count, Duration and stops are obeyed
// as the workers obey them. With a pacer (open model, see
// looppace_linux.go) each loop owns every n-th sequence number and sends
// it at its intended time on a free connection, opening one when none is
// free and the cap allows.

// loopWait bounds how long a loop sleeps in epoll_wait, so it notices a
// stop and flushes held results.
const loopWait = 20 * time.Millisecond

// loopMaxHead bounds the read buffer while a response head (with its 1xx
// responses) is incomplete.
const loopMaxHead = 8 << 20

// startLoops starts the event loops of an attack of targets on fc, with
// at most conns requests in flight, or returns why it cannot: epoll is
// unavailable.
func startLoops(rs *runState, fc *FastClient, conns int) error {
	lc := fc.loop
	e := &loopEngine{rs: rs, fc: fc, tickWindow: lc.tickWindow, addrs: make(map[string]*loopAddr)}
	// Half the processors: a loop with many connections gets many events
	// from each epoll_wait, and on 2 cores one loop spent 25 % less CPU
	// per request than two (the target shares the machine in most runs).
	n := max(1, min(runtime.GOMAXPROCS(0)/2, conns))
	if lc.loops > 0 {
		n = min(lc.loops, conns)
	}
	// Short sleeps may keep the P (raw system calls) while another P is
	// left for the rest of the process.
	rawOK := runtime.GOMAXPROCS(0) > n
	loops := make([]*eventLoop, 0, n)
	for i := range n {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			for _, l := range loops {
				syscall.Close(l.epfd)
			}
			return err
		}
		l := &eventLoop{e: e, rs: rs, rec: newRecorder(rs), epfd: fd, rawOK: rawOK}
		// Spread the connections evenly: the first loops take the remainder.
		share := conns / n
		if i < conns%n {
			share++
		}
		if rs.pacer != nil {
			// Connections open as ticks need them.
			l.paced, l.seq, l.stride, l.maxConns = true, uint64(i), uint64(n), share
			loops = append(loops, l)
			continue
		}
		for range share {
			l.conns = append(l.conns, &loopConn{idx: len(l.conns), fd: -1, p: newLoopParser(), rbuf: make([]byte, fastReadBuffer)})
		}
		loops = append(loops, l)
	}
	if rs.pacer != nil {
		for _, l := range loops {
			rs.wg.Add(1)
			go l.runPaced()
		}
		return nil
	}
	rs.stats.Workers.Add(int64(conns))
	for _, l := range loops {
		rs.wg.Add(1)
		go l.run()
	}
	return nil
}

// loopEngine is what the loops of one attack share.
type loopEngine struct {
	rs         *runState
	fc         *FastClient
	tickWindow time.Duration

	mu    sync.Mutex
	addrs map[string]*loopAddr // host:port → resolved socket addresses
}

// eventLoop is one thread's share of the connections.
type eventLoop struct {
	e      *loopEngine
	rs     *runState
	rec    recorder
	epfd   int
	conns  []*loopConn
	events [128]syscall.EpollEvent

	live     int           // connections that have not finished
	deadline time.Duration // the earliest deadline of a request in flight, or later

	// Open model (looppace_linux.go).
	paced    bool
	seq      uint64        // next sequence number of this loop
	stride   uint64        // loops: this loop sends seq, seq+stride, ...
	at       time.Duration // intended time of seq
	gap      time.Duration // from at to the loop's next tick
	more     bool          // the schedule has seq
	maxConns int           // connections this loop may open
	inFlight int
	idle     []*loopConn // open connections between requests, most recently freed last
	spare    []*loopConn // closed connections between requests
	swept    time.Duration
	// Kernel arrival times (recv in looppace_linux.go): stamps says
	// responses are read with them, lazy that the loop may collect
	// responses when it wakes for a tick, harvest that it is doing so now.
	stamps, lazy, harvest bool
	lazyDone              int64       // responses collected on a tick's wake-up, not yet in rs.lazyDone
	rawOK                 bool        // waits may keep the P (raw system calls)
	flying                []*loopConn // requests in flight
	clock                 wallClock
	msg                   syscall.Msghdr
	iov                   syscall.Iovec
	oob                   [64]byte
}

// loopConn states.
const (
	loopFree       = iota // between requests
	loopConnecting        // waiting for connect to complete
	loopWriting           // writing the request
	loopReading           // reading the response
	loopFinished          // no more requests: the run is over
)

// loopConn is one connection and the request it carries.
type loopConn struct {
	idx   int // in eventLoop.conns
	fd    int // -1 when closed
	addr  string
	aps   []netip.AddrPort // addresses of addr still to try while dialing
	state int
	used  bool // carried a complete exchange: the server may close it while idle

	req     *fastRequest
	hop     int
	wrote   int
	gotByte bool
	redirs  fastRedirects

	rbuf []byte
	rlen int
	p    *loopParser

	r         result.Result
	start     time.Duration // when the request started (offset from the run's start)
	deadline  time.Duration
	dialStart time.Duration
	freed     time.Duration // when it last became free (open model)
	flyIdx    int           // in eventLoop.flying (open model)
	end       time.Duration // when the last byte read arrived, by the kernel's stamp; 0 = not known
}

func (l *eventLoop) now() time.Duration { return l.rs.now() }

// run drives the loop until every connection has finished.
func (l *eventLoop) run() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer l.rs.wg.Done()
	defer syscall.Close(l.epfd)
	defer l.flush()
	l.live = len(l.conns)
	l.deadline = 1<<63 - 1
	raw := false
	for _, c := range l.conns {
		l.pump(c)
	}
	for l.live > 0 {
		wait := loopWait
		now := l.now()
		if d := l.deadline - now; d < wait {
			wait = max(d, time.Millisecond)
		}
		// While responses come fast the wait keeps the P: a goroutine that
		// waits thousands of times a second in the usual way pays for
		// sysmon taking the P away and for getting it back. After a long
		// wait (a slow server), it leaves the P to the rest of the process.
		n, errno := l.wait(wait, raw)
		if errno != 0 && errno != syscall.EINTR {
			// Cannot happen with a valid epoll fd; fail what is in flight.
			l.failAll(errno.Error())
			continue
		}
		after := l.now()
		raw = l.rawOK && after-now < time.Millisecond
		for i := range n {
			ev := &l.events[i]
			c := l.conns[ev.Fd]
			l.handle(c, ev.Events&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0)
			l.pump(c)
		}
		now = l.now()
		if now >= l.deadline {
			l.expire(now)
		}
		if l.rs.stopped.Load() {
			if l.rs.reqCtx.Err() != nil {
				l.failAll(fastCanceled)
			}
			// Connections that never got a request (Count reached) are done.
			for _, c := range l.conns {
				l.pump(c)
			}
		}
		if l.rec.stale(now) {
			l.flush()
		}
	}
}

// pump gives a free connection its next request, or finishes it when the
// run is over. A request that fails at once frees the connection again.
// With a pacer, free connections wait for ticks instead (dispatch).
func (l *eventLoop) pump(c *loopConn) {
	for c.state == loopFree && !l.paced {
		l.begin(c)
	}
}

// begin claims the next sequence number for c and sends its request.
func (l *eventLoop) begin(c *loopConn) {
	seq, ok := l.rs.claim()
	if !ok || l.rs.stopped.Load() {
		l.finish(c)
		return
	}
	now := l.now()
	l.start(c, seq, now, now)
}

// start sends request seq, due at, on c.
func (l *eventLoop) start(c *loopConn, seq uint64, at, now time.Duration) {
	rs := l.rs
	i := seq % uint64(len(rs.targets))
	t := &rs.targets[i]
	l.rec.start(&c.r, seq, rs.labelAt(i, at), at, now, rs.worker)
	c.r.BytesOut = int64(len(t.Body))
	l.inFlight++
	c.end = 0
	if l.paced {
		c.flyIdx = len(l.flying)
		l.flying = append(l.flying, c)
	}
	c.req = l.e.fc.request(t)
	if c.req.err != "" {
		l.fail(c, requestMessage(c.req.err))
		return
	}
	c.start, c.hop = now, 0
	c.deadline = now + l.e.fc.timeout
	l.deadline = min(l.deadline, c.deadline)
	l.send(c)
}

// send starts the exchange of c.req: on the open connection if it goes to
// the same address, else on a new one.
func (l *eventLoop) send(c *loopConn) {
	c.gotByte, c.wrote = false, 0
	if c.p == nil {
		// Retired while idle (open model): buffers again.
		c.rbuf, c.p = make([]byte, fastReadBuffer), newLoopParser()
	}
	c.p.reset(c.req.head)
	if c.fd >= 0 && c.addr != c.req.addr {
		l.closeConn(c)
	}
	if c.fd < 0 {
		l.dial(c)
		return
	}
	c.state = loopWriting
	l.write(c)
}

// handle advances c after epoll reported an event on it. hup says the
// peer closed or reset the connection: a read that returns the last bytes
// does not return the end too, and no further event would come.
func (l *eventLoop) handle(c *loopConn, hup bool) {
	switch c.state {
	case loopConnecting:
		errno, err := syscall.GetsockoptInt(c.fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
		if err == nil && errno == 0 {
			// Writable without an error: connected, unless it is still in
			// progress (a spurious event).
			if _, perr := syscall.Getpeername(c.fd); perr == syscall.ENOTCONN {
				return
			}
			c.r.Connect += l.now() - c.dialStart
			c.state = loopWriting
			l.writeThenRead(c, hup)
			return
		}
		if err == nil {
			err = syscall.Errno(errno)
		}
		l.closeConn(c)
		l.dialFailed(c, "connect", err)
	case loopWriting:
		l.writeThenRead(c, hup)
	case loopReading:
		l.read(c, hup)
	}
}

// writeThenRead writes from an event: this event may also have said that
// bytes arrived (a server may answer early), and no other event will, so
// it reads too once the request is out.
func (l *eventLoop) writeThenRead(c *loopConn, hup bool) {
	l.write(c)
	if c.state == loopReading {
		l.read(c, hup)
	}
}

// write writes what is left of the request. It does not try to read: the
// response cannot be there yet, and epoll says when it is.
func (l *eventLoop) write(c *loopConn) {
	raw := c.req.raw
	for c.wrote < len(raw) {
		n, errno := sysWrite(c.fd, raw[c.wrote:])
		switch {
		case errno == syscall.EAGAIN:
			return
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			l.ioFailed(c, "write", errno)
			return
		}
		c.wrote += n
	}
	c.state = loopReading
}

// read reads what arrived and parses it. Unless hup, it stops when a read
// returns less than it asked for: the socket is drained, and epoll reports
// the next bytes, so no read comes back empty.
func (l *eventLoop) read(c *loopConn, hup bool) {
	for {
		if c.rlen == len(c.rbuf) {
			// Only an incomplete head keeps bytes: make room for more.
			if len(c.rbuf) >= loopMaxHead {
				l.fail(c, parseMessage(errFastHeaderTooLarge))
				return
			}
			c.rbuf = append(c.rbuf, make([]byte, len(c.rbuf))...)
		}
		space := len(c.rbuf) - c.rlen
		var n int
		var errno syscall.Errno
		at := time.Duration(-1) // when what was read arrived, if the kernel said
		if l.stamps {
			if !c.gotByte {
				// The first read takes the start of the response only, so
				// its stamp is when the first segment arrived.
				space = min(space, loopFirstRead)
			}
			n, at, errno = l.recv(c.fd, c.rbuf[c.rlen:c.rlen+space])
		} else {
			n, errno = sysRead(c.fd, c.rbuf[c.rlen:])
		}
		switch {
		case errno == syscall.EAGAIN:
			return
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			l.ioFailed(c, "read", errno)
			return
		}
		eof := n == 0
		if eof && !c.gotByte && l.retry(c) {
			return
		}
		if at >= 0 {
			c.end = at
		}
		if n > 0 && !c.gotByte {
			c.gotByte = true
			if at < 0 {
				at = l.now()
			}
			c.r.FirstByte = max(0, at-c.start)
		}
		c.rlen += n
		used, done, err := c.p.feed(c.rbuf[:c.rlen], eof)
		if err != nil {
			l.fail(c, parseMessage(err))
			return
		}
		if done {
			l.complete(c, used < c.rlen)
			return
		}
		if used > 0 {
			c.rlen = copy(c.rbuf, c.rbuf[used:c.rlen])
		}
		if eof {
			// Unreachable: the parser ends a response at EOF, one way or
			// the other.
			l.fail(c, parseMessage(io.EOF))
			return
		}
		if n < space && !hup {
			// The socket is drained; epoll reports the next bytes.
			if l.harvest {
				// A response still coming when the loop woke for a tick:
				// it may be larger than the socket buffer, and then the
				// server waited for this read. Wake for responses from now
				// on.
				l.lazy = false
				l.rs.lazyOff.Store(true)
			}
			return
		}
	}
}

// complete finishes an exchange whose response was read, following a
// redirect if there is one. extra says bytes came after the response: the
// connection is out of step.
func (l *eventLoop) complete(c *loopConn, extra bool) {
	resp := &c.p.resp
	c.r.Status, c.r.BytesIn = uint16(resp.status), resp.bytesIn
	c.rlen = 0
	if resp.close || c.req.close || extra {
		l.closeConn(c)
	} else {
		c.used = true
	}
	next := c.redirs.next(l.e.fc, c.req, resp)
	switch {
	case next == nil:
		l.record(c)
	case next.err != "":
		l.fail(c, redirectMessage(next.err))
	case c.hop >= l.e.fc.redirects:
		l.fail(c, l.e.fc.tooManyHops)
	default:
		c.hop++
		c.req = next
		l.send(c)
	}
}

// fail records the request of c with an error and closes the connection.
func (l *eventLoop) fail(c *loopConn, err string) {
	c.r.Error = err
	c.end = 0
	if c.req != nil && c.req.err == "" {
		c.r.Status, c.r.BytesIn = uint16(c.p.resp.status), c.p.resp.bytesIn
	}
	l.closeConn(c)
	l.record(c)
}

// record hands the result of c's request to the recorder and frees c.
func (l *eventLoop) record(c *loopConn) {
	now := l.now()
	end := now
	if c.end > 0 {
		// The kernel's arrival time of the last byte, kept within the
		// exchange in case the wall clock stepped.
		end = min(max(c.end, c.start), now)
	}
	l.rec.end(&c.r, end)
	l.inFlight--
	c.state = loopFree
	c.req = nil
	if l.harvest {
		l.lazyDone++
	}
	if l.paced {
		last := l.flying[len(l.flying)-1]
		last.flyIdx = c.flyIdx
		l.flying[c.flyIdx] = last
		l.flying[len(l.flying)-1] = nil
		l.flying = l.flying[:len(l.flying)-1]
		l.release(c, now)
	}
	l.rec.add(&c.r, now)
}

// finish retires c: the run has no more requests for it.
func (l *eventLoop) finish(c *loopConn) {
	l.closeConn(c)
	c.state = loopFinished
	l.live--
	l.rs.stats.Workers.Add(-1)
}

// flush hands on the recorder's batch and publishes the loop's counts.
func (l *eventLoop) flush() {
	l.rec.flush()
	l.rs.lazyDone.Add(l.lazyDone)
	l.lazyDone = 0
}

// expire fails the requests whose deadline passed and finds the next
// deadline.
func (l *eventLoop) expire(now time.Duration) {
	l.deadline = 1<<63 - 1
	for _, c := range l.conns {
		if c.state < loopConnecting || c.state > loopReading {
			continue
		}
		if c.deadline <= now {
			l.fail(c, fastTimeout)
			l.pump(c)
			if c.state < loopConnecting || c.state > loopReading {
				continue
			}
		}
		l.deadline = min(l.deadline, c.deadline)
	}
}

// failAll fails every request in flight.
func (l *eventLoop) failAll(err string) {
	for _, c := range l.conns {
		if c.state >= loopConnecting && c.state <= loopReading {
			l.fail(c, err)
		}
	}
}

func (l *eventLoop) canceled() bool {
	return l.rs.stopped.Load() && l.rs.reqCtx.Err() != nil
}

func (l *eventLoop) closeConn(c *loopConn) {
	if c.fd >= 0 {
		syscall.Close(c.fd) // also leaves the epoll set
		c.fd = -1
		if l.paced {
			l.rs.stats.Workers.Add(-1)
		}
	}
	c.used, c.rlen = false, 0
	if c.state != loopFinished {
		c.state = loopFree
	}
}
