package scenario

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/surge-dev/surge/target"
)

// ErrIterationsDone is returned by VU.Begin when the profile's iteration
// limit (load.iterations for the run, or load.iterations_per_user for this
// VU) has been reached.
var ErrIterationsDone = errors.New("iteration limit reached")

// VU is one virtual user: its RNG, its template functions and its
// variables. A VU is not safe for concurrent use; give each goroutine its
// own. Creating one clones the scenario's templates, so create VUs once per
// user or worker and reuse them across iterations.
type VU struct {
	s    *Scenario
	id   int
	rng  *rand.Rand
	f    funcs
	tmpl templates
	data map[string]any // template data: feeder rows, vars, extracted values
	iter uint64         // iterations begun by this VU
	buf  strings.Builder
	out  sliceWriter
	one  [1]*Request
	body jsonBody
}

// NewVU returns virtual user id. Its RNG is a PCG seeded with (seed, id),
// so a run with a fixed seed renders the same requests.
func (s *Scenario) NewVU(id int, seed uint64) *VU {
	rng := rand.New(rand.NewPCG(seed, uint64(id)))
	vu := &VU{s: s, id: id, rng: rng, data: make(map[string]any, len(s.Feeders)+len(s.Vars)+len(s.extracted))}
	vu.f = funcs{rng: rng, id: id, clock: s.clock}
	vu.tmpl = s.c.bind(&vu.f)
	return vu
}

// ID returns the VU's id.
func (vu *VU) ID() int { return vu.id }

// Seq returns the number of the current iteration, counted from 0 across
// all VUs of the scenario (the template function seq).
func (vu *VU) Seq() uint64 { return vu.f.seq }

// Rand returns the VU's RNG.
func (vu *VU) Rand() *rand.Rand { return vu.rng }

// Value returns a variable of the current iteration: a var, an extracted
// value or a feeder's row (a map[string]any).
func (vu *VU) Value(name string) (any, bool) {
	v, ok := vu.data[name]
	return v, ok
}

// Begin starts an iteration: it takes the next sequence number, the next
// row of every feeder, and evaluates the vars in order. Values extracted
// in the previous iteration are forgotten. It returns ErrIterationsDone
// when the iteration limit is reached, and an error wrapping
// ErrFeederExhausted, naming the feeder, when a "once" feeder has no row
// left; the VU should then stop. Any other error is a var's template
// failing and fails only this iteration.
func (vu *VU) Begin() error {
	s := vu.s
	if n := s.Load.IterationsPerUser; n > 0 && vu.iter >= n {
		return ErrIterationsDone
	}
	seq := s.seq.Add(1) - 1
	if n := s.Load.Iterations; n > 0 && seq >= n {
		return ErrIterationsDone
	}
	vu.f.seq = seq
	clear(vu.data)
	for _, f := range s.Feeders {
		row, err := f.row(vu)
		if err != nil {
			return err
		}
		vu.data[f.Name] = row
	}
	vu.iter++
	for i, t := range s.vars {
		v, err := vu.exec(t)
		if err != nil {
			return err
		}
		vu.data[s.Vars[i].Name] = v
	}
	return nil
}

// Plan returns the requests of the current iteration: every step in order,
// or one request of the mix chosen by weight with the VU's RNG. The slice
// is only valid until the next call and must not be modified.
func (vu *VU) Plan() []*Request {
	s := vu.s
	if s.Steps != nil {
		return s.Steps
	}
	x := vu.rng.IntN(s.weights[len(s.weights)-1])
	i := 0
	for s.weights[i] <= x {
		i++
	}
	vu.one[0] = s.Requests[i]
	return vu.one[:]
}

// exec renders a text into a string.
func (vu *VU) exec(t text) (string, error) {
	if t.isConst() {
		return t.raw, nil
	}
	vu.buf.Reset()
	if err := vu.tmpl[t.index].Execute(&vu.buf, vu.data); err != nil {
		return "", execError(t, err)
	}
	return vu.buf.String(), nil
}

// sliceWriter appends to a byte slice, so a body renders into the
// target's own buffer.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *sliceWriter) WriteString(s string) (int, error) {
	w.b = append(w.b, s...)
	return len(s), nil
}

// Render renders request r with the VU's current variables into dst: the
// method, the absolute URL, the headers (scenario defaults included) and
// the body. It reuses dst.Header's map and slices and dst.Body's array, so
// dst must not be rendered into again while a request built from it is in
// flight. A template that fails (a value not extracted because an earlier
// step failed, a function error) returns an error naming the field.
func (vu *VU) Render(r *Request, dst *target.Target) error {
	dst.Method = r.Method
	if r.url.isConst() {
		dst.URL = r.abs
	} else {
		u, err := vu.exec(r.url)
		if err != nil {
			return err
		}
		if dst.URL, err = vu.s.joinURL(u); err != nil {
			return fmt.Errorf("%s: %w", r.url.path, err)
		}
	}
	if dst.Header == nil {
		dst.Header = make(http.Header, len(r.headers))
	}
	for k := range dst.Header {
		if !r.hasHeader(k) {
			delete(dst.Header, k)
		}
	}
	for _, h := range r.headers {
		v, err := vu.exec(h.val)
		if err != nil {
			return err
		}
		if vs := dst.Header[h.key]; len(vs) == 1 {
			vs[0] = v
		} else {
			dst.Header[h.key] = []string{v}
		}
	}
	vu.out.b = dst.Body[:0]
	if r.body.isConst() {
		vu.out.b = append(vu.out.b, r.Body...)
	} else if err := vu.tmpl[r.body.index].Execute(&vu.out, vu.data); err != nil {
		return execError(r.body, err)
	}
	dst.Body, vu.out.b = vu.out.b, nil
	return nil
}

// hasHeader reports whether r sets header key (canonical).
func (r *Request) hasHeader(key string) bool {
	for _, h := range r.headers {
		if h.key == key {
			return true
		}
	}
	return false
}

// joinURL makes a rendered URL absolute by prefixing the base URL to a
// relative one.
func (s *Scenario) joinURL(u string) (string, error) {
	if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		return u, nil
	}
	if s.BaseURL == "" {
		return "", fmt.Errorf("rendered URL %q is relative and base_url is not set", u)
	}
	return strings.TrimRight(s.BaseURL, "/") + "/" + strings.TrimLeft(u, "/"), nil
}

// Check runs r's checks on resp in order, then its extractions, which set
// variables for the later steps of the iteration. It returns "" when all
// pass, or the name of the first failure: a check's name (like "status in
// [200]", or the name given in the file) or "extract VAR" for a value the
// response does not have. After a failure the remaining checks and
// extractions are skipped.
func (vu *VU) Check(r *Request, resp *Response) (failed string) {
	vu.body = jsonBody{}
	for i := range r.Checks {
		if c := &r.Checks[i]; !c.ok(resp, &vu.body) {
			return c.Name
		}
	}
	for i := range r.Extract {
		e := &r.Extract[i]
		v, ok := e.extract(resp, &vu.body)
		if !ok {
			return "extract " + e.Var
		}
		vu.data[e.Var] = v
	}
	vu.body = jsonBody{}
	return ""
}

// Think returns how long the VU pauses after r, drawn from its RNG.
func (vu *VU) Think(r *Request) time.Duration { return r.Think(vu.rng) }
