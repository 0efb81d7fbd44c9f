package target

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// parseTest is one case of a table test of Parse. Either want or wantErr
// (the full error message) is set.
type parseTest struct {
	name    string
	in      string
	want    []Target
	wantErr string
}

// runParseTests runs Parse in format f on every case, naming the input
// "targets.txt".
func runParseTests(t *testing.T, f Format, tests []parseTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.in), "targets.txt", f)
			checkParse(t, got, err, tt.want, tt.wantErr)
		})
	}
}

// checkParse compares a Parse result with the wanted targets or error.
func checkParse(t *testing.T, got []Target, err error, want []Target, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil {
			t.Fatalf("got targets %+v, want error %q", got, wantErr)
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("got error %T %v, want a *ParseError", err, err)
		}
		if err.Error() != wantErr {
			t.Errorf("got error\n\t%s\nwant\n\t%s", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("targets mismatch (-want +got):\n%s", diff)
	}
}

func TestParseURLs(t *testing.T) {
	runParseTests(t, FormatURLs, []parseTest{
		{
			name: "one URL",
			in:   "http://localhost:8080/\n",
			want: []Target{{Method: "GET", URL: "http://localhost:8080/"}},
		},
		{
			name: "comments, blank lines, CRLF, trailing spaces, no final newline",
			in:   "# list\r\n\r\n  https://a.example/x?q=1  \r\n\t\n# more\nhttp://b.example",
			want: []Target{
				{Method: "GET", URL: "https://a.example/x?q=1"},
				{Method: "GET", URL: "http://b.example"},
			},
		},
		{
			name:    "space inside a line looks like the http format",
			in:      "http://a.example/\nGET http://b.example/\n",
			wantErr: `targets.txt:2: url: expected one URL per line, got "GET http://b.example/" (this looks like the http format: use -format=http)`,
		},
		{
			name:    "two URLs on a line",
			in:      "http://a.example/ http://b.example/",
			wantErr: `targets.txt:1: url: expected one URL per line, got "http://a.example/ http://b.example/"`,
		},
		{
			name:    "relative URL",
			in:      "/index.html",
			wantErr: `targets.txt:1: url: expected an absolute http:// or https:// URL, got "/index.html"`,
		},
		{
			name:    "other scheme",
			in:      "ftp://a.example/",
			wantErr: `targets.txt:1: url: expected an absolute http:// or https:// URL, got "ftp://a.example/"`,
		},
		{
			name:    "no host",
			in:      "http:///path",
			wantErr: `targets.txt:1: url: expected an absolute http:// or https:// URL, got "http:///path"`,
		},
		{name: "empty input", in: "", wantErr: "targets.txt: no targets"},
		{name: "only comments", in: "# a\n\n# b\n", wantErr: "targets.txt: no targets"},
	})
}

func TestParseAuto(t *testing.T) {
	runParseTests(t, FormatAuto, []parseTest{
		{
			name: "urls",
			in:   "# urls\nhttp://a.example/\n",
			want: []Target{{Method: "GET", URL: "http://a.example/"}},
		},
		{
			name: "http",
			in:   "\n# http\n\nPOST http://a.example/\nX-A: 1\n",
			want: []Target{{Method: "POST", URL: "http://a.example/", Header: http.Header{"X-A": {"1"}}}},
		},
		{
			name: "json",
			in:   "# json\n{\"method\":\"GET\",\"url\":\"http://a.example/\"}\n",
			want: []Target{{Method: "GET", URL: "http://a.example/"}},
		},
		{
			name:    "lines read by detection keep their numbers",
			in:      "# c\n\nGET http://a.example/\nbad header\n",
			wantErr: `targets.txt:4: header: expected "Key: Value", got "bad header"`,
		},
		{
			name:    "lower-case method is not http",
			in:      "get http://a.example/\n",
			wantErr: `targets.txt:1: url: expected one URL per line, got "get http://a.example/"`,
		},
		{name: "empty", in: "", wantErr: "targets.txt: no targets"},
		{name: "blank lines and comments", in: "\n \n# x\n", wantErr: "targets.txt: no targets"},
	})
}

func TestParseNoTargetsIs(t *testing.T) {
	for _, f := range []Format{FormatAuto, FormatURLs, FormatHTTP, FormatJSON} {
		_, err := Parse(strings.NewReader("# nothing\n"), "stdin", f)
		if !errors.Is(err, ErrNoTargets) {
			t.Errorf("format %s: got %v, want an error wrapping ErrNoTargets", f, err)
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != 0 || pe.File != "stdin" {
			t.Errorf("format %s: got %#v, want a *ParseError for stdin with Line 0", f, err)
		}
	}
}

func TestParseUnknownFormat(t *testing.T) {
	_, err := Parse(strings.NewReader("http://a/"), "t.txt", Format("xml"))
	want := `t.txt: format: expected one of auto, urls, http, json, got "xml"`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("http://a.example/\n"), iotest.ErrReader(boom))
	_, err := Parse(r, "t.txt", FormatAuto)
	want := "t.txt:2: cannot read input: boom"
	if !errors.Is(err, boom) || err.Error() != want {
		t.Errorf("got %v, want %s wrapping %v", err, want, boom)
	}
}

func TestParseFormat(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Format
	}{
		{"", FormatAuto}, {"auto", FormatAuto}, {"urls", FormatURLs}, {"url", FormatURLs},
		{"http", FormatHTTP}, {"json", FormatJSON}, {" JSON ", FormatJSON},
	} {
		got, err := ParseFormat(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
		}
	}
	_, err := ParseFormat("har")
	want := `unknown target format "har": expected one of auto, urls, http, json`
	if err == nil || err.Error() != want {
		t.Errorf("ParseFormat(%q) error = %v, want %s", "har", err, want)
	}
}

