package target

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseHTTP(t *testing.T) {
	dir := t.TempDir()
	body := filepath.Join(dir, "body.json")
	if err := os.WriteFile(body, []byte(`{"a":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	get := func(u string) Target { return Target{Method: "GET", URL: u} }

	runParseTests(t, FormatHTTP, []parseTest{
		{
			name: "one request line",
			in:   "GET http://a.example/\n",
			want: []Target{get("http://a.example/")},
		},
		{
			name: "targets separated by blank lines",
			in:   "GET http://a.example/1\n\n\nDELETE https://a.example/2\n\nSUBSCRIBE http://:6060/sub\n",
			want: []Target{
				get("http://a.example/1"),
				{Method: "DELETE", URL: "https://a.example/2"},
				{Method: "SUBSCRIBE", URL: "http://:6060/sub"},
			},
		},
		{
			name: "request lines without blank lines between them",
			in:   "GET http://a.example/1\nHEAD http://a.example/2\n",
			want: []Target{get("http://a.example/1"), {Method: "HEAD", URL: "http://a.example/2"}},
		},
		{
			name: "request line right after a header starts a new target",
			in:   "GET http://a.example/1\nX-A: 1\nGET http://a.example/2\n",
			want: []Target{
				{Method: "GET", URL: "http://a.example/1", Header: http.Header{"X-A": {"1"}}},
				get("http://a.example/2"),
			},
		},
		{
			name: "comments before, between and inside targets",
			in: "# first\nGET http://a.example/1\n# inside\nX-A: 1\n  # indented\nX-B: 2\n\n" +
				"# second\nGET http://a.example/2\n# trailing\n",
			want: []Target{
				{Method: "GET", URL: "http://a.example/1", Header: http.Header{"X-A": {"1"}, "X-B": {"2"}}},
				get("http://a.example/2"),
			},
		},
		{
			name: "several headers, repeated header, colon in value",
			in: "GET http://a.example/\nAccept: text/plain\nX-Id: 1\nX-Id: 2\n" +
				"Referer: http://b.example:8080/x\nX-Time:12:30:00\n",
			want: []Target{{Method: "GET", URL: "http://a.example/", Header: http.Header{
				"Accept":  {"text/plain"},
				"X-Id":    {"1", "2"},
				"Referer": {"http://b.example:8080/x"},
				"X-Time":  {"12:30:00"},
			}}},
		},
		{
			name: "header keys keep their case, Host is a header",
			in:   "GET http://a.example/\nx-lower: a\nX-MiXeD: b\nHost: b.example\n",
			want: []Target{{Method: "GET", URL: "http://a.example/", Header: http.Header{
				"x-lower": {"a"}, "X-MiXeD": {"b"}, "Host": {"b.example"},
			}}},
		},
		{
			name: "CRLF, indentation, trailing white space, tabs, no final newline",
			in:   "  POST\thttp://a.example/ \r\n\tX-A:   1  \r\n\r\nGET http://a.example/2\t",
			want: []Target{
				{Method: "POST", URL: "http://a.example/", Header: http.Header{"X-A": {"1"}}},
				get("http://a.example/2"),
			},
		},
		{
			name: "body file",
			in:   fmt.Sprintf("POST http://a.example/\nContent-Type: application/json\n@%s\n", body),
			want: []Target{{Method: "POST", URL: "http://a.example/",
				Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"a":1}`)}},
		},
		{
			name: "body line ends the target",
			in:   fmt.Sprintf("POST http://a.example/\n@ %s\nGET http://a.example/2\n", body),
			want: []Target{
				{Method: "POST", URL: "http://a.example/", Body: []byte(`{"a":1}`)},
				get("http://a.example/2"),
			},
		},
		{
			name: "empty body file is an empty, non-nil body",
			in:   fmt.Sprintf("PUT http://a.example/\n@%s\n", empty),
			want: []Target{{Method: "PUT", URL: "http://a.example/", Body: []byte{}}},
		},
		{
			name:    "header after the body line",
			in:      fmt.Sprintf("POST http://a.example/\n@%s\nX-A: 1\n", body),
			wantErr: `targets.txt:3: method: expected an upper-case HTTP method such as GET or POST, got "X-A:" (headers go before the @body line, which ends a target)`,
		},
		{
			name:    "missing body file",
			in:      "GET http://a.example/\n\nPOST http://a.example/\n@no-such-file.json\n",
			wantErr: `targets.txt:4: body: cannot read body file "no-such-file.json": no such file or directory`,
		},
		{
			name:    "body line without a path",
			in:      "POST http://a.example/\n@\n",
			wantErr: `targets.txt:2: body: expected "@path" naming the body file, got "@"`,
		},
		{
			name:    "lower-case method",
			in:      "get http://a.example/",
			wantErr: `targets.txt:1: method: expected an upper-case HTTP method such as GET or POST, got "get"`,
		},
		{
			name:    "method with underscore",
			in:      "DO_WORK http://a.example/",
			wantErr: `targets.txt:1: method: expected an upper-case HTTP method such as GET or POST, got "DO_WORK"`,
		},
		{
			name:    "bare URL",
			in:      "http://a.example/",
			wantErr: `targets.txt:1: method: expected an upper-case HTTP method such as GET or POST, got "http://a.example/"`,
		},
		{
			name:    "method without URL",
			in:      "\nGET\n",
			wantErr: `targets.txt:2: url: expected "METHOD URL", got "GET"`,
		},
		{
			name:    "relative URL",
			in:      "GET /index.html",
			wantErr: `targets.txt:1: url: expected an absolute http:// or https:// URL, got "/index.html"`,
		},
		{
			name:    "URL without scheme",
			in:      "GET foo",
			wantErr: `targets.txt:1: url: expected an absolute http:// or https:// URL, got "foo"`,
		},
		{
			name:    "header without colon",
			in:      "GET http://a.example/\nX-A: 1\n\nGET http://a.example/\nX-Foo\n",
			wantErr: `targets.txt:5: header: expected "Key: Value", got "X-Foo"`,
		},
		{
			name:    "header without value",
			in:      "GET http://a.example/\nAuthorization:\n",
			wantErr: `targets.txt:2: header: expected "Key: Value", got "Authorization:"`,
		},
		{
			name:    "header without key",
			in:      "GET http://a.example/\n: 1234\n",
			wantErr: `targets.txt:2: header: expected "Key: Value", got ": 1234"`,
		},
		{
			name:    "header key with a space",
			in:      "GET http://a.example/\nX Foo: 1\n",
			wantErr: `targets.txt:2: header: expected a header name made of letters, digits and -, got "X Foo"`,
		},
		{
			name:    "header value with a control character",
			in:      "GET http://a.example/\nX-Foo: a\x00b\n",
			wantErr: `targets.txt:2: header: expected a value without control characters, got "a\x00b"`,
		},
		{name: "empty input", in: "", wantErr: "targets.txt: no targets"},
		{name: "only comments and blank lines", in: "# a\n\n  # b\r\n", wantErr: "targets.txt: no targets"},
	})
}

