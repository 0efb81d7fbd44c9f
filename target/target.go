// Package target reads the requests an attack sends: plain URL lists and
// vegeta's http and JSON target formats.
//
// Parse reads a whole target file into a []Target. Every malformed input is
// reported as a *ParseError naming the file, the 1-based line, the field and
// what was expected, so a user can fix the file without guessing. In every
// format lines are trimmed of surrounding white space (so CRLF files work),
// blank lines are skipped and lines starting with # are comments.
//
// # URL lists
//
// One absolute http or https URL per line, each requested with GET.
//
// # The http format
//
// vegeta's format, as read by its NewHTTPTargeter (lib/targets.go):
//
//	# a comment
//	GET https://example.com/a
//	X-Account-ID: 8675309
//	Accept: text/plain
//
//	POST https://example.com/b
//	Content-Type: application/json
//	@bodies/post.json
//
// A target is a request line "METHOD URL", whose method is upper-case ASCII
// letters, then "Key: Value" header lines, then optionally an "@path" line
// naming the body file. A blank line, the @path line or the next request
// line ends a target. Header values may contain colons; a repeated key adds
// a value; keys keep the letter case they are written in, because vegeta
// keeps it for "systems that require case-sensitive headers". A Host header
// stays in Header. Body paths are relative to the current directory; an
// empty body file gives an empty, non-nil Body.
//
// Where vegeta would silently do the wrong thing, surge is stricter or says
// so: a request line directly after a header starts a new target (vegeta
// takes it for a header named "GET http"), header names must be HTTP tokens
// and values free of control characters, and URLs must be absolute http or
// https URLs with a host.
//
// # The JSON format
//
// vegeta's JSON lines, one object per line:
//
//	{"method":"POST","url":"https://example.com/a","body":"aGk=","header":{"Accept":["text/plain"]}}
//
// Objects are decoded the way vegeta's generated decoder
// (lib/targets_easyjson.go) does: field names match exactly (so "Method" is
// not "method"), unknown fields and null values are ignored, the last of
// repeated fields wins, and text after the object is an error. method and
// url are required; body is standard base64, and an empty body is none;
// header keys keep their letter case. Beyond vegeta, # comment lines are
// allowed (so auto-detection can look past them), the method must be an
// HTTP token, the URL absolute http or https with a host, and header names
// and values sendable.
package target

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Target is one HTTP request to send.
//
// A Host header is kept in Header like any other; whoever builds the
// *http.Request should copy it to Request.Host, as vegeta does.
type Target struct {
	Method string
	URL    string
	Header http.Header // may be nil
	Body   []byte      // may be nil
}

// Format names a target file format.
type Format string

const (
	// FormatAuto detects the format from the first non-blank, non-comment
	// line: "{" starts json, "METHOD URL" starts http, anything else is urls.
	FormatAuto Format = ""
	// FormatURLs is one URL per line, each requested with GET.
	FormatURLs Format = "urls"
	// FormatHTTP is vegeta's http format: "METHOD URL", headers, "@body".
	FormatHTTP Format = "http"
	// FormatJSON is vegeta's JSON lines format, one object per line.
	FormatJSON Format = "json"
)

// String returns the format's name, "auto" for FormatAuto.
func (f Format) String() string {
	if f == FormatAuto {
		return "auto"
	}
	return string(f)
}

// formatNames lists the names ParseFormat accepts, for error messages.
const formatNames = "auto, urls, http, json"

// ParseFormat returns the Format named by s: "", "auto", "urls" (or "url"),
// "http" or "json", ignoring case and surrounding spaces.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return FormatAuto, nil
	case "urls", "url":
		return FormatURLs, nil
	case "http":
		return FormatHTTP, nil
	case "json":
		return FormatJSON, nil
	}
	return "", fmt.Errorf("unknown target format %q: expected one of %s", s, formatNames)
}

// ErrNoTargets is returned, wrapped in a *ParseError with Line 0, when the
// input holds no target: it is empty or only blank lines and comments.
var ErrNoTargets = errors.New("no targets")

// ParseError reports a malformed target.
type ParseError struct {
	File  string // file name as given to Parse, "stdin" for standard input
	Line  int    // 1-based line number; 0 when the error is about the whole input
	Field string // "method", "url", "header", "body", "json", ...; may be empty
	Msg   string // what was expected and what was found
	Err   error  // underlying cause, if any
}

