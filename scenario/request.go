package scenario

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/surge-dev/surge/target"
)

// Request is one request of a scenario: an entry of its weighted mix
// (Scenario.Requests) or a step of its flow (Scenario.Steps). Its fields
// are read-only after Load; VU.Render turns it into a target.Target.
type Request struct {
	Name     string      // label in reports; unique in the scenario
	Line     int         // line of the request in the scenario file
	Method   string      // HTTP method, default GET
	URL      string      // URL template as written
	Header   http.Header // header templates as written, scenario defaults included
	Body     string      // body template as written (or read from body_file)
	Weight   int         // share in the mix; 1 by default; unused for steps
	Checks   []Check
	Extract  []Extraction
	ThinkMin time.Duration // pause after the request: uniform in [ThinkMin, ThinkMax]
	ThinkMax time.Duration

	url     text
	abs     string // the absolute URL, when url is constant
	headers []headerText
	body    text
	needs   bool
}

// headerText is a header with a templated value.
type headerText struct {
	key string // canonical name
	val text
}

// NeedsResponse reports whether the request's checks or extractions read
// the response headers or body, so the engine captures them only then.
// Status and latency are always needed.
func (r *Request) NeedsResponse() bool { return r.needs }

// Think returns how long to pause after the request: ThinkMin, or uniform
// in [ThinkMin, ThinkMax] drawn from rng.
func (r *Request) Think(rng *rand.Rand) time.Duration {
	if r.ThinkMax <= r.ThinkMin || rng == nil {
		return r.ThinkMin
	}
	return r.ThinkMin + time.Duration(rng.Int64N(int64(r.ThinkMax-r.ThinkMin)+1))
}

var requestFields = []string{"name", "method", "url", "headers", "body", "body_file", "weight", "checks", "extract", "think"}

// request decodes one entry of requests or steps.
func (p *parser) request(n *yaml.Node, path string, sc scope) (*Request, error) {
	m, err := p.d.mapping(n, path, requestFields...)
	if err != nil {
		return nil, err
	}
	r := &Request{Line: n.Line, Method: http.MethodGet, Weight: 1, Header: http.Header{},
		ThinkMin: p.thinkMin, ThinkMax: p.thinkMax}
	for _, f := range m.fields {
		if err := p.requestField(r, m, f); err != nil {
			return nil, err
		}
	}
	if r.URL == "" {
		return nil, p.d.errorf(n, join(path, "url"), "missing: every request needs a url")
	}
	if r.Name == "" {
		// The label reaches every report: no query, no password.
		r.Name = r.Method + " " + target.RedactURL(strings.SplitN(r.URL, "?", 2)[0])
	}
	if err := p.compileRequest(r, m, path, sc); err != nil {
		return nil, err
	}
	if err := p.headers(r, m.get("headers"), m.path("headers"), sc); err != nil {
		return nil, err
	}
	if err := p.requestChecks(r, m.get("checks"), m.path("checks")); err != nil {
		return nil, err
	}
	if err := p.requestExtract(r, m.get("extract"), m.path("extract")); err != nil {
		return nil, err
	}
	return r, nil
}

// requestField decodes the field f of the request mapping m into r. The
// templated fields (url, body, headers) are compiled later, checks and
// extract read later.
func (p *parser) requestField(r *Request, m mapping, f field) error {
	d, v := p.d, f.value
	var err error
	switch f.key.Value {
	case "name":
		r.Name, err = d.str(v, f.path)
	case "method":
		r.Method, err = d.str(v, f.path)
		r.Method = strings.ToUpper(r.Method)
		if err == nil && !target.ValidToken(r.Method) {
			err = d.errorf(v, f.path, "expected an HTTP method like GET or POST, got %q", v.Value)
		}
	case "url":
		r.URL, err = d.str(v, f.path)
	case "weight":
		var w uint64
		w, err = d.integer(v, f.path)
		if err == nil && w > 1_000_000 {
			err = d.errorf(v, f.path, "expected a weight of at most 1000000, got %d", w)
		}
		r.Weight = int(w)
	case "think":
		r.ThinkMin, r.ThinkMax, err = p.think(v, f.path)
	case "body":
		r.Body, err = d.str(v, f.path)
	case "body_file":
		r.Body, err = p.bodyFile(m, f)
	}
	return err
}

