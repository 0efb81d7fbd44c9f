package attack

import (
	"errors"
	"io"
	"net/http"
	"syscall"
)

// Every client resends a request at most once, and only when all of these
// hold: the request went out on a reused keep-alive connection, that
// connection failed (EOF, reset, broken pipe) before a single byte of the
// response arrived, and the request is idempotent. Such a failure usually
// means the server closed the idle connection as the request arrived, but
// it may also have read the request first, so a request that must not be
// repeated is failed instead. The result of a resent request is flagged
// result.Resent and reports count them: the server may have seen it twice.

// idempotent reports whether a request may be repeated: its method is
// idempotent by RFC 9110 §9.2.2 (GET, HEAD, OPTIONS, TRACE, PUT, DELETE;
// no method means GET), or it carries an Idempotency-Key or
// X-Idempotency-Key header, which net/http too takes as the client's
// promise that a repeat is harmless.
func idempotent(method string, h http.Header) bool {
	switch method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return hasHeader(h, "Idempotency-Key") || hasHeader(h, "X-Idempotency-Key")
}

// hasHeader reports whether h has the field key, in any letter case (target
// headers keep the case they were given in).
func hasHeader(h http.Header, key string) bool {
	for k := range h {
		if fastFold(k, key) {
			return true
		}
	}
	return false
}

// connLost reports whether err says the server closed or reset the
// connection.
func connLost(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}
