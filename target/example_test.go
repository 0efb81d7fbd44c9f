package target_test

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/surge-dev/surge/target"
)

func ExampleParse() {
	in := `# the http format, detected from the first request line
GET https://example.com/a
Authorization: Bearer s3cr3t

HEAD https://example.com/b?token=abc
`
	ts, err := target.Parse(strings.NewReader(in), "targets.txt", target.FormatAuto)
	if err != nil {
		fmt.Println(err)
		return
	}
	target.ApplyDefaults(ts, http.Header{"User-Agent": {"surge"}}, nil)
	for _, t := range ts {
		fmt.Println(t.Method, target.RedactURL(t.URL), target.Redact(t.Header))
	}

	_, err = target.Parse(strings.NewReader("GET foo\n"), "targets.txt", target.FormatHTTP)
	fmt.Println(err)
	// Output:
	// GET https://example.com/a map[Authorization:[REDACTED] User-Agent:[surge]]
	// HEAD https://example.com/b?token=REDACTED map[User-Agent:[surge]]
	// targets.txt:1: url: expected an absolute http:// or https:// URL, got "foo"
}
