package attack

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// fastParseSeeds are well-formed and malformed responses for the parser
// tests and the fuzz corpus.
var fastParseSeeds = []string{
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n",
	"HTTP/1.0 200 OK\r\n\r\nuntil close",
	"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
	"HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
	"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
	"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n",
	"HTTP/1.1 2x0\r\n\r\n",
	"garbage",
	"",
}

func TestFastReadResponse(t *testing.T) {
	for _, tc := range []struct {
		resp    string
		head    bool
		status  int
		bytesIn int64
		close   bool
		err     string
		rest    string // left unread
	}{
		{resp: fastParseSeeds[0], status: 200, bytesIn: 2},
		{resp: fastParseSeeds[1], status: 200, bytesIn: 3},
		{resp: fastParseSeeds[2], status: 200, bytesIn: 11, close: true},
		{resp: fastParseSeeds[3], status: 204},
		{resp: fastParseSeeds[5], status: 304},
		{resp: fastParseSeeds[6], status: 101, close: true},
		{resp: fastParseSeeds[7], status: 200, bytesIn: 1, close: true, rest: "HTTP/1.1 200 OK\r\n\r\n"},
		{resp: "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n", head: true, status: 200},
		{resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", head: true, status: 200},
		{resp: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n1\r\n", status: 200, bytesIn: 3, close: true},
		{resp: "HTTP/1.1 200\r\ncontent-length:  3 \r\nX: folded\r\n  continued\r\n\r\nabc", status: 200, bytesIn: 3},
		{resp: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", status: 200, bytesIn: 3},
		{resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", status: 200, err: "unexpected EOF", close: true},
		{resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", err: "unsupported transfer encoding", close: true},
		{resp: "HTTP/1.1 099 Low\r\n\r\n", err: "malformed HTTP status code", close: true},
		{resp: "HTTP/1.1 200OK\r\n\r\n", err: "malformed HTTP status code", close: true},
		{resp: "HTTP/1.1 200 OK\r\n: empty key\r\n\r\n", err: "malformed header line", close: true},
		{resp: "", err: "EOF", close: true},
	} {
		br := bufio.NewReader(strings.NewReader(tc.resp))
		var r fastResponse
		err := fastReadResponse(br, tc.head, &r)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		rest, _ := io.ReadAll(br)
		if err != nil {
			rest = nil // what an error leaves unread does not matter
		}
		if gotErr != tc.err || r.status != tc.status || r.bytesIn != tc.bytesIn || r.close != tc.close || string(rest) != tc.rest {
			t.Errorf("%q (head %v):\ngot  status %d, %d bytes, close %v, error %q, rest %q\nwant status %d, %d bytes, close %v, error %q, rest %q",
				tc.resp, tc.head, r.status, r.bytesIn, r.close, gotErr, rest, tc.status, tc.bytesIn, tc.close, tc.err, tc.rest)
		}
	}
}

// FuzzParseResponse feeds arbitrary bytes to the parser as the responses
// of a keep-alive connection: it must not panic or loop, count bytes it
// did not read, or accept a response net/http frames differently.
func FuzzParseResponse(f *testing.F) {
	for _, s := range fastParseSeeds {
		f.Add([]byte(s), false, false)
	}
	f.Add([]byte(fastParseSeeds[0]), true, true)
	f.Fuzz(func(t *testing.T, data []byte, head, small bool) {
		size := fastReadBuffer
		if small {
			size = 16 // bufio's minimum: every line is a long line
		}
		rd := bytes.NewReader(data)
		br := bufio.NewReaderSize(rd, size)
		var resp fastResponse
		for i := 0; ; i++ {
			before := rd.Len() + br.Buffered()
			err := fastReadResponse(br, head, &resp)
			left := rd.Len() + br.Buffered()
			if resp.bytesIn < 0 || resp.bytesIn > int64(before) {
				t.Fatalf("response %d: %d body bytes counted from %d bytes", i, resp.bytesIn, before)
			}
			if resp.status != 0 && (resp.status < 100 || resp.status > 999) {
				t.Fatalf("response %d: status %d", i, resp.status)
			}
			if err != nil {
				if !resp.close {
					t.Fatalf("response %d: error %v but the connection is reusable", i, err)
				}
				return
			}
			if left >= before {
				t.Fatalf("response %d: success without reading a byte", i)
			}
			if i == 0 && !small {
				fastCompareNetHTTP(t, data, head, &resp)
			}
			if resp.close {
				return
			}
		}
	})
}

// fastCompareNetHTTP checks that net/http, where it accepts the first
// response of data as a final response, agrees on its status and body
// size.
func fastCompareNetHTTP(t *testing.T, data []byte, head bool, resp *fastResponse) {
	method := "GET"
	if head {
		method = "HEAD"
	}
	hr, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), &http.Request{Method: method})
	if err != nil || hr.StatusCode < 200 {
		return
	}
	n, err := io.Copy(io.Discard, hr.Body)
	if err != nil {
		return
	}
	if hr.StatusCode != resp.status || n != resp.bytesIn {
		t.Fatalf("net/http reads status %d with %d body bytes, the fast parser %d with %d", hr.StatusCode, n, resp.status, resp.bytesIn)
	}
}
