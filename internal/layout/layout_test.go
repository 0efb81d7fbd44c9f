// Package layout holds a test that keeps the module's import graph to the
// rules of docs/architecture.md.
package layout

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/surge-dev/surge/"

// allowed lists, for each package, the module's packages its production
// files may import (docs/architecture.md, "Packages"). A package missing
// here fails the test: a new package states its place.
var allowed = map[string][]string{
	"schedule":            {},
	"target":              {},
	"result":              {},
	"latency":             {},
	"lab":                 {},
	"attack":              {"result", "schedule", "target"},
	"threshold":           {"result", "summary"},
	"scenario":            {"attack", "schedule", "target", "threshold"},
	"summary":             {"latency", "result"},
	"analyze":             {"latency", "result", "summary"},
	"capacity":            {"latency", "result", "threshold"},
	"capacity/trial":      {"attack", "capacity", "latency", "result", "run", "schedule", "signals", "target", "threshold"},
	"run":                 {"attack", "internal/proc", "latency", "result", "scenario", "schedule", "signals", "summary", "target", "threshold"},
	"signals":             {"internal/proc", "latency", "result"},
	"report":              {"analyze", "capacity", "latency", "result", "summary"},
	"dashboard":           {"analyze", "report", "result", "summary"},
	"internal/starvation": {"internal/proc", "latency"},
	"internal/proc":       {},
	"bench/runner":        {"result"},
	"bench/target":        {},
	"cmd/surge":           nil, // the CLI may import any package but cmd
}

// TestImports parses the import lines of every production file of the
// module and checks them against allowed: the engine knows nothing of YAML,
// summaries or reports, analysis never reads results files itself, and
// nothing imports cmd.
func TestImports(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	graph := imports(t, root)
	if len(graph) < 10 {
		t.Fatalf("found %d packages under %s; is the test run from internal/layout?", len(graph), root)
	}
	for pkg, deps := range graph {
		rule, known := allowed[pkg]
		if !known {
			t.Errorf("package %s is not in the import rules: add it to allowed here and to docs/architecture.md", pkg)
			continue
		}
		for _, d := range deps {
			if strings.HasPrefix(d, "cmd/") {
				t.Errorf("%s imports %s: nothing imports cmd", pkg, d)
			} else if rule != nil && !slices.Contains(rule, d) {
				t.Errorf("%s imports %s, which docs/architecture.md does not allow (allowed: %v)", pkg, d, rule)
			}
		}
	}
}

// imports returns, per package directory relative to root, the module
// packages its non-test Go files import.
func imports(t *testing.T, root string) map[string][]string {
	t.Helper()
	graph := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		if _, ok := graph[rel]; !ok {
			graph[rel] = nil
		}
		for _, is := range f.Imports {
			p, _ := strconv.Unquote(is.Path.Value)
			if dep, ok := strings.CutPrefix(p, module); ok && !slices.Contains(graph[rel], dep) {
				graph[rel] = append(graph[rel], dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", root, err)
	}
	return graph
}
