package target

import (
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkFuzzError fails unless err is nil or a *ParseError with Line ≥ 0
// naming the file.
func checkFuzzError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("got error %T %v, want a *ParseError", err, err)
	}
	if pe.Line < 0 || pe.File != "fuzz.txt" {
		t.Fatalf("got ParseError with File %q, Line %d; want File fuzz.txt and Line >= 0", pe.File, pe.Line)
	}
	if pe.Line == 0 && pe.Field == "" && !errors.Is(err, ErrNoTargets) {
		t.Fatalf("got %v without a line number, want one", err)
	}
}

// fakeReadFile stands in for os.ReadFile so that fuzzed @paths never touch
// the file system (think @/dev/zero): a path's "contents" are the path
// itself, and paths starting with "missing" do not exist.
func fakeReadFile(path string) ([]byte, error) {
	if strings.HasPrefix(path, "missing") {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	return []byte(path), nil
}

// encodeHTTP writes targets in the http format. Bodies come from
// fakeReadFile, so a body is written as "@" followed by itself.
func encodeHTTP(ts []Target) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.Method + " " + t.URL + "\n")
		for k, vs := range t.Header {
			for _, v := range vs {
				b.WriteString(k + ": " + v + "\n")
			}
		}
		if t.Body != nil {
			b.WriteString("@" + string(t.Body) + "\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func FuzzParseHTTP(f *testing.F) {
	for _, s := range []string{
		"GET http://a.example/\n",
		"# c\nPOST https://a.example/x?q=1\r\nContent-Type: application/json\r\nX-Id: 1\r\nX-Id: 2\r\n@body.json\r\n\r\nGET http://b/\n",
		"GET http://a/1\nHEAD http://a/2\nX: a:b:c\n# inside\nGET http://a/3",
		"POST http://a/\n@missing.json\n",
		"POST http://a/\n@b\nX-A: 1\n",
		"get http://a/", "GET", "GET /x", "GET http://a/\nX Foo: 1", "GET http://a/\n: v", "",
		"GET http://a/ extra tokens\n", "GET http://a:99999/\n", "GET http://a:/\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ts, err := parse(strings.NewReader(in), "fuzz.txt", FormatHTTP, fakeReadFile)
		checkFuzzError(t, err)
		if err != nil {
			return
		}
		for _, tg := range ts {
			if !isMethod([]byte(tg.Method)) || checkURL(tg.URL) != nil || strings.ContainsAny(tg.URL, " \t") {
				t.Fatalf("parsed an invalid target %+v", tg)
			}
		}
		out := encodeHTTP(ts)
		again, err := parse(strings.NewReader(out), "fuzz.txt", FormatHTTP, fakeReadFile)
		if err != nil {
			t.Fatalf("re-encoded targets do not parse: %v\n%s", err, out)
		}
		if diff := cmp.Diff(ts, again); diff != "" {
			t.Fatalf("round trip mismatch (-first +second):\n%s\nre-encoded:\n%s", diff, out)
		}
	})
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"method":"GET","url":"http://a.example/"}`,
		`{"method":"POST","url":"https://a/x","body":"aGVsbG8=","header":{"Content-Type":["text/plain"],"X-Id":["1","2"]}}`,
		"# c\r\n\r\n{\"method\":\"GET\",\"url\":\"http://a/\",\"x\":[1,{}],\"body\":null,\"header\":{\"K\":null,\"L\":[]}}\r\n",
		`{"Method":"GET","url":"http://a/"}`, `{"method":"GET"}`, `{"method":"GET","url":"http://a/","body":"!"}`,
		`{"method":"GET","url":"http://a/"} x`, `[]`, `null`, `{`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ts, err := Parse(strings.NewReader(in), "fuzz.txt", FormatJSON)
		checkFuzzError(t, err)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, tg := range ts {
			line, err := json.Marshal(jsonTarget(tg))
			if err != nil {
				t.Fatalf("cannot encode %+v: %v", tg, err)
			}
			b.Write(line)
			b.WriteByte('\n')
		}
		again, err := Parse(strings.NewReader(b.String()), "fuzz.txt", FormatJSON)
		if err != nil {
			t.Fatalf("re-encoded targets do not parse: %v\n%s", err, b.String())
		}
		if diff := cmp.Diff(ts, again); diff != "" {
			t.Fatalf("round trip mismatch (-first +second):\n%s\nre-encoded:\n%s", diff, b.String())
		}
	})
}

func FuzzParseURLs(f *testing.F) {
	for _, s := range []string{
		"http://a.example/\n", "# c\r\n\r\n  https://a/x?q=1 \r\nhttp://b", "GET http://a/", "/x", "ftp://a/", "http:///p", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ts, err := Parse(strings.NewReader(in), "fuzz.txt", FormatURLs)
		checkFuzzError(t, err)
		if err != nil {
			return
		}
		urls := make([]string, len(ts))
		for i, tg := range ts {
			if tg.Method != "GET" || tg.Header != nil || tg.Body != nil || checkURL(tg.URL) != nil {
				t.Fatalf("parsed an invalid target %+v", tg)
			}
			urls[i] = tg.URL
		}
		again, err := Parse(strings.NewReader(strings.Join(urls, "\n")), "fuzz.txt", FormatURLs)
		if err != nil {
			t.Fatalf("re-joined URLs do not parse: %v", err)
		}
		if diff := cmp.Diff(ts, again); diff != "" {
			t.Fatalf("round trip mismatch (-first +second):\n%s", diff)
		}
	})
}
