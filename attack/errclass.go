package attack

import (
	"errors"
	"net"
	"sync"

	"github.com/surge-dev/surge/result"
)

// Every client records a failed exchange the same way: the error's class
// (result.ClassError), then what failed, naming the remote address but not
// the local one: "reset: read tcp 127.0.0.1:8080: read: connection reset
// by peer". net's own messages carry the local address and so its
// ephemeral port, which would make every failure of a reset storm a
// message of its own in the results file and the report.

// errorMessage is the recorded Error of err, a failed exchange. A timeout
// is "timeout" and a cancelled request "canceled: run stopped", whatever
// the client and the phase.
func errorMessage(err error) string {
	class := result.ErrorClass(err)
	switch class {
	case result.ClassTimeout:
		return fastTimeout
	case result.ClassCanceled:
		return fastCanceled
	}
	if oe, ok := errors.AsType[*net.OpError](err); ok && oe.Err != nil {
		return result.ClassError(class, opMessage(oe.Op, oe.Net, oe.Addr, oe.Err.Error()))
	}
	return result.ClassError(class, err.Error())
}

// opMessage writes a net.OpError as net does, without its local address:
// "read tcp 127.0.0.1:8080: read: connection reset by peer".
func opMessage(op, network string, addr net.Addr, cause string) string {
	s := op
	if network != "" {
		s += " " + network
	}
	if addr != nil {
		s += " " + addr.String()
	}
	return s + ": " + cause
}

// classed caches the classified messages of constant errors (the fast
// parser's), so that a storm of them costs no allocation per request.
var classed sync.Map // fastError → string

// parseMessage is the recorded Error of a malformed response or of an end
// of stream while reading one.
func parseMessage(err error) string {
	fe, ok := err.(fastError)
	if !ok {
		return errorMessage(err)
	}
	if s, ok := classed.Load(fe); ok {
		return s.(string)
	}
	s := result.ClassError(result.ClassProtocol, string(fe))
	classed.Store(fe, s)
	return s
}

// requestMessage is the recorded Error of a request that cannot be built.
func requestMessage(msg string) string { return result.ClassError(result.ClassRequest, msg) }

// redirectMessage is the recorded Error of a redirect that cannot be
// followed.
func redirectMessage(msg string) string { return result.ClassError(result.ClassRedirect, msg) }