// TestParseHTTPRelativeBody checks that @body paths are relative to the
// current directory, as in vegeta, and that a file used twice is read once.
func TestParseHTTPRelativeBody(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bodies"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bodies", "b.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	in := "POST http://a.example/1\n@bodies/b.txt\n\nPOST http://a.example/2\n@bodies/b.txt\n"
	got, err := Parse(strings.NewReader(in), "targets.txt", FormatHTTP)
	want := []Target{
		{Method: "POST", URL: "http://a.example/1", Body: []byte("hello")},
		{Method: "POST", URL: "http://a.example/2", Body: []byte("hello")},
	}
	checkParse(t, got, err, want, "")
	if len(got) == 2 && &got[0].Body[0] != &got[1].Body[0] {
		t.Errorf("targets naming the same body file got separate copies, want one shared slice")
	}
}

// httpBenchInput returns n http targets with headers, a comment and a body
// file, the shape of a hand-written target file.
func httpBenchInput(b *testing.B, n int) string {
	body := filepath.Join(b.TempDir(), "body.json")
	if err := os.WriteFile(body, []byte(`{"id":1}`), 0o644); err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "# target %d\nPOST https://api.example.com/v1/items/%d?q=x\n", i, i)
		sb.WriteString("Content-Type: application/json\nAuthorization: Bearer abc.def.ghi\nX-Request-Id: 42\n")
		fmt.Fprintf(&sb, "@%s\n\n", body)
	}
	return sb.String()
}

func BenchmarkParseHTTP(b *testing.B) {
	in := httpBenchInput(b, 1000)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		ts, err := Parse(strings.NewReader(in), "bench.txt", FormatHTTP)
		if err != nil || len(ts) != 1000 {
			b.Fatalf("got %d targets, %v; want 1000, nil", len(ts), err)
		}
	}
}
