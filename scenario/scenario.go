// Package scenario reads surge's declarative YAML scenarios: the requests
// to send (a weighted mix, or an ordered flow of steps that extracts values
// from responses), templated URLs, headers and bodies fed by vars and
// feeder files, checks on responses, a load profile of open-model rate or
// closed-model user stages, and pass/fail thresholds.
//
// Load compiles a file once; every problem is an *Error naming the file,
// line and field, before any request is sent. The engine then creates one
// VU per virtual user (or per worker, in the open model) and, for each
// iteration, calls Begin, then for each request of Plan: Render, send,
// Check and sleep Think. EngineConfig builds that plan for the engine: the
// load profile is a schedule.Profile, the requests an attack.Flow; the
// engine does not import scenario. The package does no I/O of its own while
// running. README.md documents the file format.
package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/target"
	"github.com/surge-dev/surge/threshold"
)

// Scenario is a compiled scenario file. It is safe for concurrent use by
// many VUs; it holds the run's shared state (the iteration counter and the
// feeders' cursors), so load a scenario once per run, or call Reset.
type Scenario struct {
	Name    string
	File    string // scenario file name as given
	BaseURL string // joined with relative request URLs
	// IterationsFrom names what set Load.Iterations in the note that ends
	// a run at that count: "" for the file's load.iterations, a flag
	// ("-count") when a command built the scenario.
	IterationsFrom string
	Header         http.Header   // default headers of every request, as written
	Timeout        time.Duration // per-request timeout; 0 means the engine's default
	Seed           uint64        // RNG seed from the file; 0 means the caller chooses
	Feeders        []*Feeder
	Vars           []Var
	Requests       []*Request // the weighted mix; nil when Steps is used
	Steps          []*Request // the ordered flow; nil when Requests is used
	Load           schedule.Profile
	Thresholds     []threshold.Threshold
	Signals        Signals // the server signals read during the run

	c         *compiler
	vars      []text        // compiled Vars
	weights   []int         // cumulative weights of Requests
	seq       atomic.Uint64 // next iteration number, shared by all VUs
	extracted []string      // every extracted variable name
	clock     func() time.Time
}

// Var is a value computed at the start of every iteration, in file order;
// later vars may use earlier ones.
type Var struct {
	Name     string
	Template string
	Line     int
}

// Reset rewinds the shared state (iteration counter and feeder cursors),
// so the scenario can run again as if just loaded.
func (s *Scenario) Reset() {
	s.seq.Store(0)
	for _, f := range s.Feeders {
		f.cursor.Store(0)
	}
}

// Options change how a scenario file is read.
type Options struct {
	// BaseURL, when set, replaces the file's base_url (-base-url): relative
	// request URLs are joined to it, so a file without base_url can use
	// them. It must be an absolute http(s) URL.
	BaseURL string
}

// Load reads, parses, compiles and validates the scenario file at path.
// Relative feeder and body_file paths resolve against the file's directory.
// Every error is an *Error.
func Load(path string) (*Scenario, error) { return LoadWith(path, Options{}) }

// LoadWith is Load with options. Every error is an *Error.
func LoadWith(path string, o Options) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read scenario", Err: err}
	}
	return ParseWith(bytes.NewReader(b), path, filepath.Dir(path), o)
}

// Parse reads a scenario from r. name is the file name for error messages;
// relative file paths in the scenario resolve against dir ("" means the
// current directory). Every error is an *Error.
func Parse(r io.Reader, name, dir string) (*Scenario, error) {
	return ParseWith(r, name, dir, Options{})
}

// ParseWith is Parse with options. Every error is an *Error.
func ParseWith(r io.Reader, name, dir string, o Options) (*Scenario, error) {
	d := &decoder{file: name}
	var doc yaml.Node
	dec := yaml.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, &Error{File: name, Msg: "empty scenario: expected at least requests or steps"}
		}
		return nil, d.syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, &Error{File: name, Line: extra.Line, Msg: "expected one YAML document, found another (remove the ---)"}
	}
	p := &parser{d: d, dir: dir, base: o.BaseURL, s: &Scenario{File: name, Header: http.Header{}, clock: time.Now}}
	p.c = newCompiler(d)
	p.s.c = p.c
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if err := p.top(root); err != nil {
		return nil, err
	}
	return p.s, nil
}

// parser holds the state of one Parse.
type parser struct {
	d              *decoder
	c              *compiler
	s              *Scenario
	dir            string
	base           string // Options.BaseURL
	defaultHeaders []field
	thinkMin       time.Duration
	thinkMax       time.Duration
}