func TestParseErrorMessage(t *testing.T) {
	cause := errors.New("cause")
	for _, tt := range []struct {
		err  ParseError
		want string
	}{
		{ParseError{File: "t.txt", Line: 3, Field: "url", Msg: "expected x"}, "t.txt:3: url: expected x"},
		{ParseError{File: "t.txt", Line: 3, Field: "body", Msg: "m", Err: cause}, "t.txt:3: body: m: cause"},
		{ParseError{File: "stdin", Err: ErrNoTargets}, "stdin: no targets"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestApplyDefaults(t *testing.T) {
	ts := []Target{
		{Method: "GET", URL: "http://a/"},
		{Method: "POST", URL: "http://a/", Body: []byte("own"), Header: http.Header{
			"content-type": {"text/own"}, "X-Own": {"1"},
		}},
		{Method: "PUT", URL: "http://a/", Body: []byte{}},
	}
	hdr := http.Header{"Content-Type": {"application/json"}, "X-Default": {"a", "b"}}
	ApplyDefaults(ts, hdr, []byte("default"))
	want := []Target{
		{Method: "GET", URL: "http://a/", Body: []byte("default"), Header: http.Header{
			"Content-Type": {"application/json"}, "X-Default": {"a", "b"},
		}},
		{Method: "POST", URL: "http://a/", Body: []byte("own"), Header: http.Header{
			"content-type": {"text/own"}, "X-Own": {"1"}, "X-Default": {"a", "b"},
		}},
		{Method: "PUT", URL: "http://a/", Body: []byte{}, Header: http.Header{
			"Content-Type": {"application/json"}, "X-Default": {"a", "b"},
		}},
	}
	if diff := cmp.Diff(want, ts); diff != "" {
		t.Errorf("targets mismatch (-want +got):\n%s", diff)
	}
	ts[0].Header["X-Default"][0] = "changed"
	if got := ts[2].Header["X-Default"][0]; got != "a" {
		t.Errorf("changing one target's default header changed another's: got %q, want %q", got, "a")
	}
	if got := hdr["X-Default"][0]; got != "a" {
		t.Errorf("changing a target's header changed the defaults: got %q, want %q", got, "a")
	}
}

func TestApplyDefaultsEmpty(t *testing.T) {
	ts := []Target{{Method: "GET", URL: "http://a/"}}
	ApplyDefaults(ts, nil, nil)
	want := []Target{{Method: "GET", URL: "http://a/"}}
	if diff := cmp.Diff(want, ts); diff != "" {
		t.Errorf("targets mismatch (-want +got):\n%s", diff)
	}
}
