package target

import (
	"net/http"
	"testing"
)

func TestParseJSON(t *testing.T) {
	runParseTests(t, FormatJSON, []parseTest{
		{
			name: "all fields",
			in: `{"method":"POST","url":"https://a.example/x","body":"aGVsbG8=",` +
				`"header":{"Content-Type":["text/plain"],"X-Id":["1","2"]}}` + "\n",
			want: []Target{{
				Method: "POST", URL: "https://a.example/x", Body: []byte("hello"),
				Header: http.Header{"Content-Type": {"text/plain"}, "X-Id": {"1", "2"}},
			}},
		},
		{
			name: "blank lines, comments, CRLF, white space, no final newline",
			in:   "# c\r\n\r\n  {\"method\": \"GET\", \"url\": \"http://a.example/1\"}  \r\n\n{\"url\":\"http://a.example/2\",\"method\":\"HEAD\"}",
			want: []Target{
				{Method: "GET", URL: "http://a.example/1"},
				{Method: "HEAD", URL: "http://a.example/2"},
			},
		},
		{
			name: "unknown fields are skipped, as in vegeta",
			in:   `{"method":"GET","url":"http://a.example/","name":"x","extra":{"a":[1,{"b":null}]}}`,
			want: []Target{{Method: "GET", URL: "http://a.example/"}},
		},
		{
			name: "null values are skipped",
			in:   `{"method":"GET","url":"http://a.example/","body":null,"header":null}`,
			want: []Target{{Method: "GET", URL: "http://a.example/"}},
		},
		{
			name: "empty body and header are none",
			in:   `{"method":"GET","url":"http://a.example/","body":"","header":{}}`,
			want: []Target{{Method: "GET", URL: "http://a.example/"}},
		},
		{
			name: "header keys keep their case, colon in value",
			in:   `{"method":"GET","url":"http://a.example/","header":{"x-lower":["a:b"],"Host":["h"]}}`,
			want: []Target{{Method: "GET", URL: "http://a.example/",
				Header: http.Header{"x-lower": {"a:b"}, "Host": {"h"}}}},
		},
		{
			name: "last of repeated fields wins",
			in:   `{"method":"GET","url":"http://a.example/1","url":"http://a.example/2"}`,
			want: []Target{{Method: "GET", URL: "http://a.example/2"}},
		},
		{
			name: "lower-case method is kept",
			in:   `{"method":"get","url":"http://a.example/"}`,
			want: []Target{{Method: "get", URL: "http://a.example/"}},
		},
		{
			name:    "missing url",
			in:      `{"method":"GET"}` + "\n" + `{"method":"GET","body":"aGk="}`,
			wantErr: `targets.txt:1: url: expected a required field "url" holding a string such as "https://host/path"`,
		},
		{
			name:    "missing method",
			in:      `{"url":"http://a.example/"}`,
			wantErr: `targets.txt:1: method: expected a required field "method" holding a string such as "GET"`,
		},
		{
			name:    "misspelt field name",
			in:      `{"Method":"GET","url":"http://a.example/"}`,
			wantErr: `targets.txt:1: method: expected a required field "method" holding a string such as "GET" (found "Method": field names are case-sensitive)`,
		},
		{
			name:    "bad base64",
			in:      "\n" + `{"method":"POST","url":"http://a.example/","body":"not base64!"}`,
			wantErr: `targets.txt:2: body: expected a base64 string, got "not base64!"`,
		},
		{
			name:    "header values not in an array",
			in:      `{"method":"GET","url":"http://a.example/","header":{"Accept":"text/plain"}}`,
			wantErr: `targets.txt:1: header: expected an object of string arrays such as {"Accept":["text/plain"]}, got {"Accept":"text/plain"}`,
		},
		{
			name:    "method not a string",
			in:      `{"method":1,"url":"http://a.example/"}`,
			wantErr: `targets.txt:1: method: expected a string such as "GET", got 1`,
		},
		{
			name:    "method not a token",
			in:      `{"method":"GE T","url":"http://a.example/"}`,
			wantErr: `targets.txt:1: method: expected an HTTP method such as GET, got "GE T"`,
		},
		{
			name:    "relative URL",
			in:      `{"method":"GET","url":"/x"}`,
			wantErr: `targets.txt:1: url: expected an absolute http:// or https:// URL, got "/x"`,
		},
		{
			name:    "bad header name",
			in:      `{"method":"GET","url":"http://a.example/","header":{"X Y":["1"]}}`,
			wantErr: `targets.txt:1: header: expected a header name made of letters, digits and -, got "X Y"`,
		},
		{
			name:    "header value with a line break",
			in:      `{"method":"GET","url":"http://a.example/","header":{"X-Y":["1\r\nEvil: 1"]}}`,
			wantErr: `targets.txt:1: header: expected a value without control characters for "X-Y", got "1\r\nEvil: 1"`,
		},
		{
			name:    "not JSON",
			in:      "{method: GET}",
			wantErr: `targets.txt:1: json: expected one JSON object per line like {"method":"GET","url":"https://host/"}: invalid character 'm' looking for beginning of object key string`,
		},
		{
			name:    "object split over lines",
			in:      "{\"method\":\"GET\",\n\"url\":\"http://a.example/\"}",
			wantErr: `targets.txt:1: json: expected one JSON object per line like {"method":"GET","url":"https://host/"}: unexpected end of JSON input`,
		},
		{
			name:    "text after the object",
			in:      `{"method":"GET","url":"http://a.example/"} x`,
			wantErr: `targets.txt:1: json: expected one JSON object per line like {"method":"GET","url":"https://host/"}: invalid character 'x' after top-level value`,
		},
		{
			name:    "array",
			in:      `[{"method":"GET","url":"http://a.example/"}]`,
			wantErr: `targets.txt:1: json: expected one JSON object per line like {"method":"GET","url":"https://host/"}, got a JSON array`,
		},
		{name: "empty input", in: "\n\n", wantErr: "targets.txt: no targets"},
	})
}
