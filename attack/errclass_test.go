package attack

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/report"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/summary"
)

// resetServer reads one request on every connection and resets it
// (SO_LINGER 0): a reset storm.
func resetServer(t *testing.T) string {
	return rawServer(t, func(c net.Conn, br *bufio.Reader) {
		readRawRequest(br)
		c.(*net.TCPConn).SetLinger(0)
	})
}

// TestResetStormErrorSet sends 400 requests to a server that resets every
// connection after reading the request, on every client: each error has a
// class, the messages name no local port, and the report's Error Set has
// a line per class, not one per ephemeral port.
func TestResetStormErrorSet(t *testing.T) {
	url := resetServer(t)
	openEngines(t, func(t *testing.T, run func(context.Context, Config) []result.Result) {
		const n = 400
		rs := run(context.Background(), Config{Targets: get(url), Count: n, Connections: 8, Transport: HTTPConfig{NoKeepAlive: true}})
		checkSeqs(t, rs, n)
		s := summary.New(summary.Options{})
		distinct := map[string]int{}
		for i := range rs {
			r := &rs[i]
			distinct[r.Error]++
			if c := result.ClassOf(r.Error); c != result.ClassReset && c != result.ClassEOF {
				t.Fatalf("result %d: error %q has class %q, want reset or eof", i, r.Error, c)
			}
			if !strings.HasPrefix(r.Error, result.ClassOf(r.Error)+": ") {
				t.Fatalf("result %d: error %q does not start with its class", i, r.Error)
			}
			if strings.Contains(r.Error, "->") {
				t.Fatalf("result %d: error %q names the local address", i, r.Error)
			}
			s.Add(nil, r)
		}
		if len(distinct) <= 3 {
			t.Logf("errors: %v", distinct)
		} else {
			t.Errorf("%d distinct error messages, want at most 3, e.g. %q", len(distinct), rs[0].Error)
		}
		var buf bytes.Buffer
		if err := report.Text(&buf, s, analyze.Diagnose(s), report.Options{}); err != nil {
			t.Fatal(err)
		}
		_, set, ok := strings.Cut(buf.String(), "Error Set:\n")
		if !ok {
			t.Fatalf("no Error Set in\n%s", buf.String())
		}
		set, _, _ = strings.Cut(set, "\n\n")
		lines := strings.Split(set, "\n")
		if len(lines) > 2 {
			t.Errorf("Error Set of %d lines, want one per class (reset, eof), e.g.\n%s", len(lines), strings.Join(lines[:3], "\n"))
		}
		for _, l := range lines {
			if c := result.ClassOf(l); c != result.ClassReset && c != result.ClassEOF {
				t.Errorf("Error Set line %q: class %q, want reset or eof", l, c)
			}
		}
	})
}