// bodyFile reads the file the body_file field f of the request mapping m
// names.
func (p *parser) bodyFile(m mapping, f field) (string, error) {
	d, v := p.d, f.value
	name, err := d.str(v, f.path)
	if err != nil {
		return "", err
	}
	if m.get("body") != nil {
		return "", d.errorf(v, f.path, "give body or body_file, not both")
	}
	b, err := os.ReadFile(p.resolve(name))
	if err != nil {
		return "", &Error{File: d.file, Line: v.Line, Column: v.Column, Field: f.path, Msg: "cannot read body file", Err: err}
	}
	return string(b), nil
}

// compileRequest compiles the URL and body templates of r, whose mapping
// is m, and makes a constant URL absolute.
func (p *parser) compileRequest(r *Request, m mapping, path string, sc scope) error {
	var err error
	if r.url, err = p.c.compile(r.URL, m.get("url"), m.path("url"), sc); err != nil {
		return err
	}
	if r.url.isConst() {
		if r.abs, err = p.s.absoluteURL(r.URL); err != nil {
			return p.d.errorf(m.get("url"), m.path("url"), "%v", err)
		}
	}
	b := m.get("body")
	if b == nil {
		b = m.get("body_file")
	}
	if b == nil {
		r.body = text{index: -1}
		return nil
	}
	r.body, err = p.c.compile(r.Body, b, join(path, "body"), sc)
	return err
}

// requestChecks decodes the checks list v (nil if absent) of r.
func (p *parser) requestChecks(r *Request, v *yaml.Node, path string) error {
	if v == nil {
		return nil
	}
	items, err := p.d.list(v, path)
	if err != nil {
		return err
	}
	for i, it := range items {
		c, err := p.check(it, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return err
		}
		r.needs = r.needs || c.needsResponse()
		r.Checks = append(r.Checks, c)
	}
	return nil
}

// requestExtract decodes the extract mapping v (nil if absent) of r.
func (p *parser) requestExtract(r *Request, v *yaml.Node, path string) error {
	if v == nil {
		return nil
	}
	em, err := p.d.mapping(v, path)
	if err != nil {
		return err
	}
	for _, f := range em.fields {
		e, err := p.extraction(f)
		if err != nil {
			return err
		}
		r.needs = true
		r.Extract = append(r.Extract, e)
	}
	return nil
}