var topFields = []string{"name", "base_url", "headers", "timeout", "seed", "think", "feeders", "vars", "requests", "steps", "load", "thresholds", "scrape", "scrape_interval", "watch"}

// baseURL sets the scenario's base URL from the file's base_url node v
// (nil when absent), or from Options.BaseURL, which replaces it.
func (p *parser) baseURL(v *yaml.Node) error {
	d, s := p.d, p.s
	if v != nil {
		var err error
		if s.BaseURL, err = d.str(v, "base_url"); err != nil {
			return err
		}
		if s.BaseURL != "" && p.base == "" {
			if _, err := s.absoluteURL(s.BaseURL); err != nil {
				return d.errorf(v, "base_url", "%v", err)
			}
		}
	}
	if p.base != "" {
		s.BaseURL = p.base
		if _, err := s.absoluteURL(p.base); err != nil {
			return &Error{File: d.file, Msg: "base URL given in place of base_url", Err: err}
		}
	}
	return nil
}

// top decodes the whole file, in dependency order: feeders and vars before
// the requests that use them.
func (p *parser) top(n *yaml.Node) error {
	d, s := p.d, p.s
	m, err := d.mapping(n, "", topFields...)
	if err != nil {
		return err
	}
	if v := m.get("name"); v != nil {
		if s.Name, err = d.str(v, "name"); err != nil {
			return err
		}
	}
	if s.Name == "" {
		s.Name = trimExt(filepath.Base(d.file))
	}
	if err := p.baseURL(m.get("base_url")); err != nil {
		return err
	}
	if v := m.get("timeout"); v != nil {
		if s.Timeout, err = d.duration(v, "timeout"); err != nil {
			return err
		}
	}
	if v := m.get("seed"); v != nil {
		if s.Seed, err = d.integer(v, "seed"); err != nil {
			return err
		}
	}
	if v := m.get("think"); v != nil {
		if p.thinkMin, p.thinkMax, err = p.think(v, "think"); err != nil {
			return err
		}
	}
	if v := m.get("headers"); v != nil {
		hm, err := d.mapping(v, "headers")
		if err != nil {
			return err
		}
		for _, f := range hm.fields {
			if !target.ValidToken(f.key.Value) {
				return d.errorf(f.key, f.path, "expected a header name (letters, digits and -), got %q", f.key.Value)
			}
			val, err := d.str(f.value, f.path)
			if err != nil {
				return err
			}
			s.Header.Add(f.key.Value, val)
		}
		p.defaultHeaders = hm.fields
	}
	if err := p.signals(m); err != nil {
		return err
	}
	sc := scope{}
	if err := p.feeders(m.get("feeders"), sc); err != nil {
		return err
	}
	if err := p.vars(m.get("vars"), sc); err != nil {
		return err
	}
	if err := p.requests(m, sc); err != nil {
		return err
	}
	if s.Load, err = p.load(m.get("load")); err != nil {
		return err
	}
	return p.thresholds(m.get("thresholds"))
}

// feeders decodes the feeders and reads their files.
func (p *parser) feeders(n *yaml.Node, sc scope) error {
	d := p.d
	items, err := d.list(n, "feeders")
	if err != nil {
		return err
	}
	for i, it := range items {
		path := fmt.Sprintf("feeders[%d]", i)
		m, err := d.mapping(it, path, "name", "file", "strategy")
		if err != nil {
			return err
		}
		f := &Feeder{Strategy: StrategyCircular}
		if f.Name, err = d.str(orNull(m.get("name")), join(path, "name")); err != nil {
			return err
		}
		if !isIdent(f.Name) {
			return d.errorf(orNode(m.get("name"), it), join(path, "name"), "expected a name of letters, digits and _ (used as {{.NAME.column}}), got %q", f.Name)
		}
		if _, dup := sc[f.Name]; dup {
			return d.errorf(m.get("name"), join(path, "name"), "feeder %q is defined twice", f.Name)
		}
		if v := m.get("strategy"); v != nil {
			if f.Strategy, err = d.str(v, join(path, "strategy")); err != nil {
				return err
			}
			if !contains(strategies, f.Strategy) {
				return d.errorf(v, join(path, "strategy"), "unknown strategy %q: expected one of circular, sequential, random, once", f.Strategy)
			}
		}
		fv := m.get("file")
		if f.File, err = d.str(orNull(fv), join(path, "file")); err != nil {
			return err
		}
		if f.File == "" {
			return d.errorf(it, join(path, "file"), "missing: expected a CSV or JSON lines file")
		}
		f.File = p.resolve(f.File)
		if f.rows, f.Columns, err = readFeeder(f.File); err != nil {
			return &Error{File: d.file, Line: fv.Line, Column: fv.Column, Field: join(path, "file"), Msg: err.Error(), Err: errors.Unwrap(err)}
		}
		sc[f.Name] = f.Columns
		p.s.Feeders = append(p.s.Feeders, f)
	}
	return nil
}