// Error returns the error as "file:line: field: msg: cause", leaving out the
// parts that are empty, e.g.
//
//	targets.txt:3: url: expected an absolute http:// or https:// URL, got "foo"
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	for _, s := range []string{e.Field, e.Msg} {
		if s != "" {
			b.WriteString(": ")
			b.WriteString(s)
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause, so errors.Is(err, ErrNoTargets) and
// errors.Is(err, fs.ErrNotExist) work.
func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads every target from r in format f. name is the file name used
// in error messages ("stdin" for standard input). Relative @body paths in
// the http format are resolved against the current directory, as vegeta
// does. Every error is a *ParseError; an input without targets gives one
// wrapping ErrNoTargets.
func Parse(r io.Reader, name string, f Format) ([]Target, error) {
	return parse(r, name, f, os.ReadFile)
}

// parse is Parse reading @body files with readFile, which tests replace.
func parse(r io.Reader, name string, f Format, readFile func(string) ([]byte, error)) ([]Target, error) {
	lr := newLineReader(r, name)
	if f == FormatAuto {
		f = lr.detect()
	}
	var (
		ts  []Target
		err error
	)
	switch f {
	case FormatURLs:
		ts, err = parseURLs(lr)
	case FormatHTTP:
		ts, err = parseHTTP(lr, readFile)
	case FormatJSON:
		ts, err = parseJSON(lr)
	default:
		return nil, &ParseError{File: name, Field: "format",
			Msg: fmt.Sprintf("expected one of %s, got %q", formatNames, string(f))}
	}
	if err != nil {
		return nil, err
	}
	if err := lr.err(); err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, &ParseError{File: name, Err: ErrNoTargets}
	}
	return ts, nil
}

// ApplyDefaults adds hdr to every target's headers and sets body on every
// target whose Body is nil. It modifies ts in place. A target's own headers
// win: a key the target already sets, in any letter case, is not touched.
// Each target gets its own copy of the default values, so changing one
// target's headers later never changes another's.
func ApplyDefaults(ts []Target, hdr http.Header, body []byte) {
	for i := range ts {
		t := &ts[i]
		if t.Body == nil {
			t.Body = body
		}
		if len(hdr) == 0 {
			continue
		}
		own := make(map[string]bool, len(t.Header))
		for k := range t.Header {
			own[http.CanonicalHeaderKey(k)] = true
		}
		for k, vs := range hdr {
			if own[http.CanonicalHeaderKey(k)] {
				continue
			}
			if t.Header == nil {
				t.Header = make(http.Header, len(hdr))
			}
			t.Header[k] = slices.Clone(vs)
		}
	}
}

// maxLineBytes bounds one line of input. JSON lines carry whole bodies in
// base64, so the bound is generous.
const maxLineBytes = 64 << 20

// lineReader hands out trimmed lines and counts them. It can give back the
// last line (unread) and replays lines read ahead by format detection, so
// detection never loses input.
type lineReader struct {
	sc      *bufio.Scanner
	file    string
	n       int      // number of the line last returned
	ahead   [][]byte // copies of lines read by detect, returned first
	last    []byte
	replay  bool // unread was called: next returns last again
	scanned int  // lines taken from sc
}

func newLineReader(r io.Reader, name string) *lineReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	return &lineReader{sc: sc, file: name}
}

// next returns the next line with surrounding white space (and so any
// trailing \r) removed. The slice is valid until the following call.
func (lr *lineReader) next() ([]byte, bool) {
	switch {
	case lr.replay:
		lr.replay = false
	case len(lr.ahead) > 0:
		lr.last, lr.ahead = lr.ahead[0], lr.ahead[1:]
	case lr.sc.Scan():
		lr.scanned++
		lr.last = bytes.TrimSpace(lr.sc.Bytes())
	default:
		return nil, false
	}
	lr.n++
	return lr.last, true
}

// unread makes next return the last line again.
func (lr *lineReader) unread() {
	lr.replay = true
	lr.n--
}

// err returns the read error, if any, as a *ParseError.
func (lr *lineReader) err() error {
	err := lr.sc.Err()
	if err == nil {
		return nil
	}
	msg := "cannot read input"
	if errors.Is(err, bufio.ErrTooLong) {
		msg = fmt.Sprintf("expected lines of at most %d bytes", maxLineBytes)
	}
	return &ParseError{File: lr.file, Line: lr.scanned + 1, Msg: msg, Err: err}
}

// errorf returns a *ParseError about the line last returned.
func (lr *lineReader) errorf(field, format string, args ...any) *ParseError {
	return &ParseError{File: lr.file, Line: lr.n, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// detect reads up to the first non-blank, non-comment line, keeps every
// line it read for next, and guesses the format from that line.
func (lr *lineReader) detect() Format {
	for lr.sc.Scan() {
		lr.scanned++
		line := bytes.Clone(bytes.TrimSpace(lr.sc.Bytes()))
		lr.ahead = append(lr.ahead, line)
		if skippable(line) {
			continue
		}
		switch {
		case line[0] == '{':
			return FormatJSON
		case isRequestLine(line):
			return FormatHTTP
		}
		return FormatURLs
	}
	return FormatURLs
}

// skippable reports whether a trimmed line is blank or a # comment.
func skippable(line []byte) bool {
	return len(line) == 0 || line[0] == '#'
}

// parseURLs reads one URL per line; each becomes a GET target.
func parseURLs(lr *lineReader) ([]Target, error) {
	var ts []Target
	for {
		line, ok := lr.next()
		if !ok {
			return ts, nil
		}
		if skippable(line) {
			continue
		}
		if i := bytes.IndexAny(line, " \t"); i >= 0 {
			msg := "expected one URL per line, got %q"
			if isRequestLine(line) {
				msg += " (this looks like the http format: use -format=http)"
			}
			return nil, lr.errorf("url", msg, line)
		}
		u := string(line)
		if err := checkURL(u); err != nil {
			return nil, lr.errorf("url", "%s", err)
		}
		ts = append(ts, Target{Method: http.MethodGet, URL: u})
	}
}

// checkURL returns an error message when u is not an absolute http or
// https URL with a host.
func checkURL(u string) error { return CheckURL(u) }

// CheckURL returns an error saying what is expected when u is not an
// absolute http:// or https:// URL with a host and, if it names a port,
// a port from 1 to 65535.
func CheckURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("expected an absolute http:// or https:// URL, got %q", u)
	}
	if strings.HasSuffix(p.Host, ":") {
		return fmt.Errorf("URL %q: expected a port from 1 to 65535 after the colon", u)
	}
	if port := p.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("URL %q: port %s: expected a port from 1 to 65535", u, port)
		}
	}
	return nil
}

// ValidToken reports whether s is a non-empty HTTP token (RFC 9110 5.6.2),
// the syntax of header names and methods.
func ValidToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// ValidHeaderValue reports whether v holds no control characters other than
// horizontal tab; net/http refuses to send such values, and they could
// split a request.
func ValidHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