// headers merges the scenario's default headers with the request's own
// (which win) and compiles their values.
func (p *parser) headers(r *Request, n *yaml.Node, path string, sc scope) error {
	own := map[string]field{}
	if n != nil {
		m, err := p.d.mapping(n, path)
		if err != nil {
			return err
		}
		for _, f := range m.fields {
			if !target.ValidToken(f.key.Value) {
				return p.d.errorf(f.key, f.path, "expected a header name (letters, digits and -), got %q", f.key.Value)
			}
			own[http.CanonicalHeaderKey(f.key.Value)] = f
		}
	}
	add := func(f field) error {
		s, err := p.d.str(f.value, f.path)
		if err != nil {
			return err
		}
		key := http.CanonicalHeaderKey(f.key.Value)
		t, err := p.c.compile(s, f.value, f.path, sc)
		if err != nil {
			return err
		}
		r.Header[key] = []string{s}
		r.headers = append(r.headers, headerText{key: key, val: t})
		return nil
	}
	for _, f := range p.defaultHeaders {
		if _, mine := own[http.CanonicalHeaderKey(f.key.Value)]; !mine {
			if err := add(field{key: f.key, value: f.value, path: fmt.Sprintf("%s (headers.%s)", path, f.key.Value)}); err != nil {
				return err
			}
		}
	}
	if n != nil {
		m, _ := p.d.mapping(n, path)
		for _, f := range m.fields {
			if err := add(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// think decodes "100ms" or "100ms..300ms".
func (p *parser) think(n *yaml.Node, path string) (lo, hi time.Duration, err error) {
	s, err := p.d.str(n, path)
	if err != nil {
		return 0, 0, err
	}
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		b = a
	}
	lo, err1 := parseDuration(a)
	hi, err2 := parseDuration(b)
	if err1 != nil || err2 != nil || hi < lo {
		return 0, 0, p.d.errorf(n, path, "expected a think time like 100ms or a range like 100ms..300ms, got %q", s)
	}
	return lo, hi, nil
}

var checkKinds = []string{"name", CheckStatus, CheckBodyContains, CheckJSON, CheckHeader, CheckDuration}

// check decodes one check: a mapping with one kind and an optional name.
func (p *parser) check(n *yaml.Node, path string) (Check, error) {
	d := p.d
	c := Check{Line: n.Line}
	m, err := d.mapping(n, path, checkKinds...)
	if err != nil {
		return c, err
	}
	for _, f := range m.fields {
		if f.key.Value == "name" {
			continue
		}
		if c.Kind != "" {
			return c, d.errorf(f.key, path, "one check per list item: found both %s and %s", c.Kind, f.key.Value)
		}
		c.Kind = f.key.Value
		if err := p.checkKind(&c, f.value, f.path); err != nil {
			return c, err
		}
	}
	if c.Kind == "" {
		return c, d.errorf(n, path, "expected a check: one of status, body_contains, json, header, duration")
	}
	if nv := m.get("name"); nv != nil {
		name, err := d.str(nv, m.path("name"))
		if err != nil {
			return c, err
		}
		if name != "" {
			c.Name = name
		}
	}
	return c, nil
}

// checkKind decodes the value v of a check of kind c.Kind into c, with the
// check's default name.
func (p *parser) checkKind(c *Check, v *yaml.Node, path string) error {
	d := p.d
	switch c.Kind {
	case CheckStatus:
		return p.statusCheck(c, v, path)
	case CheckBodyContains:
		s, err := d.str(v, path)
		if err != nil {
			return err
		}
		c.contains = []byte(s)
		c.Name = "body contains " + strconv.Quote(s)
	case CheckJSON:
		return p.jsonCheck(c, v, path)
	case CheckHeader:
		return p.headerCheck(c, v, path)
	case CheckDuration:
		return p.durationCheck(c, v, path)
	}
	return nil
}

// statusCheck decodes "status: [200, 201]" (or one code).
func (p *parser) statusCheck(c *Check, v *yaml.Node, path string) error {
	ss, err := p.d.strings(v, path)
	if err != nil {
		return err
	}
	for _, s := range ss {
		code, err := strconv.Atoi(s)
		if err != nil || code < 100 || code > 999 {
			return p.d.errorf(v, path, "expected HTTP status codes like [200, 201], got %q", s)
		}
		c.statuses = append(c.statuses, code)
	}
	c.Name = "status in [" + strings.Join(ss, ", ") + "]"
	return nil
}

// headerCheck decodes "header: {name: X-Header, matches: REGEXP}", matches
// optional.
func (p *parser) headerCheck(c *Check, v *yaml.Node, path string) error {
	d := p.d
	hm, err := d.mapping(v, path, "name", "matches")
	if err != nil {
		return err
	}
	if c.header, err = d.str(orNull(hm.get("name")), join(path, "name")); err != nil || c.header == "" {
		return d.errorf(v, join(path, "name"), "missing: expected {name: X-Header, matches: REGEXP}")
	}
	c.Name = "header " + c.header + " present"
	if mv := hm.get("matches"); mv != nil {
		if c.re, err = p.regexp(mv, hm.path("matches")); err != nil {
			return err
		}
		c.Name = "header " + c.header + " matches " + c.re.String()
	}
	return nil
}

// durationCheck decodes "duration: < 800ms" (or <=).
func (p *parser) durationCheck(c *Check, v *yaml.Node, path string) error {
	s, err := p.d.str(v, path)
	if err != nil {
		return err
	}
	c.op, c.bound = "<", 0
	rest := strings.TrimSpace(s)
	for _, op := range []string{"<=", "<"} {
		if strings.HasPrefix(rest, op) {
			c.op, rest = op, strings.TrimSpace(rest[len(op):])
			break
		}
	}
	if c.bound, err = parseDuration(rest); err != nil || c.bound == 0 {
		return p.d.errorf(v, path, "expected a bound like < 800ms, got %q", s)
	}
	c.Name = "duration " + c.op + " " + c.bound.String()
	return nil
}

// orNull returns n, or a null node for a missing field.
func orNull(n *yaml.Node) *yaml.Node {
	if n == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return n
}

// jsonCheck decodes "json: $.path" or "json: {path: $.p, equals: V}" or
// "json: {path: $.p, matches: REGEXP}".
func (p *parser) jsonCheck(c *Check, v *yaml.Node, path string) error {
	d := p.d
	var ps string
	var jm mapping
	if v.Kind == yaml.MappingNode {
		var err error
		if jm, err = d.mapping(v, path, "path", "equals", "matches"); err != nil {
			return err
		}
		if ps, err = d.str(orNull(jm.get("path")), join(path, "path")); err != nil {
			return err
		}
	} else {
		var err error
		if ps, err = d.str(v, path); err != nil {
			return err
		}
	}
	var err error
	if c.path, err = parseJSONPath(ps); err != nil {
		return d.errorf(v, path, "%v", err)
	}
	c.Name = "json " + ps + " exists"
	if ev := jm.get("equals"); ev != nil {
		var raw any
		if err := ev.Decode(&raw); err != nil {
			return d.errorf(ev, jm.path("equals"), "cannot read the value: %v", err)
		}
		if c.equals, err = toJSONValue(raw); err != nil {
			return d.errorf(ev, jm.path("equals"), "expected a JSON value: %v", err)
		}
		c.hasEq = true
		c.Name = "json " + ps + " == " + jsonString(c.equals)
		if s, ok := c.equals.(string); ok {
			c.Name = "json " + ps + " == " + strconv.Quote(s)
		}
	}
	if mv := jm.get("matches"); mv != nil {
		if c.hasEq {
			return d.errorf(mv, jm.path("matches"), "give equals or matches, not both")
		}
		if c.re, err = p.regexp(mv, jm.path("matches")); err != nil {
			return err
		}
		c.Name = "json " + ps + " matches " + c.re.String()
	}
	return nil
}

// regexp compiles a regular expression field.
func (p *parser) regexp(n *yaml.Node, path string) (*regexp.Regexp, error) {
	s, err := p.d.str(n, path)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, p.d.errorf(n, path, "invalid regular expression: %v", err)
	}
	return re, nil
}

// extraction decodes "VAR: {json: PATH}", "{header: NAME}" or "{regex: RE}".
func (p *parser) extraction(f field) (Extraction, error) {
	d := p.d
	e := Extraction{Var: f.key.Value, Line: f.key.Line}
	if !isIdent(e.Var) {
		return e, d.errorf(f.key, f.path, "expected a variable name of letters, digits and _, got %q", e.Var)
	}
	m, err := d.mapping(f.value, f.path, "json", "header", "regex")
	if err != nil {
		return e, err
	}
	if len(m.fields) != 1 {
		return e, d.errorf(f.value, f.path, "expected one of {json: $.path}, {header: Name} or {regex: 'x=(\\w+)'}")
	}
	k := m.fields[0]
	e.Kind = k.key.Value
	if e.Expr, err = d.str(k.value, k.path); err != nil {
		return e, err
	}
	switch e.Kind {
	case "json":
		if e.path, err = parseJSONPath(e.Expr); err != nil {
			return e, d.errorf(k.value, k.path, "%v", err)
		}
	case "regex":
		if e.re, err = p.regexp(k.value, k.path); err != nil {
			return e, err
		}
	case "header":
		if !target.ValidToken(e.Expr) {
			return e, d.errorf(k.value, k.path, "expected a header name, got %q", e.Expr)
		}
	}
	return e, nil
}

// absoluteURL joins a relative URL to the base URL, checking the result.
// Joining appends: base http://h/api and /search give http://h/api/search.
func (s *Scenario) absoluteURL(u string) (string, error) {
	// Any scheme makes u absolute: ftp://h is refused, not joined as a path.
	if !strings.Contains(u, "://") {
		if s.BaseURL == "" {
			return "", fmt.Errorf("URL %q is relative and base_url is not set (set it in the file, or pass -base-url)", u)
		}
		u = strings.TrimRight(s.BaseURL, "/") + "/" + strings.TrimLeft(u, "/")
	}
	if err := target.CheckURL(u); err != nil {
		return "", err
	}
	return u, nil
}

// resolve returns a file path relative to the scenario's directory.
func (p *parser) resolve(name string) string {
	if filepath.IsAbs(name) || p.dir == "" {
		return name
	}
	return filepath.Join(p.dir, name)
}

// isIdent reports whether s can be written as .s in a template.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
