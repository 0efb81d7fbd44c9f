package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Response is what the engine tells a VU about a completed request. Header
// and Body are needed only when Request.NeedsResponse says so.
type Response struct {
	Status  int
	Header  http.Header
	Body    []byte
	Latency time.Duration
}

// Check kinds.
const (
	CheckStatus       = "status"
	CheckBodyContains = "body_contains"
	CheckJSON         = "json"
	CheckHeader       = "header"
	CheckDuration     = "duration"
)

// Check is one assertion on a response. A failed check marks the request
// failed, with Name as its error.
type Check struct {
	Name string // given in the file, or derived like "status in [200]"
	Kind string // one of the Check constants
	Line int

	statuses []int
	contains []byte
	path     jsonPath
	equals   any // JSON value (json.Number for numbers) when hasEquals
	hasEq    bool
	header   string
	re       *regexp.Regexp
	op       string
	bound    time.Duration
}

// needsResponse reports whether the check reads headers or body.
func (c *Check) needsResponse() bool {
	return c.Kind != CheckStatus && c.Kind != CheckDuration
}

// ok runs the check. body decodes the response body as JSON, at most once
// per response.
func (c *Check) ok(resp *Response, body *jsonBody) bool {
	switch c.Kind {
	case CheckStatus:
		for _, s := range c.statuses {
			if resp.Status == s {
				return true
			}
		}
		return false
	case CheckBodyContains:
		return bytes.Contains(resp.Body, c.contains)
	case CheckJSON:
		v, found := c.path.eval(body.value(resp.Body))
		switch {
		case !found:
			return false
		case c.hasEq:
			return jsonEqual(v, c.equals)
		case c.re != nil:
			return c.re.MatchString(jsonString(v))
		}
		return true
	case CheckHeader:
		vs, found := resp.Header[http.CanonicalHeaderKey(c.header)]
		if !found {
			return false
		}
		if c.re == nil {
			return true
		}
		for _, v := range vs {
			if c.re.MatchString(v) {
				return true
			}
		}
		return false
	case CheckDuration:
		if c.op == "<=" {
			return resp.Latency <= c.bound
		}
		return resp.Latency < c.bound
	}
	return false
}

// Extraction takes a value from a response into a VU variable that later
// requests of the iteration use as {{.Var}}.
type Extraction struct {
	Var  string // variable name
	Kind string // "json", "header" or "regex"
	Expr string // the JSON path, header name or regular expression
	Line int

	path jsonPath
	re   *regexp.Regexp
}

// extract returns the value, and false when the response has none.
func (e *Extraction) extract(resp *Response, body *jsonBody) (string, bool) {
	switch e.Kind {
	case "json":
		v, ok := e.path.eval(body.value(resp.Body))
		if !ok {
			return "", false
		}
		return jsonString(v), true
	case "header":
		v := resp.Header.Get(e.Expr)
		return v, v != "" || resp.Header[http.CanonicalHeaderKey(e.Expr)] != nil
	case "regex":
		m := e.re.FindSubmatch(resp.Body)
		if m == nil {
			return "", false
		}
		if len(m) > 1 {
			return string(m[1]), true
		}
		return string(m[0]), true
	}
	return "", false
}

// jsonBody decodes a response body as JSON on first use.
type jsonBody struct {
	done bool
	v    any
	ok   bool
}

// value returns the decoded body, or a value no path matches when the body
// is not JSON.
func (j *jsonBody) value(b []byte) any {
	if !j.done {
		j.done = true
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		j.ok = dec.Decode(&j.v) == nil
	}
	if !j.ok {
		return notJSON{}
	}
	return j.v
}

// notJSON stands for a body that did not decode; only the path $ finds it.
type notJSON struct{}

// jsonPath is a compiled path of the subset: $ then any of .key, ['key'],
// ["key"] and [N] (N < 0 counts from the end).
type jsonPath struct {
	text  string
	steps []pathStep
}

type pathStep struct {
	key   string
	index int
	isIdx bool
}

// parseJSONPath compiles a path like $.items[0].id. A path without the
// leading $ is taken as relative to it: "items[0]" is "$.items[0]".
func parseJSONPath(s string) (jsonPath, error) {
	p := jsonPath{text: s}
	rest := strings.TrimSpace(s)
	if rest == "" {
		return p, fmt.Errorf("expected a JSON path like $.items[0].id")
	}
	if rest[0] != '$' {
		rest = "$." + rest
	}
	rest = rest[1:]
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			i := strings.IndexAny(rest, ".[")
			if i < 0 {
				i = len(rest)
			}
			if i == 0 {
				return p, fmt.Errorf("JSON path %q: expected a key after '.'", s)
			}
			p.steps = append(p.steps, pathStep{key: rest[:i]})
			rest = rest[i:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return p, fmt.Errorf("JSON path %q: expected ']'", s)
			}
			in := rest[1:end]
			rest = rest[end+1:]
			if len(in) >= 2 && (in[0] == '\'' || in[0] == '"') && in[len(in)-1] == in[0] {
				p.steps = append(p.steps, pathStep{key: in[1 : len(in)-1]})
				continue
			}
			n, err := strconv.Atoi(in)
			if err != nil {
				return p, fmt.Errorf("JSON path %q: expected [N] or ['key'], got [%s]", s, in)
			}
			p.steps = append(p.steps, pathStep{index: n, isIdx: true})
		default:
			return p, fmt.Errorf("JSON path %q: expected '.' or '[' at %q", s, rest)
		}
	}
	return p, nil
}

// eval returns the value at the path in v, and whether it exists.
func (p jsonPath) eval(v any) (any, bool) {
	if _, bad := v.(notJSON); bad && len(p.steps) > 0 {
		return nil, false
	}
	for _, st := range p.steps {
		switch x := v.(type) {
		case map[string]any:
			if st.isIdx {
				return nil, false
			}
			var ok bool
			if v, ok = x[st.key]; !ok {
				return nil, false
			}
		case []any:
			i := st.index
			if i < 0 {
				i += len(x)
			}
			if !st.isIdx || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// jsonEqual compares decoded JSON values; numbers compare by value.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		fx, e1 := x.Float64()
		fy, e2 := y.Float64()
		if e1 != nil || e2 != nil {
			return x == y
		}
		return fx == fy
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case notJSON:
		return false
	}
	return a == b
}

// jsonString renders a JSON value for templates and messages: strings
// as they are, anything else as JSON.
func jsonString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case notJSON:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// toJSONValue converts a value decoded from YAML into the types a decoded
// JSON body has, so equals compares like with like.
func toJSONValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	err = dec.Decode(&out)
	return out, err
}

// CheckNames returns the names of the scenario's checks and extractions
// ("extract VAR"), in the order written: the errors a failed one records,
// which the check_failures threshold counts.
func (s *Scenario) CheckNames() []string {
	reqs := s.Steps
	if reqs == nil {
		reqs = s.Requests
	}
	var names []string
	for _, r := range reqs {
		for _, c := range r.Checks {
			names = append(names, c.Name)
		}
		for _, x := range r.Extract {
			names = append(names, "extract "+x.Var)
		}
	}
	return names
}
