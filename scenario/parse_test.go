package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surge-dev/surge/schedule"
)

func TestParseErrors(t *testing.T) {
	files := map[string]string{"ok.csv": rowsCSV, "empty.csv": "id\n", "bad.jsonl": "{\"id\":1}\n[1]\n"}
	tests := []struct {
		name string
		src  string
		want string // the whole error message
	}{
		{"empty", "", "scn.yaml: empty scenario: expected at least requests or steps"},
		{"yaml syntax", "name: x\nrequests: [\n", "scn.yaml:2: invalid YAML: did not find expected node content"},
		{"unknown top field", "nmae: x\nrequests: [{url: http://h/}]\n",
			`scn.yaml:1: unknown field "nmae" (did you mean "name"?)`},
		{"unknown request field", "base_url: http://h\nrequests:\n  - url: /\n    metod: GET\n",
			`scn.yaml:4: requests[0]: unknown field "metod" (did you mean "method"?)`},
		{"no requests", "name: x\n", "scn.yaml:1: missing requests or steps: nothing to send"},
		{"both", "requests: [{url: http://h/}]\nsteps: [{url: http://h/}]\n",
			"scn.yaml:2: steps: give requests (a weighted mix) or steps (an ordered flow), not both"},
		{"undefined function", "base_url: http://h\nrequests:\n  - url: /x/{{rnd 1 2}}\n",
			`scn.yaml:3: requests[0].url: template: function "rnd" not defined`},
		{"undefined var", "base_url: http://h\nvars: {from: x}\nrequests:\n  - url: /x?f={{.form}}\n",
			`scn.yaml:4: requests[0].url: template: .form is not defined here (did you mean .from?): defined are .from`},
		{"var used before defined", "vars:\n  to: '{{.from}}'\n  from: x\nrequests: [{url: http://h/}]\n",
			`scn.yaml:2: vars.to: template: .from is not defined here: no vars, feeders or extracted values are defined before it`},
		{"extracted by a later step", "base_url: http://h\nsteps:\n  - {name: me, url: '/me?t={{.tok}}'}\n  - {name: login, url: /login, extract: {tok: {json: $.t}}}\n",
			`scn.yaml:3: steps[0].url: template: .tok is not defined here: no vars, feeders or extracted values are defined before it`},
		{"feeder column", "base_url: http://h\nfeeders: [{name: lots, file: ok.csv}]\nrequests: [{url: '/{{.lots.idd}}'}]\n",
			`scn.yaml:3: requests[0].url: template: feeder lots has no column "idd": its columns are id, name`},
		{"env unset", "base_url: http://h\nrequests:\n  - url: /\n    headers: {Authorization: 'Bearer {{env \"SURGE_TEST_UNSET_TOKEN\"}}'}\n",
			"scn.yaml:4: requests[0].headers.Authorization: template: environment variable SURGE_TEST_UNSET_TOKEN is not set"},
		{"relative url without base", "requests: [{url: /users}]\n",
			`scn.yaml:1: requests[0].url: URL "/users" is relative and base_url is not set`},
		{"bad method", "requests: [{url: 'http://h/', method: 'GE T'}]\n",
			`scn.yaml:1: requests[0].method: expected an HTTP method like GET or POST, got "GE T"`},
		{"duplicate names", "base_url: http://h\nrequests:\n  - {name: a, url: /a}\n  - {name: a, url: /b}\n",
			`scn.yaml:4: requests[1].name: name "a" is also used by the request at line 3: names label results and must differ`},
		{"bad status", "base_url: http://h\nrequests:\n  - url: /\n    checks: [{status: [ok]}]\n",
			`scn.yaml:4: requests[0].checks[0].status: expected HTTP status codes like [200, 201], got "ok"`},
		{"two kinds in a check", "base_url: http://h\nrequests:\n  - url: /\n    checks: [{status: 200, duration: < 1s}]\n",
			"scn.yaml:4: requests[0].checks[0]: one check per list item: found both status and duration"},
		{"bad regex", "base_url: http://h\nrequests:\n  - url: /\n    extract: {t: {regex: '(x'}}\n",
			"scn.yaml:4: requests[0].extract.t.regex: invalid regular expression: error parsing regexp: missing closing ): `(x`"},
		{"missing feeder file", "feeders: [{name: f, file: nope.csv}]\nrequests: [{url: http://h/}]\n",
			"scn.yaml:1: feeders[0].file: cannot read nope.csv: open "},
		{"feeder without rows", "feeders: [{name: f, file: empty.csv}]\nrequests: [{url: http://h/}]\n",
			"scn.yaml:1: feeders[0].file: empty.csv: has no rows"},
		{"bad jsonl", "feeders: [{name: f, file: bad.jsonl}]\nrequests: [{url: http://h/}]\n",
			"scn.yaml:1: feeders[0].file: bad.jsonl: line 2: expected one JSON object"},
		{"bad strategy", "feeders: [{name: f, file: ok.csv, strategy: queue}]\nrequests: [{url: http://h/}]\n",
			`scn.yaml:1: feeders[0].strategy: unknown strategy "queue": expected one of circular, sequential, random, once`},
		{"bad duration", "requests: [{url: http://h/}]\ntimeout: 30\n",
			`scn.yaml:2: timeout: expected a duration like 500ms, 30s or 1m30s, got "30"`},
		{"bad users", "requests: [{url: http://h/}]\nload:\n  stages:\n    - {duration: 10s, users: 1..}\n    - {duration: 10s, users: 5}\n",
			`scn.yaml:4: load.stages[0].users: expected users as N or FROM..TO, whole numbers like 5 or 1..5, got "1.."`},
		{"bad rate", "requests: [{url: http://h/}]\nload:\n  model: open\n  stages:\n    - {duration: 10s, rate: 20/0s}\n",
			`scn.yaml:5: load.stages[0].rate: "20/0s": expected a positive duration after '/', like 1s or 100ms`},
		{"rate not a number", "requests: [{url: http://h/}]\nload:\n  rate: fast/1s\n  duration: 1s\n",
			`scn.yaml:3: load.rate: "fast/1s": expected N or N/DURATION, like 100, 100/1s, 0.5/1s or 5/100ms`},
		{"ramp end not a rate", "requests: [{url: http://h/}]\nload:\n  stages:\n    - {duration: 10s, rate: 10/1s..x}\n",
			`scn.yaml:4: load.stages[0].rate: "x": expected N or N/DURATION, like 100, 100/1s, 0.5/1s or 5/100ms`},
		{"rate in closed model", "requests: [{url: http://h/}]\nload:\n  model: closed\n  stages:\n    - {duration: 10s, users: 1}\n    - {duration: 10s, rate: 5}\n",
			"scn.yaml:6: load.stages[1].rate: the model is closed, so stages set users, not rate"},
		{"stage without users", "requests: [{url: http://h/}]\nload:\n  stages:\n    - {duration: 10s}\n",
			"scn.yaml:4: load.stages[0]: missing: expected users (like 5 or 1..5) or rate (like 20/1s or 10/1s..50/1s)"},
		{"unbounded without limit", "requests: [{url: http://h/}]\nload: {users: 5}\n",
			"scn.yaml:2: load.duration: missing: without a duration the run needs iterations or iterations_per_user to end"},
		{"stage typo", "requests: [{url: http://h/}]\nload:\n  stages:\n    - {duraton: 10s, users: 1}\n",
			`scn.yaml:4: load.stages[0]: unknown field "duraton" (did you mean "duration"?)`},
		{"bad threshold", "requests: [{url: http://h/}]\nthresholds:\n  - p99 < 500\n",
			`scn.yaml:3: thresholds[0]: "p99 < 500": expected a latency with a unit, like 500ms or 1.5s, got "500"`},
		{"duplicate key", "name: a\nname: b\nrequests: [{url: http://h/}]\n", "scn.yaml:2: name: duplicate key (first at line 1)"},
		{"two documents", "requests: [{url: http://h/}]\n---\nname: b\n", "scn.yaml:2: expected one YAML document, found another (remove the ---)"},
		{"list instead of map", "- a\n- b\n", "scn.yaml:1: expected a mapping of fields, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseIn(t, tt.src, files)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want an *Error", err, err)
			}
			if got := err.Error(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("error\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	src := `
name: search-under-load
base_url: http://127.0.0.1:8088
headers: {Accept: application/json}
timeout: 30s
seed: 7
feeders:
  - {name: lots, file: lots.csv, strategy: random}
vars:
  from: '{{randDate (monthStart) (monthEnd)}}'
  to:   '{{randDate .from (monthEnd)}}'
requests:
  - name: search
    weight: 3
    url: /search?lot={{.lots.id}}&from={{.from}}&to={{.to}}
    checks: [{status: [200]}, {json: $.items}, {duration: < 800ms}]
  - name: home
    url: /
load:
  model: closed
  delay: 10s
  stages:
    - {name: warmup, duration: 30s, users: 1, warmup: true}
    - {duration: 10s, users: 1..5}
thresholds:
  - p99 < 500ms
  - p95{name:search} < 300ms
`
	s := mustParse(t, src, map[string]string{"lots.csv": rowsCSV})
	if s.Name != "search-under-load" || s.Timeout != 30*time.Second || s.Seed != 7 || len(s.Requests) != 2 || s.Requests[0].Weight != 3 {
		t.Errorf("scenario = %+v", s)
	}
	if got := s.Requests[0].Checks[2].Name; got != "duration < 800ms" {
		t.Errorf("check name %q", got)
	}
	want := schedule.Profile{Model: schedule.ModelClosed, Delay: 10 * time.Second, Stages: []schedule.Stage{
		{Name: "warmup", Duration: 30 * time.Second, Warmup: true, FromUsers: 1, ToUsers: 1},
		{Duration: 10 * time.Second, FromUsers: 1, ToUsers: 5},
	}}
	if s.Load.Model != want.Model || s.Load.Delay != want.Delay || len(s.Load.Stages) != 2 || s.Load.Stages[0] != want.Stages[0] || s.Load.Stages[1] != want.Stages[1] {
		t.Errorf("load = %+v, want %+v", s.Load, want)
	}
	if s.Thresholds[1].Line != 27 || s.Thresholds[1].Filter["name"] != "search" {
		t.Errorf("threshold = %+v (line %d)", s.Thresholds[1], s.Thresholds[1].Line)
	}
}

// TestExamples loads every scenario under examples/ and renders each request.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("found %d examples, %v", len(files), err)
	}
	for _, f := range files {
		s, err := Load(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if err := s.DryRun(&strings.Builder{}); err != nil {
			t.Errorf("%s: dry run: %v", f, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/*.yaml")
	for _, s := range seeds {
		if b, err := readFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add("requests: [{url: 'http://h/{{seq}}', checks: [{json: {path: $.a, equals: [1, {b: c}]}}]}]\nload: {rate: 1/s..5/s, duration: 1s}\n")
	f.Add("steps: [{url: http://h, extract: {a: {regex: x}}}]\nload: {stages: [{duration: 1s, users: 0..2}]}\nthresholds: [p99 < 1s]\n")
	f.Add("a: &x [*x]\n")
	f.Fuzz(func(t *testing.T, src string) {
		s, err := Parse(strings.NewReader(src), "fuzz.yaml", t.TempDir())
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T, not an *Error", err, err)
			}
			return
		}
		// A valid scenario must be usable without panics.
		if err := s.DryRun(&strings.Builder{}); err != nil && !errors.Is(err, ErrFeederExhausted) {
			t.Logf("dry run: %v", err)
		}
		for i := uint64(0); i < 5; i++ {
			s.Load.At(i)
		}
		s.Load.UsersAt(time.Second)
		s.Load.Describe()
	})
}

func readFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}

// TestBaseURLOption: a file whose request URLs are relative and that has no
// base_url is read when the base URL is given (-base-url), which replaces
// the file's own base_url when it has one; without either, the error says
// how to give one.
func TestBaseURLOption(t *testing.T) {
	src := "requests:\n  - {name: a, url: /users}\n  - {name: b, url: 'items?id={{seq}}'}\n"
	s, err := ParseWith(strings.NewReader(src), "scn.yaml", "", Options{BaseURL: "http://127.0.0.1:9000/api"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Requests[0].abs; got != "http://127.0.0.1:9000/api/users" {
		t.Errorf("joined URL %q", got)
	}
	over := "base_url: http://other.invalid:1\n" + src
	if s, err = ParseWith(strings.NewReader(over), "scn.yaml", "", Options{BaseURL: "http://127.0.0.1:9000"}); err != nil || s.BaseURL != "http://127.0.0.1:9000" {
		t.Errorf("-base-url over base_url: base %q, err %v", s.BaseURL, err)
	}
	_, err = Parse(strings.NewReader(src), "scn.yaml", "")
	if err == nil || !strings.Contains(err.Error(), "scn.yaml:2: requests[0].url:") || !strings.Contains(err.Error(), "pass -base-url") {
		t.Errorf("no base URL: %v", err)
	}
	if _, err = ParseWith(strings.NewReader(src), "scn.yaml", "", Options{BaseURL: "ftp://h"}); err == nil {
		t.Error("an ftp base URL was taken")
	}
}
