package scenario

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"go.yaml.in/yaml/v3"
)

// text is a templated string of the scenario: a constant, or the index of
// its compiled template in the VU's table.
type text struct {
	raw   string // as written
	path  string // field path, the template's name
	index int    // index into the VU's templates; -1 for a constant
}

// isConst reports whether t has no template actions.
func (t text) isConst() bool { return t.index < 0 }

// compiler compiles the templates of one scenario into one namespace, so a
// VU clones them all with one Clone.
type compiler struct {
	d     *decoder
	root  *template.Template
	names []string // template names by index
}

func newCompiler(d *decoder) *compiler {
	f := &funcs{clock: time.Now}
	root := template.New("").Option("missingkey=error").Funcs(f.funcMap())
	return &compiler{d: d, root: root}
}

// scope is what a template may refer to at its place in the file: each
// top-level name and, for feeders, the keys of its rows (nil: any key).
type scope map[string][]string

// with returns a copy of s with more names.
func (s scope) with(names ...string) scope {
	c := make(scope, len(s)+len(names))
	for k, v := range s {
		c[k] = v
	}
	for _, n := range names {
		c[n] = nil
	}
	return c
}

// compile compiles raw, the value of node n at field path, as a template
// that may refer to the names in sc. A string without "{{" is a constant.
func (c *compiler) compile(raw string, n *yaml.Node, path string, sc scope) (text, error) {
	t := text{raw: raw, path: path, index: -1}
	if !strings.Contains(raw, "{{") {
		return t, nil
	}
	tmpl, err := c.root.New(path).Parse(raw)
	if err != nil {
		return t, c.d.errorf(n, path, "template: %s", cleanTemplateError(err, path))
	}
	if err := c.check(tmpl.Tree.Root, true, sc); err != nil {
		return t, c.d.errorf(n, path, "template: %v", err)
	}
	t.index = len(c.names)
	c.names = append(c.names, path)
	return t, nil
}

// cleanTemplateError removes text/template's "template: NAME:LINE:" prefix,
// which repeats what *Error already says; a line within a multi-line
// template is kept.
func cleanTemplateError(err error, name string) string {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, "template: "+name+":")
	if !ok {
		return strings.TrimPrefix(msg, "template: ")
	}
	line, after, ok := strings.Cut(rest, ": ")
	if !ok {
		return rest
	}
	line, _, _ = strings.Cut(line, ":") // drop the column of exec errors
	if line != "1" {
		return "line " + line + " of the template: " + after
	}
	return after
}

// check walks a parsed template and reports references to names that are
// not in scope (typos, or a value extracted only by a later step) and env
// calls naming an unset variable. dot is whether the dot is still the
// template's data: inside range and with it is not, and is not checked.
func (c *compiler) check(n parse.Node, dot bool, sc scope) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		return c.checkAll(n.Nodes, dot, sc)
	case *parse.ActionNode:
		return c.check(n.Pipe, dot, sc)
	case *parse.PipeNode:
		if n == nil {
			return nil
		}
		for _, cmd := range n.Cmds {
			if err := c.check(cmd, dot, sc); err != nil {
				return err
			}
		}
	case *parse.CommandNode:
		if err := checkEnv(n); err != nil {
			return err
		}
		return c.checkAll(n.Args, dot, sc)
	case *parse.FieldNode:
		if dot {
			return sc.ref(n.Ident)
		}
	case *parse.VariableNode:
		if len(n.Ident) > 1 && n.Ident[0] == "$" {
			return sc.ref(n.Ident[1:])
		}
	case *parse.ChainNode:
		return c.check(n.Node, dot, sc)
	case *parse.IfNode:
		return c.branch(&n.BranchNode, dot, dot, sc)
	case *parse.RangeNode:
		return c.branch(&n.BranchNode, dot, false, sc)
	case *parse.WithNode:
		return c.branch(&n.BranchNode, dot, false, sc)
	case *parse.TemplateNode:
		return c.check(n.Pipe, dot, sc)
	}
	return nil
}

// checkAll checks each of nodes in turn and returns the first error.
func (c *compiler) checkAll(nodes []parse.Node, dot bool, sc scope) error {
	for _, x := range nodes {
		if err := c.check(x, dot, sc); err != nil {
			return err
		}
	}
	return nil
}

// checkEnv reports a command env "NAME" whose variable is not set.
func checkEnv(n *parse.CommandNode) error {
	if len(n.Args) != 2 {
		return nil
	}
	id, ok1 := n.Args[0].(*parse.IdentifierNode)
	s, ok2 := n.Args[1].(*parse.StringNode)
	if ok1 && ok2 && id.Ident == "env" {
		if _, set := os.LookupEnv(s.Text); !set {
			return fmt.Errorf("environment variable %s is not set", s.Text)
		}
	}
	return nil
}

// branch checks the pipeline of an if, range or with with dot, and its
// lists with inner.
func (c *compiler) branch(b *parse.BranchNode, dot, inner bool, sc scope) error {
	if err := c.check(b.Pipe, dot, sc); err != nil {
		return err
	}
	if err := c.check(b.List, inner, sc); err != nil {
		return err
	}
	return c.check(b.ElseList, inner, sc)
}

// ref checks a reference like .lots.id (idents ["lots", "id"]).
func (sc scope) ref(idents []string) error {
	name := idents[0]
	keys, ok := sc[name]
	if !ok {
		known := make([]string, 0, len(sc))
		for k := range sc {
			known = append(known, k)
		}
		sort.Strings(known)
		msg := fmt.Sprintf(".%s is not defined here", name)
		if s := suggest(name, known); s != "" {
			msg += fmt.Sprintf(" (did you mean .%s?)", s)
		}
		if len(known) == 0 {
			return fmt.Errorf("%s: no vars, feeders or extracted values are defined before it", msg)
		}
		return fmt.Errorf("%s: defined are %s", msg, "."+strings.Join(known, ", ."))
	}
	if len(idents) > 1 && keys != nil && !contains(keys, idents[1]) {
		return fmt.Errorf("feeder %s has no column %q: its columns are %s", name, idents[1], strings.Join(keys, ", "))
	}
	return nil
}

// templates is a VU's clone of the scenario's compiled templates, bound to
// its own functions, by index.
type templates []*template.Template

// bind clones the scenario's templates and binds the clone to f.
func (c *compiler) bind(f *funcs) templates {
	if len(c.names) == 0 {
		return nil
	}
	clone := template.Must(c.root.Clone()).Funcs(f.funcMap())
	out := make(templates, len(c.names))
	for i, name := range c.names {
		out[i] = clone.Lookup(name)
	}
	return out
}

// execError makes a template execution error readable.
func execError(t text, err error) error {
	return fmt.Errorf("%s: template: %s", t.path, cleanTemplateError(err, t.path))
}
