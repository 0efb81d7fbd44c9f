//go:build !race

// Allocation counts are checked without the race detector, which
// allocates (and makes sync.Pool drop items) on its own: ./test.sh runs
// these tests in a second, non-race pass (go test -run Allocs).

package attack

import (
	"context"
	"testing"
	"time"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/target"
)

// TestFastClientZeroAllocs checks the steady state of a keep-alive
// connection allocates nothing, including the run's context watch and a
// redirect followed before.
func TestFastClientZeroAllocs(t *testing.T) {
	u := fastCannedServer(t)
	ts := []target.Target{{Method: "GET", URL: u}, {Method: "POST", URL: u + "/p", Body: []byte("x")}, {Method: "GET", URL: u + "/redirect"}}
	conn := newFast(t, Config{Targets: ts})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var r result.Result
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		r = result.Result{}
		conn.Do(ctx, &ts[i%len(ts)], &r)
		i++
	})
	wantOK(t, r, 200, 2)
	if allocs != 0 {
		t.Errorf("%v allocations per request, want 0", allocs)
	}
}

// TestFastClientIdleCheckAllocs: the check of a connection idle long
// enough to have been closed by the server allocates nothing either.
func TestFastClientIdleCheckAllocs(t *testing.T) {
	u := fastCannedServer(t)
	ts := []target.Target{{Method: "GET", URL: u}}
	conn := newFast(t, Config{Targets: ts})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var r result.Result
	conn.Do(ctx, &ts[0], &r)
	allocs := testing.AllocsPerRun(20, func() {
		time.Sleep(2 * fastIdleCheck)
		r = result.Result{}
		conn.Do(ctx, &ts[0], &r)
	})
	wantOK(t, r, 200, 2)
	if r.Connect != 0 {
		t.Errorf("a live idle connection was replaced (connect %v)", r.Connect)
	}
	if allocs != 0 {
		t.Errorf("%v allocations per request after an idle wait, want 0", allocs)
	}
}