// orNode returns n, or def when n is nil.
func orNode(n, def *yaml.Node) *yaml.Node {
	if n == nil {
		return def
	}
	return n
}

// vars decodes and compiles the vars; each sees the ones before it.
func (p *parser) vars(n *yaml.Node, sc scope) error {
	if n == nil {
		return nil
	}
	m, err := p.d.mapping(n, "vars")
	if err != nil {
		return err
	}
	for _, f := range m.fields {
		name := f.key.Value
		if !isIdent(name) {
			return p.d.errorf(f.key, f.path, "expected a variable name of letters, digits and _, got %q", name)
		}
		if _, dup := sc[name]; dup {
			return p.d.errorf(f.key, f.path, "%q is already the name of a feeder", name)
		}
		raw, err := p.d.str(f.value, f.path)
		if err != nil {
			return err
		}
		t, err := p.c.compile(raw, f.value, f.path, sc)
		if err != nil {
			return err
		}
		p.s.Vars = append(p.s.Vars, Var{Name: name, Template: raw, Line: f.key.Line})
		p.s.vars = append(p.s.vars, t)
		sc[name] = nil
	}
	return nil
}

// requests decodes requests (a mix) or steps (a flow); exactly one is given.
func (p *parser) requests(m mapping, sc scope) error {
	d, s := p.d, p.s
	rq, st := m.get("requests"), m.get("steps")
	switch {
	case rq != nil && st != nil:
		return d.errorf(st, "steps", "give requests (a weighted mix) or steps (an ordered flow), not both")
	case rq == nil && st == nil:
		return d.errorf(m.node, "", "missing requests or steps: nothing to send")
	}
	key, n := "requests", rq
	if st != nil {
		key, n = "steps", st
	}
	items, err := d.list(n, key)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return d.errorf(n, key, "expected at least one request")
	}
	names := map[string]int{}
	extracted := map[string]bool{}
	for i, it := range items {
		path := fmt.Sprintf("%s[%d]", key, i)
		r, err := p.request(it, path, sc)
		if err != nil {
			return err
		}
		if line, dup := names[r.Name]; dup {
			return d.errorf(it, join(path, "name"), "name %q is also used by the request at line %d: names label results and must differ", r.Name, line)
		}
		names[r.Name] = r.Line
		for _, e := range r.Extract {
			if _, clash := sc[e.Var]; clash && !extracted[e.Var] {
				return d.errorf(it, join(path, "extract."+e.Var), "%q is already the name of a var or feeder", e.Var)
			}
			if !extracted[e.Var] {
				extracted[e.Var] = true
				s.extracted = append(s.extracted, e.Var)
			}
			if st != nil { // later steps may use it
				sc = sc.with(e.Var)
			}
		}
		if st != nil {
			s.Steps = append(s.Steps, r)
			continue
		}
		s.Requests = append(s.Requests, r)
		total := r.Weight
		if len(s.weights) > 0 {
			total += s.weights[len(s.weights)-1]
		}
		s.weights = append(s.weights, total)
	}
	if s.Requests != nil && s.weights[len(s.weights)-1] == 0 {
		return d.errorf(n, key, "every weight is 0: at least one request needs a positive weight")
	}
	return nil
}

// thresholds decodes the list of threshold expressions.
func (p *parser) thresholds(n *yaml.Node) error {
	items, err := p.d.list(n, "thresholds")
	if err != nil {
		return err
	}
	for i, it := range items {
		path := fmt.Sprintf("thresholds[%d]", i)
		s, err := p.d.str(it, path)
		if err != nil {
			return err
		}
		t, err := threshold.ParseThreshold(s)
		if err != nil {
			// The field names it a threshold already: thresholds[0]:
			// "p99 < 500": expected … (not thresholds[0]: threshold "…").
			return p.d.errorf(it, path, "%s", strings.TrimPrefix(err.Error(), "threshold "))
		}
		t.Line = it.Line
		p.s.Thresholds = append(p.s.Thresholds, t)
	}
	return nil
}

// trimExt removes a file name's extension.
func trimExt(name string) string { return name[:len(name)-len(filepath.Ext(name))] }
