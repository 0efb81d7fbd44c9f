package result

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// Error classes say what kind of failure kept a request from getting a
// complete HTTP response, the same way on every client. A recorded Error
// starts with its class: "reset: read tcp 127.0.0.1:8080: read: connection
// reset by peer", "local: dial tcp 127.0.0.1:8080: socket: too many open
// files", or is the class alone ("timeout"). Messages name the remote
// address but never the local one, whose ephemeral port would make every
// failure a message of its own.
//
// Errors that are not transport failures keep their own text and have no
// class: a failing status ("500 Internal Server Error", which is not an
// Error at all but is listed with them), a failed check of a scenario.
const (
	// ClassTimeout: the request's deadline passed (connect, write or read).
	ClassTimeout = "timeout"
	// ClassCanceled: the run stopped before the request finished.
	ClassCanceled = "canceled"
	// ClassRefused: nothing listened at the address (ECONNREFUSED).
	ClassRefused = "refused"
	// ClassReset: the server reset or closed the connection while the
	// request was written or read (ECONNRESET, EPIPE, ECONNABORTED).
	ClassReset = "reset"
	// ClassEOF: the server closed the connection cleanly before the
	// response, or in the middle of it (io.EOF, io.ErrUnexpectedEOF).
	ClassEOF = "eof"
	// ClassUnreachable: no route to the server (EHOSTUNREACH,
	// ENETUNREACH, ENETDOWN, EHOSTDOWN).
	ClassUnreachable = "unreachable"
	// ClassDNS: the host name did not resolve.
	ClassDNS = "dns"
	// ClassTLS: the TLS handshake or a certificate check failed.
	ClassTLS = "tls"
	// ClassLocal: the generator ran out of a local resource: file
	// descriptors (EMFILE, ENFILE), ephemeral ports or local addresses
	// (EADDRNOTAVAIL), kernel buffers or memory (ENOBUFS, ENOMEM,
	// ENOSPC). It is the generator's failure, not the server's; a request
	// it kept from going out is recorded NotSent.
	ClassLocal = "local"
	// ClassProtocol: the response was malformed or over a limit.
	ClassProtocol = "protocol"
	// ClassRedirect: a redirect could not be followed, or there were too
	// many.
	ClassRedirect = "redirect"
	// ClassRequest: the request could not be built (bad URL, method,
	// header).
	ClassRequest = "request"
	// ClassOther: a transport failure of none of the classes above.
	ClassOther = "other"
)

// ErrorClasses lists every error class.
var ErrorClasses = []string{
	ClassTimeout, ClassCanceled, ClassRefused, ClassReset, ClassEOF, ClassUnreachable,
	ClassDNS, ClassTLS, ClassLocal, ClassProtocol, ClassRedirect, ClassRequest, ClassOther,
}

func isClass(s string) bool {
	switch s {
	case ClassTimeout, ClassCanceled, ClassRefused, ClassReset, ClassEOF, ClassUnreachable,
		ClassDNS, ClassTLS, ClassLocal, ClassProtocol, ClassRedirect, ClassRequest, ClassOther:
		return true
	}
	return false
}

// ErrnoClass returns the class of a system call's error number, or "" when
// it says nothing of one.
func ErrnoClass(errno syscall.Errno) string {
	switch errno {
	case syscall.EMFILE, syscall.ENFILE, syscall.EADDRNOTAVAIL, syscall.ENOBUFS, syscall.ENOMEM, syscall.ENOSPC:
		return ClassLocal
	case syscall.ECONNREFUSED:
		return ClassRefused
	case syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED:
		return ClassReset
	case syscall.ETIMEDOUT:
		return ClassTimeout
	case syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENETDOWN, syscall.EHOSTDOWN:
		return ClassUnreachable
	}
	return ""
}

// ErrorClass returns the class of err, a failure to get a response: one of
// the Class constants, ClassOther when none fits, "" for a nil err.
func ErrorClass(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, context.Canceled) {
		return ClassCanceled
	}
	// Before timeouts: a lookup that timed out never reached the server.
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return ClassDNS
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if c := ErrnoClass(errno); c != "" {
			return c
		}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.As(err, &ne) && ne.Timeout() {
		return ClassTimeout
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ClassEOF
	}
	if c := classOfText(err.Error()); c != "" {
		return c
	}
	return ClassOther
}

// ClassError returns msg as a message of class: "class: msg", or msg itself
// when it already starts with the class (or is the class alone). An empty
// class leaves msg as it is.
func ClassError(class, msg string) string {
	if class == "" || msg == class || strings.HasPrefix(msg, class) && strings.HasPrefix(msg[len(class):], ": ") {
		return msg
	}
	return class + ": " + msg
}

// ClassOf returns the class of a recorded error message: the class it
// starts with, or for a message written without one (by vegeta, or by
// surge before classes), the class its text names. It returns "" for a
// message that is not a transport failure, such as a status line or a
// failed check.
func ClassOf(msg string) string {
	head := msg
	if i := strings.IndexByte(msg, ':'); i >= 0 {
		head = msg[:i]
		if !strings.HasPrefix(msg[i+1:], " ") {
			head = ""
		}
	}
	if isClass(head) {
		return head
	}
	return classOfText(msg)
}

// classOfText recognises a transport failure by the words Go, net/http and
// surge's clients use for it, or returns "". The phrases are specific, so
// that a check named "no timeout" is not taken for one.
func classOfText(s string) string {
	has := func(subs ...string) bool {
		for _, sub := range subs {
			if strings.Contains(s, sub) {
				return true
			}
		}
		return false
	}
	switch {
	case has("too many open files", "cannot assign requested address", "no buffer space available",
		"cannot allocate memory", "no space left on device"):
		return ClassLocal
	// Timeouts before cancels: net/http words a client timeout as
	// "request canceled (Client.Timeout exceeded …)".
	case has("i/o timeout", "deadline exceeded", "Client.Timeout exceeded", "connection timed out",
		"timeout awaiting", "TLS handshake timeout"):
		return ClassTimeout
	case has("context canceled", "request canceled", "operation was canceled"):
		return ClassCanceled
	case has("connection refused"):
		return ClassRefused
	case has("connection reset", "broken pipe", "connection abort"):
		return ClassReset
	case has("no route to host", "network is unreachable", "host is down", "network is down"):
		return ClassUnreachable
	case has("no such host", "server misbehaving", "dial tcp: lookup ", "dial udp: lookup ") ||
		strings.HasPrefix(s, "lookup "):
		return ClassDNS
	case has("tls: ", "x509: "):
		return ClassTLS
	case s == "EOF" || strings.HasSuffix(s, ": EOF") || has("unexpected EOF", "server closed idle connection"):
		return ClassEOF
	case has("malformed ", "bad Content-Length", "bad chunk", "header too large", "headers exceeded",
		"unsupported transfer encoding", "too many 1xx", "response incomplete", "http2: "):
		return ClassProtocol
	case has("redirects", "Location header"):
		return ClassRedirect
	case has("unsupported protocol scheme", "no Host in request URL", "invalid method", "invalid header field",
		"invalid Host", "invalid URL", "invalid port", "missing port"):
		return ClassRequest
	}
	return ""
}
