//go:build linux

package attack

import (
	"cmp"
	"context"
	"io"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/surge-dev/surge/result"
)

// The event-loop engine runs the attacks of a FastClient the way wrk does:
// a few goroutines (half of GOMAXPROCS), each locked to its thread and
// owning a share of the connections, each connection a state machine driven
// by an edge-triggered epoll set over raw non-blocking sockets. A request
// costs a write and a read: no read that finds nothing yet, no goroutine
// parked in the netpoller and woken again, no hand-off between threads.
//
// At max rate it records what work() records: a request is due when it
// goes out (Intended = Sent), sequence numbers come from the Attacker's
// shared counter, Count, Duration and stops are obeyed the same way, and
// the results go to the sink in batches. With a pacer (open model, see
// looppace_linux.go) each loop owns every n-th sequence number and sends
// it at its intended time on a free connection, opening one when none is
// free and the cap allows.

// loopWait bounds how long a loop sleeps in epoll_wait, so it notices a
// stop and flushes held results.
const loopWait = 20 * time.Millisecond

// loopMaxHead bounds the read buffer while a response head (with its 1xx
// responses) is incomplete.
const loopMaxHead = 8 << 20

// startLoops starts the event loops of a max-rate attack, or returns why
// it cannot: the client is not a FastClient, or epoll is unavailable.
func (a *Attacker) startLoops() error {
	fc, ok := a.client.(*FastClient)
	if !ok {
		return errLoopClient
	}
	if a.flow != nil {
		return errLoopFlow
	}
	e := &loopEngine{a: a, fc: fc, addrs: make(map[string]*loopAddr)}
	// Half the processors: a loop with many connections gets many events
	// from each epoll_wait, and on 2 cores one loop spent 25 % less CPU
	// per request than two (the target shares the machine in most runs).
	n := max(1, min(runtime.GOMAXPROCS(0)/2, a.cfg.Connections))
	if a.cfg.Loops > 0 {
		n = min(a.cfg.Loops, a.cfg.Connections)
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
		l := &eventLoop{e: e, a: a, epfd: fd, batch: a.batches.Get().([]result.Result), rawOK: rawOK}
		// Spread the connections evenly: the first loops take the remainder.
		conns := a.cfg.Connections / n
		if i < a.cfg.Connections%n {
			conns++
		}
		if a.pacer != nil {
			// Connections open as ticks need them.
			l.paced, l.seq, l.stride, l.maxConns = true, uint64(i), uint64(n), conns
			loops = append(loops, l)
			continue
		}
		for range conns {
			l.conns = append(l.conns, &loopConn{idx: len(l.conns), fd: -1, p: newLoopParser(), rbuf: make([]byte, fastReadBuffer)})
		}
		loops = append(loops, l)
	}
	if a.pacer != nil {
		for _, l := range loops {
			a.wg.Add(1)
			go l.runPaced()
		}
		return nil
	}
	a.stats.Workers.Add(int64(a.cfg.Connections))
	for _, l := range loops {
		a.wg.Add(1)
		go l.run()
	}
	return nil
}

// loopEngine is what the loops of one attack share.
type loopEngine struct {
	a  *Attacker
	fc *FastClient

	mu    sync.Mutex
	addrs map[string]*loopAddr // host:port → resolved socket addresses
}

// loopAddr is a resolved host:port: the addresses to try in order, or why
// it did not resolve.
type loopAddr struct {
	aps []netip.AddrPort
	err string
}

// resolve looks addr up once per attack; later requests reuse the answer.
func (e *loopEngine) resolve(addr string) *loopAddr {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ra := e.addrs[addr]; ra != nil {
		return ra
	}
	ra := &loopAddr{}
	e.addrs[addr] = ra
	host, port, err := net.SplitHostPort(addr)
	var pn uint64
	if err == nil {
		pn, err = parsePort(port)
	}
	if err != nil {
		ra.err = requestMessage("dial tcp " + addr + ": " + err.Error())
		return ra
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), e.fc.timeout)
		ips, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		cancel()
		if err != nil {
			ra.err = result.ClassError(result.ErrorClass(err), "dial tcp: "+err.Error())
			return ra
		}
	}
	for _, ip := range ips {
		if ip = ip.Unmap(); ip.Zone() == "" {
			ra.aps = append(ra.aps, netip.AddrPortFrom(ip, uint16(pn)))
		}
	}
	if len(ra.aps) == 0 {
		ra.err = result.ClassError(result.ClassDNS, "dial tcp "+addr+": no suitable address")
	}
	return ra
}

