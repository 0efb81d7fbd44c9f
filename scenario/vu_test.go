package scenario

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/surge-dev/surge/target"
)

const rowsCSV = "id,name\n1,a\n2,b\n3,c\n"

// feederIDs returns the ids a feeder gives in iterations, as VU,id pairs;
// vus take turns.
func feederIDs(t *testing.T, strategy, file string, data string, vus, iters int) ([]string, error) {
	src := fmt.Sprintf("base_url: http://h\nfeeders: [{name: f, file: %s, strategy: %s}]\nrequests: [{url: '/{{.f.id}}'}]\n", file, strategy)
	s := mustParse(t, src, map[string]string{file: data})
	var vs []*VU
	for i := 0; i < vus; i++ {
		vs = append(vs, s.NewVU(i, 1))
	}
	var got []string
	for i := 0; i < iters; i++ {
		vu := vs[i%vus]
		if err := vu.Begin(); err != nil {
			return got, err
		}
		row, _ := vu.Value("f")
		got = append(got, fmt.Sprintf("%d:%v", vu.ID(), row.(map[string]any)["id"]))
	}
	return got, nil
}

func TestFeederStrategies(t *testing.T) {
	tests := []struct {
		strategy string
		file     string
		data     string
		want     []string
	}{
		{"circular", "f.csv", rowsCSV, []string{"0:1", "1:2", "0:3", "1:1", "0:2"}},
		{"sequential", "f.csv", rowsCSV, []string{"0:1", "1:2", "0:2", "1:3", "0:3", "1:1"}},
		{"once", "f.csv", rowsCSV, []string{"0:1", "1:2", "0:3"}},
		{"circular", "f.jsonl", `{"id": 1}` + "\n\n" + `{"id": 2, "x": [1]}` + "\n", []string{"0:1", "1:2", "0:1"}},
	}
	for _, tt := range tests {
		got, err := feederIDs(t, tt.strategy, tt.file, tt.data, 2, len(tt.want))
		if err != nil {
			t.Errorf("%s: %v", tt.strategy, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", tt.strategy, tt.file, diff)
		}
	}
}

func TestFeederOnceExhausted(t *testing.T) {
	got, err := feederIDs(t, "once", "f.csv", rowsCSV, 2, 4)
	if !errors.Is(err, ErrFeederExhausted) || !strings.Contains(err.Error(), "feeder f (f.csv, 3 rows)") {
		t.Fatalf("4th iteration of 3 rows: error %v, want ErrFeederExhausted naming feeder f", err)
	}
	if len(got) != 3 {
		t.Errorf("got %d rows before exhaustion, want 3", len(got))
	}
}

func TestFeederRandom(t *testing.T) {
	got, err := feederIDs(t, "random", "f.csv", rowsCSV, 1, 300)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, g := range got {
		seen[g]++
	}
	if len(seen) != 3 {
		t.Errorf("random over 3 rows in 300 iterations gave %v", seen)
	}
	again, _ := feederIDs(t, "random", "f.csv", rowsCSV, 1, 300)
	if !cmp.Equal(got, again) {
		t.Error("random feeder is not reproducible with the same seed")
	}
}

func TestRenderAndFlow(t *testing.T) {
	src := `
base_url: http://h:1/api/
headers: {Accept: application/json, X-Run: 'r{{vu}}'}
vars:
  a: '{{seq}}'
  b: 'x{{.a}}'
steps:
  - name: login
    method: post
    url: /login?n={{.b}}
    body: '{"n":{{.a}}}'
    extract: {tok: {json: $.t}}
  - name: me
    url: https://other/me
    headers: {Authorization: 'Bearer {{.tok}}', Accept: text/plain}
`
	s := mustParse(t, src, nil)
	vu := s.NewVU(3, 1)
	if err := vu.Begin(); err != nil {
		t.Fatal(err)
	}
	plan := vu.Plan()
	if len(plan) != 2 {
		t.Fatalf("Plan has %d requests, want 2", len(plan))
	}
	var tg target.Target
	if err := vu.Render(plan[0], &tg); err != nil {
		t.Fatal(err)
	}
	want := target.Target{Method: "POST", URL: "http://h:1/api/login?n=x0",
		Header: http.Header{"Accept": {"application/json"}, "X-Run": {"r3"}}, Body: []byte(`{"n":0}`)}
	if diff := cmp.Diff(want, tg); diff != "" {
		t.Errorf("login (-want +got):\n%s", diff)
	}
	// Before the extraction, me cannot render.
	if err := vu.Render(plan[1], &tg); err == nil || !strings.Contains(err.Error(), `steps[1].headers.Authorization: template:`) {
		t.Errorf("me before login: error %v, want one naming the field", err)
	}
	if f := vu.Check(plan[0], &Response{Status: 200, Body: []byte(`{"t":"T1"}`)}); f != "" {
		t.Fatal(f)
	}
	if err := vu.Render(plan[1], &tg); err != nil {
		t.Fatal(err)
	}
	want = target.Target{Method: "GET", URL: "https://other/me",
		Header: http.Header{"Accept": {"text/plain"}, "X-Run": {"r3"}, "Authorization": {"Bearer T1"}}, Body: []byte{}}
	if diff := cmp.Diff(want, tg); diff != "" {
		t.Errorf("me (-want +got):\n%s", diff)
	}
	// The next iteration forgets the token and takes the next seq.
	if err := vu.Begin(); err != nil {
		t.Fatal(err)
	}
	if _, ok := vu.Value("tok"); ok {
		t.Error("an extracted value outlived its iteration")
	}
	if v, _ := vu.Value("b"); v != "x1" {
		t.Errorf("b = %v in the 2nd iteration, want x1", v)
	}
}

func TestPlanWeights(t *testing.T) {
	src := "base_url: http://h\nrequests:\n  - {name: a, url: /a, weight: 3}\n  - {name: b, url: /b}\n  - {name: c, url: /c, weight: 0}\n"
	s := mustParse(t, src, nil)
	vu := s.NewVU(0, 42)
	n := map[string]int{}
	for i := 0; i < 4000; i++ {
		n[vu.Plan()[0].Name]++
	}
	if n["c"] != 0 || n["a"] < 2800 || n["a"] > 3200 || n["a"]+n["b"] != 4000 {
		t.Errorf("weights 3:1:0 over 4000 plans gave %v", n)
	}
}

func TestIterationLimits(t *testing.T) {
	s := mustParse(t, "base_url: http://h\nrequests: [{url: /}]\nload: {users: 2, iterations: 3}\n", nil)
	a, b := s.NewVU(0, 1), s.NewVU(1, 1)
	for i, vu := range []*VU{a, b, a} {
		if err := vu.Begin(); err != nil {
			t.Fatalf("iteration %d: %v", i, err)
		}
	}
	if err := b.Begin(); !errors.Is(err, ErrIterationsDone) {
		t.Errorf("4th of 3 iterations: %v, want ErrIterationsDone", err)
	}
	s = mustParse(t, "base_url: http://h\nrequests: [{url: /}]\nload: {users: 2, duration: 1s, iterations_per_user: 1}\n", nil)
	a = s.NewVU(0, 1)
	if err := a.Begin(); err != nil {
		t.Fatal(err)
	}
	if err := a.Begin(); !errors.Is(err, ErrIterationsDone) {
		t.Errorf("2nd iteration of 1 per user: %v, want ErrIterationsDone", err)
	}
}

func TestThink(t *testing.T) {
	s := mustParse(t, "base_url: http://h\nthink: 1s\nrequests: [{url: /a, think: 100ms..300ms}, {url: /b}]\n", nil)
	vu := s.NewVU(0, 1)
	for i := 0; i < 100; i++ {
		if d := vu.Think(s.Requests[0]); d < 100e6 || d > 300e6 {
			t.Fatalf("think 100ms..300ms gave %v", d)
		}
	}
	if d := vu.Think(s.Requests[1]); d != 1e9 {
		t.Errorf("default think gave %v, want 1s", d)
	}
}

func TestDryRun(t *testing.T) {
	s, err := Load("../examples/login.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := s.DryRun(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"open model", "1/s→20/s, 105 iterations", "POST http://127.0.0.1:8088/login",
		`body: {"user":"alice","password":"pw-alice"}`, "Authorization: REDACTED", "p95{name:me} < 300ms"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("dry run lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "Bearer") {
		t.Errorf("dry run shows the value of a secret header:\n%s", b.String())
	}
}

func BenchmarkRender(b *testing.B) {
	src := `
base_url: http://127.0.0.1:8088
headers: {Accept: application/json, Authorization: 'Bearer {{.tok}}'}
vars: {tok: abc}
requests:
  - name: signup
    method: POST
    url: /users?n={{seq}}
    body: '{"email":"user{{seq}}-{{uuid}}@example.com","n":{{randInt 1 100}}}'
`
	s := mustParse(b, src, nil)
	vu := s.NewVU(0, 1)
	var tg target.Target
	b.ReportAllocs()
	for b.Loop() {
		if err := vu.Begin(); err != nil {
			b.Fatal(err)
		}
		if err := vu.Render(vu.Plan()[0], &tg); err != nil {
			b.Fatal(err)
		}
	}
}
