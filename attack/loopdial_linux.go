//go:build linux

package attack

import (
	"cmp"
	"context"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"github.com/surge-dev/surge/result"
)

// How an event loop opens and loses connections: names resolved once per
// attack, non-blocking connects waited for in epoll, resends after a
// reused connection was lost, and the raw reads and writes of its sockets.

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
		l.rs.stats.Workers.Add(1)
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
