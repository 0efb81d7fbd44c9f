package scenario

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error reports a malformed scenario: a YAML syntax error, an unknown or
// mistyped field, a template that does not compile, an unreadable feeder
// file or an inconsistent load profile. Every error Load and Parse return
// is an *Error.
type Error struct {
	File   string // scenario file name as given to Load or Parse
	Line   int    // 1-based line in File; 0 when the error is about the whole file
	Column int    // 1-based column; 0 when unknown
	Field  string // path of the field, like "load.stages[2].users"; may be empty
	Msg    string // what is wrong and what was expected
	Err    error  // underlying cause (a file system error, ...); may be nil
}

// Error returns "file:line: field: msg", leaving out the empty parts, e.g.
//
//	scn.yaml:12: requests[0].url: template: function "rnd" not defined
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.Err != nil && !strings.Contains(e.Msg, e.Err.Error()) {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause, so errors.Is(err, fs.ErrNotExist)
// works.
func (e *Error) Unwrap() error { return e.Err }

// decoder walks a YAML node tree, turning each node into a field of the
// scenario and every problem into an *Error naming the file, line and field.
type decoder struct {
	file string
}

// errorf returns an *Error about node n (which may be nil) at field path.
func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) *Error {
	e := &Error{File: d.file, Field: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// field is one key: value pair of a YAML mapping.
type field struct {
	key   *yaml.Node
	value *yaml.Node
	path  string // full field path of the value
}

// mapping is a decoded YAML mapping: its fields in order and by name.
type mapping struct {
	node   *yaml.Node
	fields []field
	byName map[string]field
}

// get returns the value node of key, or nil when the key is absent.
func (m mapping) get(key string) *yaml.Node { return m.byName[key].value }

// path returns the field path of key.
func (m mapping) path(key string) string { return m.byName[key].path }

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// join appends a key to a field path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// kindName names a node's kind for "expected X, got Y" messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// mapping decodes n as a mapping whose keys are all in known. known == nil
// accepts any key (for maps such as headers and vars). Duplicate keys are
// errors; an unknown key's error suggests the nearest known one.
func (d *decoder) mapping(n *yaml.Node, path string, known ...string) (mapping, error) {
	n = resolve(n)
	m := mapping{node: n, byName: map[string]field{}}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return m, nil
	}
	if n.Kind != yaml.MappingNode {
		return m, d.errorf(n, path, "expected a mapping of fields, got %s", kindName(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			return m, d.errorf(k, path, "expected a plain key, got %s", kindName(k))
		}
		p := join(path, k.Value)
		if known != nil && !contains(known, k.Value) {
			msg := fmt.Sprintf("unknown field %q", k.Value)
			if s := suggest(k.Value, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += fmt.Sprintf(" (expected one of %s)", strings.Join(known, ", "))
			}
			return m, d.errorf(k, path, "%s", msg)
		}
		if prev, dup := m.byName[k.Value]; dup {
			return m, d.errorf(k, p, "duplicate key (first at line %d)", prev.key.Line)
		}
		f := field{key: k, value: v, path: p}
		m.fields = append(m.fields, f)
		m.byName[k.Value] = f
	}
	return m, nil
}

// list decodes n as a sequence; a missing (null) list is empty.
func (d *decoder) list(n *yaml.Node, path string) ([]*yaml.Node, error) {
	n = resolve(n)
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, d.errorf(n, path, "expected a list, got %s", kindName(n))
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = resolve(c)
	}
	return out, nil
}

// scalar returns the text of a scalar node.
func (d *decoder) scalar(n *yaml.Node, path string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", d.errorf(n, path, "expected a single value, got %s", kindName(n))
	}
	if n.Tag == "!!null" {
		return "", nil
	}
	return n.Value, nil
}

func (d *decoder) str(n *yaml.Node, path string) (string, error) { return d.scalar(n, path) }

func (d *decoder) boolean(n *yaml.Node, path string) (bool, error) {
	s, err := d.scalar(n, path)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off", "":
		return false, nil
	}
	return false, d.errorf(n, path, "expected true or false, got %q", s)
}

// integer decodes a non-negative integer.
func (d *decoder) integer(n *yaml.Node, path string) (uint64, error) {
	s, err := d.scalar(n, path)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(strings.ReplaceAll(s, "_", ""), 10, 64)
	if err != nil {
		return 0, d.errorf(n, path, "expected a whole number ≥ 0, got %q", s)
	}
	return v, nil
}

// duration decodes a non-negative Go duration like "30s" or "1m30s".
func (d *decoder) duration(n *yaml.Node, path string) (time.Duration, error) {
	s, err := d.scalar(n, path)
	if err != nil {
		return 0, err
	}
	v, err := parseDuration(s)
	if err != nil {
		return 0, d.errorf(n, path, "%v", err)
	}
	return v, nil
}

// parseDuration parses a non-negative duration; "0" needs no unit.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("expected a duration like 500ms, 30s or 1m30s, got %q", s)
	}
	return v, nil
}

// strings decodes a list of scalars, or a single scalar as a one-item list.
func (d *decoder) strings(n *yaml.Node, path string) ([]string, error) {
	if n.Kind == yaml.ScalarNode {
		s, err := d.scalar(n, path)
		return []string{s}, err
	}
	items, err := d.list(n, path)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(items))
	for i, it := range items {
		if out[i], err = d.scalar(it, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// yamlLine finds the line number in a yaml.v3 error message.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxError turns an error of yaml.Decoder.Decode into an *Error.
func (d *decoder) syntaxError(err error) *Error {
	e := &Error{File: d.file, Msg: err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		e.Msg = te.Errors[0]
	}
	if m := yamlLine.FindStringSubmatch(e.Msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = e.Msg[len(m[0]):]
	} else {
		e.Msg = strings.TrimPrefix(e.Msg, "yaml: ")
	}
	e.Msg = "invalid YAML: " + e.Msg
	return e
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest returns the word in known nearest to s, if it is near enough to
// be a likely typo.
func suggest(s string, known []string) string {
	best, bestD := "", 1<<30
	for _, k := range known {
		if d := editDistance(strings.ToLower(s), k); d < bestD {
			best, bestD = k, d
		}
	}
	if bestD <= 2 || (bestD <= len(s)/3) || strings.HasPrefix(best, s) || strings.HasPrefix(s, best) {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
