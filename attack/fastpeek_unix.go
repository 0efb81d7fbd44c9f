//go:build unix

package attack

import (
	"net"
	"syscall"
)

// fastPeeker tells whether the peer of a connection has closed it,
// without reading from it: a non-blocking MSG_PEEK receive that finds the
// end of the stream (or an error) instead of "no data yet".
type fastPeeker struct {
	rc   syscall.RawConn
	fn   func(fd uintptr) bool // peekFD, as a func value made once
	gone bool
}

// reset makes p watch nc.
func (p *fastPeeker) reset(nc net.Conn) {
	p.rc = nil
	if sc, ok := nc.(syscall.Conn); ok {
		p.rc, _ = sc.SyscallConn()
	}
	if p.fn == nil {
		p.fn = p.peekFD
	}
}

// closed reports whether the peer closed or reset the connection. Bytes
// waiting (a response nobody asked for) count as alive here; the caller
// sees them buffered once it reads.
func (p *fastPeeker) closed() bool {
	if p.rc == nil {
		return false
	}
	p.gone = false
	if err := p.rc.Read(p.fn); err != nil {
		return true
	}
	return p.gone
}

func (p *fastPeeker) peekFD(fd uintptr) bool {
	var b [1]byte
	n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	p.gone = err == nil && n == 0 || err != nil && err != syscall.EAGAIN && err != syscall.EINTR
	return true // never wait for the socket to be readable
}
