package scenario

import (
	"strings"
	"testing"
)

// TestParseRefusesBeforeLoad: values that would be sent or run wrongly
// are errors naming the file, line and field.
func TestParseRefusesBeforeLoad(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"rate above the ceiling", "base_url: http://h\nrequests: [{url: /}]\nload:\n  rate: 100000000000/1ns\n  duration: 1s\n",
			`scn.yaml:4: load.rate: "100000000000/1ns": 1e+20/s is above the ceiling of 1000000/s that one surge process accepts (split higher load over several workers)`},
		{"stage rate above the ceiling", "base_url: http://h\nrequests: [{url: /}]\nload:\n  stages:\n    - {rate: 10/1s..2000000/1s, duration: 10s}\n",
			`scn.yaml:5: load.stages[0].rate: "2000000/1s": 2000000/s is above the ceiling of 1000000/s that one surge process accepts (split higher load over several workers)`},
		{"ftp base_url", "base_url: ftp://files.example/\nrequests: [{url: /a}]\n",
			`scn.yaml:1: base_url: expected an absolute http:// or https:// URL, got "ftp://files.example/"`},
		{"port out of range", "requests: [{url: 'http://127.0.0.1:99999/a'}]\n",
			`scn.yaml:1: requests[0].url: URL "http://127.0.0.1:99999/a": port 99999: expected a port from 1 to 65535`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.src), "scn.yaml", t.TempDir())
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse error\n got: %v\nwant: %s", err, tt.want)
			}
		})
	}
	// The ceiling itself is accepted.
	if _, err := Parse(strings.NewReader("base_url: http://h\nrequests: [{url: /}]\nload: {rate: 1000000/1s, duration: 1s}\n"), "scn.yaml", t.TempDir()); err != nil {
		t.Errorf("rate 1000000/1s: %v; want it accepted", err)
	}
}
