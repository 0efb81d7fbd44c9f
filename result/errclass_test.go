package result

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
)

func TestErrorClass(t *testing.T) {
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	op := func(name string, err error) error {
		return &net.OpError{Op: name, Net: "tcp", Addr: remote, Err: err}
	}
	sys := os.NewSyscallError
	urlErr := func(err error) error { return &url.Error{Op: "Get", URL: "http://127.0.0.1:8080/", Err: err} }
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{urlErr(op("dial", sys("socket", syscall.EMFILE))), ClassLocal},
		{op("dial", sys("socket", syscall.ENFILE)), ClassLocal},
		{op("dial", sys("connect", syscall.EADDRNOTAVAIL)), ClassLocal},
		{op("write", sys("write", syscall.ENOBUFS)), ClassLocal},
		{urlErr(op("dial", sys("connect", syscall.ECONNREFUSED))), ClassRefused},
		{urlErr(op("read", sys("read", syscall.ECONNRESET))), ClassReset},
		{op("write", sys("write", syscall.EPIPE)), ClassReset},
		{op("dial", sys("connect", syscall.EHOSTUNREACH)), ClassUnreachable},
		{op("dial", sys("connect", syscall.ETIMEDOUT)), ClassTimeout},
		{op("read", os.ErrDeadlineExceeded), ClassTimeout},
		{urlErr(context.DeadlineExceeded), ClassTimeout},
		{fmt.Errorf("send: %w", context.Canceled), ClassCanceled},
		{urlErr(op("dial", &net.DNSError{Err: "no such host", Name: "nosuch.invalid", IsNotFound: true})), ClassDNS},
		{&net.DNSError{Err: "i/o timeout", Name: "slow.invalid", IsTimeout: true}, ClassDNS},
		{urlErr(io.EOF), ClassEOF},
		{fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), ClassEOF},
		{urlErr(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), ClassTLS},
		{errors.New(`net/http: HTTP/1.x transport connection broken: malformed HTTP response "junk"`), ClassProtocol},
		{errors.New("net/http: server response headers exceeded 1048576 bytes; aborted"), ClassProtocol},
		{urlErr(errors.New("stopped after 10 redirects")), ClassRedirect},
		{urlErr(errors.New(`unsupported protocol scheme "ftp"`)), ClassRequest},
		{errors.New("something new"), ClassOther},
	}
	for _, tt := range tests {
		if got := ErrorClass(tt.err); got != tt.want {
			t.Errorf("ErrorClass(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestClassOf(t *testing.T) {
	tests := []struct{ msg, want string }{
		// Written by surge's clients.
		{"timeout", ClassTimeout},
		{"canceled: run stopped", ClassCanceled},
		{"net/http: request canceled (Client.Timeout exceeded while reading body)", ClassTimeout},
		{"reset: read tcp 127.0.0.1:8080: read: connection reset by peer", ClassReset},
		{"local: dial tcp 127.0.0.1:8080: socket: too many open files", ClassLocal},
		{"eof: EOF", ClassEOF},
		{"other: something new", ClassOther},
		// Written by vegeta or by surge before classes.
		{`Get "http://127.0.0.1:8080/": read tcp 127.0.0.1:54321->127.0.0.1:8080: read: connection reset by peer`, ClassReset},
		{`Get "http://127.0.0.1:8080/": dial tcp 127.0.0.1:8080: socket: too many open files`, ClassLocal},
		{"dial tcp 127.0.0.1:1: connect: connection refused", ClassRefused},
		{`Get "http://x/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, ClassTimeout},
		{`Get "http://127.0.0.1:8080/": EOF`, ClassEOF},
		{"unexpected EOF", ClassEOF},
		{"dial tcp: lookup nosuch.invalid: no such host", ClassDNS},
		{"tls: failed to verify certificate: x509: certificate signed by unknown authority", ClassTLS},
		{"malformed status line", ClassProtocol},
		{"read: no route to host", ClassUnreachable},
		// Not transport failures.
		{"500 Internal Server Error", ""},
		{"me is authorized", ""},
		{"no timeout", ""},
		{"timeouts: 3", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ClassOf(tt.msg); got != tt.want {
			t.Errorf("ClassOf(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}

func TestClassError(t *testing.T) {
	tests := []struct{ class, msg, want string }{
		{ClassReset, "read tcp 127.0.0.1:8080: read: connection reset by peer", "reset: read tcp 127.0.0.1:8080: read: connection reset by peer"},
		{ClassTimeout, "timeout", "timeout"},
		{ClassCanceled, "canceled: run stopped", "canceled: run stopped"},
		{ClassTLS, "tls: handshake failure", "tls: handshake failure"},
		{ClassTLS, "tlsx", "tls: tlsx"},
		{"", "500 Internal Server Error", "500 Internal Server Error"},
	}
	for _, tt := range tests {
		if got := ClassError(tt.class, tt.msg); got != tt.want {
			t.Errorf("ClassError(%q, %q) = %q, want %q", tt.class, tt.msg, got, tt.want)
		}
	}
}

// FuzzClassOf checks that ClassOf returns a class or "" for any message,
// and that a message made by ClassError has the class it was made with.
func FuzzClassOf(f *testing.F) {
	for _, s := range []string{"timeout", "reset: read tcp 127.0.0.1:8080: read: connection reset by peer",
		"500 Internal Server Error", `Get "http://x/": EOF`, "tls:", ":", "local:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		if c := ClassOf(msg); c != "" && !isClass(c) {
			t.Fatalf("ClassOf(%q) = %q, not a class", msg, c)
		}
		for _, c := range ErrorClasses {
			if got := ClassOf(ClassError(c, msg)); got != c {
				t.Fatalf("ClassOf(ClassError(%q, %q)) = %q", c, msg, got)
			}
		}
	})
}
