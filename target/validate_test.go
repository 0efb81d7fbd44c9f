package target

import (
	"strings"
	"testing"
)

// TestParseRefusesBeforeLoad: a request line with tokens after the URL
// (once sent as the path "/%20extra%20tokens") and a port out of range
// are errors naming the file, line and field, in every format.
func TestParseRefusesBeforeLoad(t *testing.T) {
	tests := []struct {
		name, src string
		f         Format
		want      string
	}{
		{"extra tokens", "GET http://h/a\n\nGET http://h/ extra tokens\n", FormatHTTP,
			`t.txt:3: url: expected "METHOD URL" and nothing after the URL, got "extra tokens" after it (a space in a URL is written %20)`},
		{"port out of range, http", "GET http://127.0.0.1:99999/\n", FormatHTTP,
			`t.txt:1: url: URL "http://127.0.0.1:99999/": port 99999: expected a port from 1 to 65535`},
		{"port 0, urls", "http://127.0.0.1:0/\n", FormatURLs,
			`t.txt:1: url: URL "http://127.0.0.1:0/": port 0: expected a port from 1 to 65535`},
		{"empty port, urls", "http://127.0.0.1:/\n", FormatURLs,
			`t.txt:1: url: URL "http://127.0.0.1:/": expected a port from 1 to 65535 after the colon`},
		{"port out of range, json", `{"method":"GET","url":"http://h:70000/"}` + "\n", FormatJSON,
			`t.txt:1: url: URL "http://h:70000/": port 70000: expected a port from 1 to 65535`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.src), "t.txt", tt.f)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse error\n got: %v\nwant: %s", err, tt.want)
			}
		})
	}
	for _, ok := range []string{"http://h:1/", "https://h:65535/", "http://[::1]:8080/x"} {
		if err := CheckURL(ok); err != nil {
			t.Errorf("CheckURL(%q) = %v; want it accepted", ok, err)
		}
	}
}