func parsePort(s string) (uint64, error) {
	var n uint64
	if s == "" || len(s) > 5 {
		return 0, errLoopPort
	}
	for _, c := range []byte(s) {
		if !fastDigit(c) {
			return 0, errLoopPort
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 65535 {
		return 0, errLoopPort
	}
	return n, nil
}

const errLoopPort fastError = "invalid port"

// errLoopClient says the event loops need a FastClient.
const errLoopClient fastError = "event loop: the client is not a FastClient"

// errLoopFlow says the event loops send targets, not flows.
const errLoopFlow fastError = "event loop: flows run on workers"

// eventLoop is one thread's share of the connections.
type eventLoop struct {
	e      *loopEngine
	a      *Attacker
	epfd   int
	conns  []*loopConn
	events [128]syscall.EpollEvent

	batch []result.Result
	held  time.Duration // Intended of the oldest result in batch
	// Counts not yet published to a.stats; see Stats.
	sent, done, errs int64

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
	// Kernel arrival times (stamp.go): stamps says responses are read
	// with them, lazy that the loop may collect responses when it wakes
	// for a tick, harvest that it is doing so now.
	stamps, lazy, harvest bool
	lazyDone              int64       // responses collected on a tick's wake-up, not yet in a.lazyDone
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
	start     time.Duration // when the request started (offset from a.start)
	deadline  time.Duration
	dialStart time.Duration
	freed     time.Duration // when it last became free (open model)
	flyIdx    int           // in eventLoop.flying (open model)
	end       time.Duration // when the last byte read arrived, by the kernel's stamp; 0 = not known
}

func (l *eventLoop) now() time.Duration { return time.Since(l.a.start) }

// run drives the loop until every connection has finished.
func (l *eventLoop) run() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer l.a.wg.Done()
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
		if l.a.stopped.Load() {
			if l.a.reqCtx.Err() != nil {
				l.failAll(fastCanceled)
			}
			// Connections that never got a request (Count reached) are done.
			for _, c := range l.conns {
				l.pump(c)
			}
		}
		if len(l.batch) > 0 && now-l.held > maxHold {
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
	a := l.a
	seq := a.next.Add(1) - 1
	if a.cfg.Count > 0 && seq >= a.cfg.Count || a.stopped.Load() {
		l.finish(c)
		return
	}
	now := l.now()
	l.start(c, seq, now, now)
}

// start sends request seq, due at, on c.
func (l *eventLoop) start(c *loopConn, seq uint64, at, now time.Duration) {
	a := l.a
	nt := uint64(len(a.cfg.Targets))
	i := seq % nt
	t := &a.cfg.Targets[i]
	c.r = result.Result{Seq: seq, Label: a.labelAt(i, at), Intended: at, Sent: now, Worker: a.cfg.Worker,
		BytesOut: int64(len(t.Body))}
	if a.hasWarmup && a.warmAt(at) {
		c.r.Flags |= result.Warmup
	}
	a.stats.InFlight.Add(1)
	l.inFlight++
	l.sent++
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

// dial opens a connection to c.req.addr and waits for it in epoll.
func (l *eventLoop) dial(c *loopConn) {
	ra := l.e.resolve(c.req.addr)
	if ra.err != "" {
		l.fail(c, ra.err)
		return
	}
	c.addr, c.aps, c.used = c.req.addr, ra.aps, false
	c.dialStart = l.now()
	l.connect(c)
}

// connect tries the next of c.aps.
func (l *eventLoop) connect(c *loopConn) {
	ap := c.aps[0]
	c.aps = c.aps[1:]
	// A Sockaddr is built per connect: Connect writes into it.
	var sa syscall.Sockaddr
	family := syscall.AF_INET
	if ip := ap.Addr(); ip.Is4() {
		sa = &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ip.As4()}
	} else {
		family = syscall.AF_INET6
		sa = &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: ip.As16()}
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		l.dialFailed(c, "socket", err)
		return
	}
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	if l.stamps && syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1) != nil {
		l.stamps, l.lazy = false, false
	}
	err = syscall.Connect(fd, sa)
	if err != nil && err != syscall.EINPROGRESS && err != syscall.EINTR {
		syscall.Close(fd)
		l.dialFailed(c, "connect", err)
		return
	}
	// The connection's index in the loop rides in the event's data.
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLOUT | syscall.EPOLLRDHUP | -syscall.EPOLLET}
	ev.Fd = int32(c.idx)
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		syscall.Close(fd)
		l.dialFailed(c, "epoll_ctl", err)
		return
	}
	c.fd = fd
	c.state = loopConnecting
	if l.paced {
		l.a.stats.Workers.Add(1)
	}
}

