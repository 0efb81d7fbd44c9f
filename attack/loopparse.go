package attack

import (
	"bufio"
	"bytes"
	"io"
)

// errFastMore says that a response is incomplete: the bytes that would
// decide it have not arrived yet. It never reaches a result.
const errFastMore fastError = "response incomplete"

// loopParser reads one response from bytes as they arrive, with the
// semantics of fastReadResponse.
//
// The status lines and headers (of the final response and any 1xx before
// it) are parsed by fastReadHead over everything received so far, again
// from the start each time more bytes arrive: responses heads are small,
// and one parser is easier to trust than two. The body is then counted as
// it streams, without keeping it: Content-Length and close-delimited bodies
// byte counts, chunked bodies a small state machine.
type loopParser struct {
	resp fastResponse
	head bool // the request was HEAD: the response has no body

	src loopSource
	br  *bufio.Reader // over src; the size of a FastClient connection's

	state    loopState
	reusable bool
	left     int64  // bytes left of the body or of the current chunk
	line     []byte // the chunk-size line so far
	lineLen  int    // length of the current trailer line so far
	lineCR   bool   // the current trailer line starts with '\r'
	budget   int    // trailer bytes left before they are too large
}

type loopState uint8

const (
	loopHead      loopState = iota // status lines and headers
	loopLength                     // a Content-Length body
	loopClose                      // a body delimited by the end of the connection
	loopChunkSize                  // a chunk-size line
	loopChunkData                  // chunk data
	loopChunkCR                    // the CRLF after chunk data
	loopChunkLF                    // the LF after the CR
	loopTrailer                    // trailer lines after the last chunk
	loopDone                       // the response is complete
)

// loopSource hands the parser the bytes received so far, then errFastMore
// (or io.EOF once the connection has ended).
type loopSource struct {
	data []byte
	eof  bool
}

func (s *loopSource) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		if s.eof {
			return 0, io.EOF
		}
		return 0, errFastMore
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

func newLoopParser() *loopParser {
	p := &loopParser{}
	p.br = bufio.NewReaderSize(&p.src, fastReadBuffer)
	return p
}

// reset prepares p for the response to a request (head: a HEAD request).
func (p *loopParser) reset(head bool) {
	p.head, p.state = head, loopHead
	p.resp.status, p.resp.bytesIn, p.resp.close = 0, 0, true
	p.resp.location = p.resp.location[:0]
}

// feed parses data, the bytes of the response that have not been consumed
// yet; eof says the connection ended after them. It returns how many bytes
// it consumed, and whether the response is complete. While the head is
// incomplete it consumes nothing: feed it the same bytes again with more
// after them. Once the head is parsed it consumes everything up to the end
// of the response, so a body streams through a fixed buffer. Bytes after
// the end of the response are left unconsumed. On error the connection
// must be closed; p.resp tells how far it got.
func (p *loopParser) feed(data []byte, eof bool) (used int, done bool, err error) {
	if p.state == loopHead {
		p.src = loopSource{data: data, eof: eof}
		p.br.Reset(&p.src)
		err := p.readHeads()
		p.src.data = nil
		if err == errFastMore {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, err
		}
		used = len(data) - len(p.src.data) - p.br.Buffered()
		p.br.Reset(&p.src) // drop the buffered copy
		data = data[used:]
	}
	n, done, err := p.body(data, eof)
	return used + n, done, err
}

// readHeads is the head half of fastReadResponse.
func (p *loopParser) readHeads() error {
	p.resp.status, p.resp.bytesIn, p.resp.close = 0, 0, true
	p.resp.location = p.resp.location[:0]
	var h fastHead
	for n := 0; ; n++ {
		if err := fastReadHead(p.br, &h, &p.resp); err != nil {
			return err
		}
		if h.status >= 200 || h.status == 101 {
			break
		}
		if n == fastMax1xx {
			return errFastTooMany1xx
		}
	}
	p.resp.status = h.status
	p.reusable = !h.connClose && (h.minor > 0 || h.keepAlive) && h.status != 101
	switch {
	case p.head || h.status < 200 || h.status == 204 || h.status == 304:
		p.state = loopDone
	case h.chunked && h.minor > 0:
		p.state, p.line = loopChunkSize, p.line[:0]
	case h.contentLength >= 0:
		p.state, p.left = loopLength, h.contentLength
	default:
		p.state, p.reusable = loopClose, false
	}
	return nil
}

