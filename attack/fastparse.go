package attack

import (
	"bufio"
	"bytes"
	"io"
	"math"
)

// fastError is a parse error of the fast client. Its values are constants,
// so returning one allocates nothing.
type fastError string

func (e fastError) Error() string { return string(e) }

// Errors of a malformed response. Each closes the connection.
const (
	errFastStatusLine       fastError = "malformed status line"
	errFastVersion          fastError = "malformed HTTP version"
	errFastStatusCode       fastError = "malformed HTTP status code"
	errFastHeaderLine       fastError = "malformed header line"
	errFastHeaderTooLarge   fastError = "response header too large"
	errFastContentLength    fastError = "bad Content-Length"
	errFastTransferEncoding fastError = "unsupported transfer encoding"
	errFastChunkSize        fastError = "bad chunk size"
	errFastChunkEnd         fastError = "malformed chunked encoding"
	errFastTooMany1xx       fastError = "too many 1xx informational responses"
)

const (
	// maxHeadBytes bounds the status line and headers of one response
	// head (each 1xx response's on its own), on every client: 1 MiB, as
	// net/http's server bounds request heads. FastClient and the event
	// loop also bound trailers with it.
	maxHeadBytes = 1 << 20
	// fastMaxHeaderBytes is maxHeadBytes for the fast parsers.
	fastMaxHeaderBytes = maxHeadBytes
	// fastMax1xx bounds the interim responses before the final one, as
	// net/http does.
	fastMax1xx = 5
)

// fastResponse is what fastReadResponse learned about one response. Its
// location buffer is reused from response to response.
type fastResponse struct {
	status   int   // of the final response; 0 until its status line is read
	bytesIn  int64 // body bytes read, decoded from chunks
	close    bool  // the connection cannot carry another request
	location []byte
}

// fastHead is the framing of one response read from its headers.
type fastHead struct {
	status        int
	minor         int   // HTTP/1.minor
	contentLength int64 // -1 if absent
	chunked       bool
	connClose     bool
	keepAlive     bool
}

// fastReadResponse reads one response to a request (head: a HEAD request) from
// br, skipping interim 1xx responses, and discards its body. It allocates
// nothing once resp.location has grown. On error the connection must be
// closed; resp.status and resp.bytesIn tell how far it got.
func fastReadResponse(br *bufio.Reader, head bool, resp *fastResponse) error {
	resp.status, resp.bytesIn, resp.close = 0, 0, true
	resp.location = resp.location[:0]
	var h fastHead
	for n := 0; ; n++ {
		if err := fastReadHead(br, &h, resp); err != nil {
			return err
		}
		// 101 Switching Protocols is final: the connection now speaks
		// another protocol.
		if h.status >= 200 || h.status == 101 {
			break
		}
		if n == fastMax1xx {
			return errFastTooMany1xx
		}
	}
	resp.status = h.status
	reusable := !h.connClose && (h.minor > 0 || h.keepAlive) && h.status != 101
	switch {
	case head || h.status < 200 || h.status == 204 || h.status == 304:
		// No body, whatever the headers say.
	case h.chunked && h.minor > 0: // HTTP/1.0 has no chunks; net/http ignores the header too
		if err := fastReadChunked(br, resp); err != nil {
			return err
		}
	case h.contentLength >= 0:
		n, err := br.Discard(int(h.contentLength))
		resp.bytesIn = int64(n)
		if err != nil {
			return fastUnexpectedEOF(err)
		}
	default:
		// Delimited by the end of the connection.
		n, err := br.Discard(math.MaxInt)
		resp.bytesIn = int64(n)
		if err != io.EOF {
			return err
		}
		reusable = false
	}
	resp.close = !reusable
	return nil
}

// fastReadHead reads a status line and headers into h. It copies a 3xx
// response's Location into resp.location. The header lines are read
// inline, not by a function per line, because every response pays for
// them.
func fastReadHead(br *bufio.Reader, h *fastHead, resp *fastResponse) error {
	*h = fastHead{contentLength: -1}
	budget, err := fastReadStatus(br, h)
	if err != nil {
		return err
	}
	for {
		line, err := br.ReadSlice('\n')
		if budget -= len(line); budget < 0 {
			return errFastHeaderTooLarge
		}
		if err == bufio.ErrBufferFull {
			if err := fastSkipLongHeader(br, line, h, &budget); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fastUnexpectedEOF(err)
		}
		line = fastEOL(line)
		if len(line) == 0 {
			return nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			// An obsolete folded continuation line: its value is ignored.
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !fastHeaderKey(line[:colon]) {
			return errFastHeaderLine
		}
		key, val := line[:colon], fastTrim(line[colon+1:])
		switch {
		case fastFold(key, "Content-Length"):
			n, ok := fastDecimal(val)
			if !ok || h.contentLength >= 0 && h.contentLength != n {
				return errFastContentLength
			}
			h.contentLength = n
		case fastFold(key, "Transfer-Encoding"):
			if h.chunked || !fastFold(val, "chunked") {
				return errFastTransferEncoding
			}
			h.chunked = true
		case fastFold(key, "Connection"):
			h.connClose = h.connClose || fastHasToken(val, "close")
			h.keepAlive = h.keepAlive || fastHasToken(val, "keep-alive")
		case h.status/100 == 3 && fastFold(key, "Location"):
			resp.location = append(resp.location[:0], val...)
		}
	}
}

// fastReadStatus reads the status line of a response head into h and
// returns what is left of the head's byte budget.
func fastReadStatus(br *bufio.Reader, h *fastHead) (budget int, err error) {
	line, err := br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return 0, errFastStatusLine
	case err != nil && len(line) == 0, err == errFastMore:
		return 0, err
	}
	if perr := fastStatusLine(fastEOL(line), h); perr != nil {
		return 0, perr
	}
	if err != nil {
		return 0, fastUnexpectedEOF(err)
	}
	return fastMaxHeaderBytes - len(line), nil
}