// dialFailed tries the next address or fails the request; call is the
// system call that failed. A request that a local resource kept from going
// out (no descriptor, no port) is recorded not sent, unless it is a resend
// or a redirect's next hop: then the server may have seen a request.
func (l *eventLoop) dialFailed(c *loopConn, call string, err error) {
	if len(c.aps) > 0 && !l.canceled() {
		l.connect(c)
		return
	}
	c.r.Connect += l.now() - c.dialStart
	class := result.ErrorClass(err)
	if class == result.ClassLocal && c.hop == 0 && c.r.Flags&result.Resent == 0 {
		c.r.Flags |= result.NotSent
	}
	l.fail(c, result.ClassError(class, "dial tcp "+c.addr+": "+call+": "+err.Error()))
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
				l.a.lazyOff.Store(true)
			}
			return
		}
	}
}

// retry sends an idempotent request once more, on a new connection, if
// the server closed a reused connection before a byte of the response
// arrived (resend.go), and flags the result Resent.
func (l *eventLoop) retry(c *loopConn) bool {
	if !c.used || !c.req.idempotent || c.r.Flags&result.Resent != 0 || l.canceled() {
		return false
	}
	l.closeConn(c)
	c.r.Flags |= result.Resent
	c.wrote = 0
	c.p.reset(c.req.head)
	c.dialStart = l.now()
	l.dial(c)
	return true
}

// ioFailed fails c's request after a read or write error, or resends it.
func (l *eventLoop) ioFailed(c *loopConn, op string, errno syscall.Errno) {
	if !c.gotByte && (errno == syscall.ECONNRESET || errno == syscall.EPIPE || errno == syscall.ECONNABORTED) && l.retry(c) {
		return
	}
	l.fail(c, ioMessage(op, c.addr, errno))
}

// ioMessage is the recorded Error of a failed read or write on a
// connection to addr, as net writes it without the local address.
func ioMessage(op, addr string, errno syscall.Errno) string {
	return result.ClassError(cmp.Or(result.ErrnoClass(errno), result.ClassOther), op+" tcp "+addr+": "+op+": "+errno.Error())
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

// record hands the result of c's request to the batch and frees c.
func (l *eventLoop) record(c *loopConn) {
	a := l.a
	now := l.now()
	end := now
	if c.end > 0 {
		// The kernel's arrival time of the last byte, kept within the
		// exchange in case the wall clock stepped.
		end = min(max(c.end, c.start), now)
	}
	c.r.Latency = end - c.r.Intended
	if c.r.Flags&result.NotSent != 0 {
		// A local resource failure kept it from going out (dialFailed).
		c.r.Latency = 0
		l.sent--
		a.stats.NotSent.Add(1)
	}
	a.stats.InFlight.Add(-1)
	l.inFlight--
	l.done++
	if !c.r.OK() {
		l.errs++
	}
	if len(l.batch) == 0 {
		l.held = c.r.Intended
	}
	l.batch = append(l.batch, c.r)
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
	if len(l.batch) == cap(l.batch) || now-l.held > maxHold {
		l.flush()
	}
}

// finish retires c: the run has no more requests for it.
func (l *eventLoop) finish(c *loopConn) {
	l.closeConn(c)
	c.state = loopFinished
	l.live--
	l.a.stats.Workers.Add(-1)
}

func (l *eventLoop) flush() {
	a := l.a
	a.stats.Sent.Add(l.sent)
	a.stats.Done.Add(l.done)
	a.stats.Errors.Add(l.errs)
	a.lazyDone.Add(l.lazyDone)
	l.sent, l.done, l.errs, l.lazyDone = 0, 0, 0, 0
	if len(l.batch) > 0 {
		a.out <- l.batch
		l.batch = a.batches.Get().([]result.Result)
	}
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
	return l.a.stopped.Load() && l.a.reqCtx.Err() != nil
}

func (l *eventLoop) closeConn(c *loopConn) {
	if c.fd >= 0 {
		syscall.Close(c.fd) // also leaves the epoll set
		c.fd = -1
		if l.paced {
			l.a.stats.Workers.Add(-1)
		}
	}
	c.used, c.rlen = false, 0
	if c.state != loopFinished {
		c.state = loopFree
	}
}

// sysRead and sysWrite call read(2) and write(2) without telling the
// scheduler: on a non-blocking socket they never block.
func sysRead(fd int, p []byte) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	return int(n), errno
}

func sysWrite(fd int, p []byte) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	return int(n), errno
}
