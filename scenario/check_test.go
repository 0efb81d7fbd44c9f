package scenario

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mustParse parses src as scn.yaml in a temporary directory holding files.
// Without a load section, the scenario gets one user for an hour rather
// than the default single iteration.
func mustParse(t testing.TB, src string, files map[string]string) *Scenario {
	t.Helper()
	if !strings.Contains(src, "\nload:") {
		src += "\nload: {users: 1, duration: 1h}\n"
	}
	s, err := parseIn(t, src, files)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func parseIn(t testing.TB, src string, files map[string]string) (*Scenario, error) {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Parse(strings.NewReader(src), "scn.yaml", dir)
}

func TestChecks(t *testing.T) {
	body := []byte(`{"items":[{"id":7,"name":"a"},{"id":8}],"total":2,"ok":true,"user":{"name":"bob","tags":null},"a.b":1}`)
	resp := &Response{Status: 200, Header: http.Header{"X-Request-Id": {"abc-123"}}, Body: body, Latency: 300 * time.Millisecond}
	tests := []struct {
		check string // one YAML check
		resp  *Response
		want  string // "" for pass, else the failure's name
	}{
		{`{status: [200]}`, resp, ""},
		{`{status: [201, 202]}`, resp, "status in [201, 202]"},
		{`{status: 200}`, resp, ""},
		{`{status: [500], name: server ok}`, resp, "server ok"},
		{`{body_contains: '"name":"bob"'}`, resp, ""},
		{`{body_contains: nope}`, resp, `body contains "nope"`},
		{`{json: $.items}`, resp, ""},
		{`{json: '$.items[1].id'}`, resp, ""},
		{`{json: '$.items[-1].id'}`, resp, ""},
		{`{json: '$.items[2]'}`, resp, "json $.items[2] exists"},
		{`{json: $.user.tags}`, resp, ""}, // null exists
		{`{json: $.missing}`, resp, "json $.missing exists"},
		{`{json: "$['a.b']"}`, resp, ""},
		{`{json: user.name}`, resp, ""},
		{`{json: $}`, resp, ""},
		{`{json: {path: $.total, equals: 2}}`, resp, ""},
		{`{json: {path: $.total, equals: 2.0}}`, resp, ""},
		{`{json: {path: $.total, equals: "2"}}`, resp, `json $.total == "2"`},
		{`{json: {path: $.user.name, equals: bob}}`, resp, ""},
		{`{json: {path: $.ok, equals: true}}`, resp, ""},
		{`{json: {path: '$.items[0]', equals: {id: 7, name: a}}}`, resp, ""},
		{`{json: {path: '$.items[0].id', equals: 8}}`, resp, "json $.items[0].id == 8"},
		{`{json: {path: $.user.name, matches: '^b.b$'}}`, resp, ""},
		{`{json: {path: $.user.name, matches: '^x'}}`, resp, "json $.user.name matches ^x"},
		{`{json: $.items}`, &Response{Status: 200, Body: []byte("<html>")}, "json $.items exists"},
		{`{header: {name: x-request-id}}`, resp, ""},
		{`{header: {name: X-Request-Id, matches: '^abc-\d+$'}}`, resp, ""},
		{`{header: {name: X-Request-Id, matches: '^z'}}`, resp, "header X-Request-Id matches ^z"},
		{`{header: {name: X-Missing}}`, resp, "header X-Missing present"},
		{`{duration: < 800ms}`, resp, ""},
		{`{duration: 800ms}`, resp, ""},
		{`{duration: < 300ms}`, resp, "duration < 300ms"},
		{`{duration: <= 300ms}`, resp, ""},
	}
	for _, tt := range tests {
		src := "base_url: http://h\nrequests:\n  - url: /\n    checks: [" + tt.check + "]\n"
		s, err := parseIn(t, src, nil)
		if err != nil {
			t.Errorf("%s: %v", tt.check, err)
			continue
		}
		vu := s.NewVU(0, 1)
		if got := vu.Check(s.Requests[0], tt.resp); got != tt.want {
			t.Errorf("%s: Check = %q, want %q", tt.check, got, tt.want)
		}
	}
}

func TestNeedsResponse(t *testing.T) {
	tests := []struct {
		req  string
		want bool
	}{
		{"{url: /}", false},
		{"{url: /, checks: [{status: [200]}, {duration: < 1s}]}", false},
		{"{url: /, checks: [{body_contains: x}]}", true},
		{"{url: /, checks: [{header: {name: X}}]}", true},
		{"{url: /, checks: [{json: $.a}]}", true},
		{"{url: /, extract: {a: {header: X}}}", true},
	}
	for _, tt := range tests {
		s := mustParse(t, "base_url: http://h\nrequests:\n  - "+tt.req+"\n", nil)
		if got := s.Requests[0].NeedsResponse(); got != tt.want {
			t.Errorf("%s: NeedsResponse = %v, want %v", tt.req, got, tt.want)
		}
	}
}

func TestExtract(t *testing.T) {
	resp := &Response{Status: 200, Header: http.Header{"X-Token": {"hdr-tok"}},
		Body: []byte(`{"token":"json-tok","n":12345678901234567,"obj":{"a":[1,2]}} token=re_tok;`)}
	jsonResp := &Response{Status: 200, Header: resp.Header, Body: []byte(`{"token":"json-tok","n":12345678901234567,"obj":{"a":[1,2]}}`)}
	tests := []struct {
		extract string
		resp    *Response
		want    string // value of v, or the failure when fail is set
		fail    bool
	}{
		{`{json: $.token}`, jsonResp, "json-tok", false},
		{`{json: $.n}`, jsonResp, "12345678901234567", false}, // not rounded
		{`{json: $.obj}`, jsonResp, `{"a":[1,2]}`, false},
		{`{json: '$.obj.a[1]'}`, jsonResp, "2", false},
		{`{json: $.nope}`, jsonResp, "extract v", true},
		{`{header: X-Token}`, resp, "hdr-tok", false},
		{`{header: x-token}`, resp, "hdr-tok", false},
		{`{header: X-Other}`, resp, "extract v", true},
		{`{regex: 'token=(\w+)'}`, resp, "re_tok", false},
		{`{regex: 'token=\w+'}`, resp, "token=re_tok", false}, // no group: the whole match
		{`{regex: 'absent=(\w+)'}`, resp, "extract v", true},
	}
	for _, tt := range tests {
		src := "base_url: http://h\nsteps:\n  - {name: a, url: /a, extract: {v: " + tt.extract + "}}\n  - {name: b, url: '/b?v={{.v}}'}\n"
		s := mustParse(t, src, nil)
		vu := s.NewVU(0, 1)
		if err := vu.Begin(); err != nil {
			t.Fatal(err)
		}
		got := vu.Check(s.Steps[0], tt.resp)
		if tt.fail {
			if got != tt.want {
				t.Errorf("%s: Check = %q, want %q", tt.extract, got, tt.want)
			}
			continue
		}
		if got != "" {
			t.Errorf("%s: Check failed: %s", tt.extract, got)
			continue
		}
		if v, _ := vu.Value("v"); v != tt.want {
			t.Errorf("%s: extracted %q, want %q", tt.extract, v, tt.want)
		}
	}
}

func TestJSONPathSyntax(t *testing.T) {
	bad := []string{"", "$.", "$..a", "$[", "$[x]", "$a", "$.a[0"}
	for _, p := range bad {
		if _, err := parseJSONPath(p); err == nil {
			t.Errorf("parseJSONPath(%q) succeeded, want an error", p)
		}
	}
	good := map[string]int{"$": 0, "$.a": 1, "$.a.b[0].c": 4, `$["x y"][-1]`: 2, "a.b": 2}
	for p, n := range good {
		jp, err := parseJSONPath(p)
		if err != nil || len(jp.steps) != n {
			t.Errorf("parseJSONPath(%q) = %d steps, %v; want %d", p, len(jp.steps), err, n)
		}
	}
}