// fastSkipLongHeader discards a header line longer than br's buffer, of
// which line is the start, unless it is one that matters: a line without a
// key, a framing header or a redirect's Location is an error.
func fastSkipLongHeader(br *bufio.Reader, line []byte, h *fastHead, budget *int) error {
	if colon := bytes.IndexByte(line, ':'); colon < 0 || fastFramingKey(line[:colon]) || h.status/100 == 3 && fastFold(line[:colon], "Location") {
		return errFastHeaderTooLarge
	}
	return fastSkipLine(br, budget)
}

// fastHeaderKey reports whether key, the bytes before a header line's
// colon, has no white space in it.
func fastHeaderKey(key []byte) bool {
	for _, c := range key {
		if c == ' ' || c == '\t' {
			return false
		}
	}
	return true
}

// fastStatusLine parses "HTTP/1.x NNN[ reason]".
func fastStatusLine(line []byte, h *fastHead) error {
	if len(line) < 5 || string(line[:5]) != "HTTP/" {
		return errFastStatusLine
	}
	if len(line) < 9 || line[5] != '1' || line[6] != '.' || !fastDigit(line[7]) || line[8] != ' ' {
		return errFastVersion
	}
	if len(line) < 12 || !fastDigit(line[9]) || !fastDigit(line[10]) || !fastDigit(line[11]) || len(line) > 12 && line[12] != ' ' {
		return errFastStatusCode
	}
	h.minor = int(line[7] - '0')
	h.status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	if h.status < 100 {
		return errFastStatusCode
	}
	return nil
}

// fastReadChunked discards a chunked body, with its chunk extensions and
// trailers, counting the decoded bytes.
func fastReadChunked(br *bufio.Reader, resp *fastResponse) error {
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return errFastChunkSize
		}
		if err != nil {
			return fastUnexpectedEOF(err)
		}
		line = fastEOL(line)
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, ok := fastHex(fastTrim(line))
		if !ok {
			return errFastChunkSize
		}
		if size == 0 {
			return fastReadTrailers(br)
		}
		n, err := br.Discard(int(size))
		resp.bytesIn += int64(n)
		if err != nil {
			return fastUnexpectedEOF(err)
		}
		c, err := br.ReadByte()
		if err == nil && c == '\r' {
			c, err = br.ReadByte()
		}
		if err != nil {
			return fastUnexpectedEOF(err)
		}
		if c != '\n' {
			return errFastChunkEnd
		}
	}
}

// fastReadTrailers skips the trailer section after the last chunk, up to and
// including its empty line.
func fastReadTrailers(br *bufio.Reader) error {
	budget := fastMaxHeaderBytes
	for {
		line, err := br.ReadSlice('\n')
		if budget -= len(line); budget < 0 {
			return errFastHeaderTooLarge
		}
		if err == bufio.ErrBufferFull {
			if err := fastSkipLine(br, &budget); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fastUnexpectedEOF(err)
		}
		if len(fastEOL(line)) == 0 {
			return nil
		}
	}
}

// fastSkipLine discards the rest of a line longer than br's buffer, charging
// it to budget.
func fastSkipLine(br *bufio.Reader, budget *int) error {
	for {
		line, err := br.ReadSlice('\n')
		if *budget -= len(line); *budget < 0 {
			return errFastHeaderTooLarge
		}
		if err == nil {
			return nil
		}
		if err != bufio.ErrBufferFull {
			return fastUnexpectedEOF(err)
		}
	}
}

// fastFramingKey reports whether key is a header that decides where the
// response ends.
func fastFramingKey(key []byte) bool {
	return fastFold(key, "Content-Length") || fastFold(key, "Transfer-Encoding") || fastFold(key, "Connection")
}

// fastEOL removes a trailing "\n" or "\r\n".
func fastEOL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
		if n > 1 && line[n-2] == '\r' {
			line = line[:n-2]
		}
	}
	return line
}

// fastDecimal parses a Content-Length: digits only, small enough to
// discard.
func fastDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !fastDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, n <= math.MaxInt
}

// fastHex parses a chunk size: 1 to 15 hex digits.
func fastHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		switch {
		case fastDigit(c):
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		n = n<<4 | int64(c)
	}
	return n, n <= math.MaxInt
}

func fastDigit(c byte) bool { return '0' <= c && c <= '9' }

// fastUnexpectedEOF turns an end of stream in the middle of a response into
// io.ErrUnexpectedEOF, as net/http reports it.
func fastUnexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