// body counts the body bytes in data, as fastReadResponse and
// fastReadChunked discard them. The states that read lines have methods of
// their own; the others, where most bytes go, are counted inline.
func (p *loopParser) body(data []byte, eof bool) (int, bool, error) {
	i := 0
	for {
		rest := data[i:]
		switch p.state {
		case loopDone:
			p.resp.close = !p.reusable
			return i, true, nil
		case loopLength, loopChunkData:
			n := int(min(int64(len(rest)), p.left))
			p.left -= int64(n)
			p.resp.bytesIn += int64(n)
			i += n
			if p.left > 0 {
				return i, false, p.more(eof)
			}
			if p.state == loopLength {
				p.state = loopDone
			} else {
				p.state = loopChunkCR
			}
		case loopClose:
			p.resp.bytesIn += int64(len(rest))
			i = len(data)
			if !eof {
				return i, false, nil
			}
			p.state = loopDone
		case loopChunkSize:
			n, wait, err := p.chunkSize(rest)
			if i += n; err != nil || wait {
				return i, false, p.halt(err, eof)
			}
		case loopChunkCR, loopChunkLF:
			if len(rest) == 0 {
				return i, false, p.more(eof)
			}
			c := rest[0]
			i++
			switch {
			case c == '\n':
				p.state = loopChunkSize
			case c == '\r' && p.state == loopChunkCR:
				p.state = loopChunkLF
			default:
				return i, false, errFastChunkEnd
			}
		case loopTrailer:
			n, wait, err := p.trailer(rest)
			if i += n; err != nil || wait {
				return i, false, p.halt(err, eof)
			}
		}
	}
}

// chunkSize reads a chunk-size line from rest, n bytes of it; wait says
// the line goes on past rest. As bufio.Reader.ReadSlice in
// fastReadChunked, a line longer than the read buffer is an error.
func (p *loopParser) chunkSize(rest []byte) (int, bool, error) {
	j := bytes.IndexByte(rest, '\n')
	if j < 0 {
		if len(p.line)+len(rest) >= fastReadBuffer {
			return 0, false, errFastChunkSize
		}
		p.line = append(p.line, rest...)
		return len(rest), true, nil
	}
	if len(p.line)+j+1 > fastReadBuffer {
		return 0, false, errFastChunkSize
	}
	p.line = append(p.line, rest[:j+1]...)
	line := fastEOL(p.line)
	if k := bytes.IndexByte(line, ';'); k >= 0 {
		line = line[:k]
	}
	size, ok := fastHex(fastTrim(line))
	p.line = p.line[:0]
	switch {
	case !ok:
		return j + 1, false, errFastChunkSize
	case size == 0:
		p.state, p.budget, p.lineLen = loopTrailer, fastMaxHeaderBytes, 0
	default:
		p.state, p.left = loopChunkData, size
	}
	return j + 1, false, nil
}

// trailer reads a trailer line from rest, n bytes of it, and ends the
// response at the empty line after the trailers; wait says the line goes
// on past rest.
func (p *loopParser) trailer(rest []byte) (int, bool, error) {
	j := bytes.IndexByte(rest, '\n')
	seg := rest
	if j >= 0 {
		seg = rest[:j+1]
	}
	if p.budget -= len(seg); p.budget < 0 {
		return 0, false, errFastHeaderTooLarge
	}
	if p.lineLen == 0 && len(seg) > 0 {
		p.lineCR = seg[0] == '\r'
	}
	p.lineLen += len(seg)
	if j < 0 {
		return len(seg), true, nil
	}
	if p.lineLen == 1 || p.lineLen == 2 && p.lineCR {
		p.state = loopDone
	}
	p.lineLen = 0
	return len(seg), false, nil
}

// halt is the error of a body that stops before its end: err, or the
// error of one that needs more bytes.
func (p *loopParser) halt(err error, eof bool) error {
	if err != nil {
		return err
	}
	return p.more(eof)
}

// more is the error of a body that needs more bytes: none while the
// connection is open, an unexpected EOF once it ended.
func (p *loopParser) more(eof bool) error {
	if eof {
		return io.ErrUnexpectedEOF
	}
	return nil
}
