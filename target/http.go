package target

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
)

// parseHTTP reads vegeta's http format, described in the package comment,
// reading @body files with readFile.
func parseHTTP(lr *lineReader, readFile func(string) ([]byte, error)) ([]Target, error) {
	var (
		ts        []Target
		bodies    = map[string][]byte{} // body files read so far, by path
		afterBody bool                  // the previous target ended with @body
	)
	for {
		line, ok := lr.next()
		if !ok {
			return ts, nil
		}
		if skippable(line) {
			continue
		}
		t, err := parseRequestLine(lr, line, afterBody)
		if err != nil {
			return nil, err
		}
		afterBody = false
	headers:
		for {
			line, ok := lr.next()
			if !ok {
				break
			}
			switch {
			case len(line) == 0:
				break headers
			case line[0] == '#':
				continue
			case startsTarget(line):
				lr.unread()
				break headers
			case line[0] == '@':
				if t.Body, err = readBody(lr, readFile, bodies, bytes.TrimSpace(line[1:])); err != nil {
					return nil, err
				}
				afterBody = true
				break headers
			}
			if err := addHeader(lr, &t, line); err != nil {
				return nil, err
			}
		}
		ts = append(ts, t)
	}
}

// isRequestLine reports whether a trimmed line starts with an upper-case
// method followed by white space, vegeta's test (regexp "^[A-Z]+\s").
func isRequestLine(line []byte) bool {
	i := bytes.IndexAny(line, " \t")
	return i > 0 && isMethod(line[:i])
}

// startsTarget reports whether a line in a target's header section is the
// request line of the next target rather than a malformed header: it is a
// request line, and its rest has no colon or looks like a URL. So
// "GET http://b/" and "GET /b" start a target while "X Foo: 1" is reported
// as a bad header.
func startsTarget(line []byte) bool {
	if !isRequestLine(line) {
		return false
	}
	rest := bytes.TrimSpace(line[bytes.IndexAny(line, " \t"):])
	return bytes.IndexByte(rest, ':') < 0 || bytes.Contains(rest, []byte("://")) || rest[0] == '/'
}

// isMethod reports whether b is a method as vegeta's http format accepts
// it: one or more upper-case ASCII letters.
func isMethod(b []byte) bool {
	for _, c := range b {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return len(b) > 0
}

// parseRequestLine parses "METHOD URL".
func parseRequestLine(lr *lineReader, line []byte, afterBody bool) (Target, error) {
	method, rest := line, []byte(nil)
	if i := bytes.IndexAny(line, " \t"); i >= 0 {
		method, rest = line[:i], bytes.TrimSpace(line[i+1:])
	}
	if !isMethod(method) {
		msg := "expected an upper-case HTTP method such as GET or POST, got %q"
		if afterBody && bytes.IndexByte(line, ':') > 0 {
			msg += " (headers go before the @body line, which ends a target)"
		}
		return Target{}, lr.errorf("method", msg, method)
	}
	if len(rest) == 0 {
		return Target{}, lr.errorf("url", "expected \"METHOD URL\", got %q", line)
	}
	if i := bytes.IndexAny(rest, " \t"); i >= 0 {
		return Target{}, lr.errorf("url", "expected \"METHOD URL\" and nothing after the URL, got %q after it (a space in a URL is written %%20)", bytes.TrimSpace(rest[i:]))
	}
	u := string(rest)
	if err := checkURL(u); err != nil {
		return Target{}, lr.errorf("url", "%s", err)
	}
	return Target{Method: methodString(method), URL: u}, nil
}

// methodString returns method as a string, without allocating for the
// common methods.
func methodString(method []byte) string {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete,
		http.MethodHead, http.MethodPatch, http.MethodOptions} {
		if string(method) == m {
			return m
		}
	}
	return string(method)
}

// addHeader parses a "Key: Value" line into t.Header.
func addHeader(lr *lineReader, t *Target, line []byte) error {
	k, v, ok := bytes.Cut(line, []byte(":"))
	k, v = bytes.TrimSpace(k), bytes.TrimSpace(v)
	if !ok || len(k) == 0 || len(v) == 0 {
		return lr.errorf("header", "expected \"Key: Value\", got %q", line)
	}
	key, val := string(k), string(v)
	if !ValidToken(key) {
		return lr.errorf("header", "expected a header name made of letters, digits and -, got %q", key)
	}
	if !ValidHeaderValue(val) {
		return lr.errorf("header", "expected a value without control characters, got %q", val)
	}
	if t.Header == nil {
		t.Header = make(map[string][]string, 4)
	}
	// Not Header.Add: it would canonicalise the key, and vegeta keeps it.
	t.Header[key] = append(t.Header[key], val)
	return nil
}

// readBody reads the body file at path, relative to the current directory.
// Targets naming the same file share one slice: Body is read-only.
func readBody(lr *lineReader, readFile func(string) ([]byte, error), cache map[string][]byte, p []byte) ([]byte, error) {
	if len(p) == 0 {
		return nil, lr.errorf("body", "expected \"@path\" naming the body file, got \"@\"")
	}
	if b, ok := cache[string(p)]; ok {
		return b, nil
	}
	path := string(p)
	b, err := readFile(path)
	if err != nil {
		pe := lr.errorf("body", "cannot read body file %q", path)
		var perr *fs.PathError
		if errors.As(err, &perr) {
			err = perr.Err // the path is already in Msg
		}
		pe.Err = err
		return nil, pe
	}
	if b == nil {
		b = []byte{} // an empty file is a body, not a missing one
	}
	cache[path] = b
	return b, nil
}
