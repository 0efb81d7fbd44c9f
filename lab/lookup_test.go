package lab_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/surge-dev/surge/analyze"
	"github.com/surge-dev/surge/internal/starvation"
	"github.com/surge-dev/surge/lab"
)

func TestLookupAnswer(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	const rows, requests = 1000, 7
	var indexed float64
	for i := 1; i <= requests; i++ {
		scan := get(t, base, fmt.Sprintf("/lookup?rows=%d", rows))
		seek := get(t, base, fmt.Sprintf("/lookup?rows=%d&index=1", rows))
		if scan.code != http.StatusOK || seek.code != http.StatusOK {
			t.Fatalf("got %d %s and %d %s", scan.code, scan.raw, seek.code, seek.raw)
		}
		// Request i looks up row i·2654435761 mod rows, whose value is its position.
		want := float64(uint64(i) * 2654435761 % rows)
		if scan.body["value"] != want || seek.body["value"] != want {
			t.Errorf("request %d: values %v (scan) and %v (index), want %v", i, scan.body["value"], seek.body["value"], want)
		}
		if scan.body["rows_scanned"] != float64(rows) {
			t.Errorf("request %d without the index read %v rows, want all %d", i, scan.body["rows_scanned"], rows)
		}
		n, _ := seek.body["rows_scanned"].(float64)
		if n < 1 || n > 10 {
			t.Errorf("request %d through the index read %v rows, want about 1", i, n)
		}
		indexed += n
	}
	m := scrape(t, base)
	if got, want := m[`surge_lab_rows_scanned_total{endpoint="lookup",params="rows=1000"}`], float64(rows*requests); got != want {
		t.Errorf("surge_lab_rows_scanned_total without the index = %v after %d requests of %d rows, want %v", got, requests, rows, want)
	}
	if got := m[`surge_lab_rows_scanned_total{endpoint="lookup",params="index=1&rows=1000"}`]; got != indexed {
		t.Errorf("surge_lab_rows_scanned_total with the index = %v, the answers said %v", got, indexed)
	}
	for _, p := range []string{"/lookup?rows=0", "/lookup?rows=10000001", "/lookup?index=2", "/lookup?rows=1e3"} {
		if r := get(t, base, p); r.code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", p, r.code)
		}
	}
}

// TestLookupCost is the truth of the missing index: without it a lookup's
// service time grows with the table (100 times the rows, at least 20 times
// the time), through it the time stays flat.
func TestLookupCost(t *testing.T) {
	const small, large, requests = 5_000, 500_000, 11
	// The service time is read from the answers' ms, measured around the
	// lookup in the server, so the test's own HTTP round trip does not blur it.
	_, base := newLab(t, lab.Config{})
	get(t, base, fmt.Sprintf("/lookup?rows=%d&index=1", large)) // builds the table and its index
	median := func(path string) time.Duration {
		ds := make([]time.Duration, requests)
		for i := range ds {
			r := get(t, base, path)
			ms, _ := r.body["ms"].(float64)
			ds[i] = time.Duration(ms * float64(time.Millisecond))
		}
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	probe := starvation.Start(0)
	scanSmall, scanLarge := median(fmt.Sprintf("/lookup?rows=%d", small)), median(fmt.Sprintf("/lookup?rows=%d", large))
	seekSmall, seekLarge := median(fmt.Sprintf("/lookup?rows=%d&index=1", small)), median(fmt.Sprintf("/lookup?rows=%d&index=1", large))
	machine := probe.Stop()
	t.Logf("median service time: scan %v (%d rows), %v (%d rows), %.2f ns a row; index %v, %v; %s",
		scanSmall, small, scanLarge, large, float64(scanLarge)/large, seekSmall, seekLarge, machine)
	if scanLarge < 20*scanSmall {
		machine.Fail(t, analyze.LagLimit, "without the index %d rows took %v, %d rows %v: want at least 20 times longer for 100 times the rows", large, scanLarge, small, scanSmall)
	}
	if seekLarge > 3*seekSmall+50*time.Microsecond || seekLarge > scanLarge/20 {
		machine.Fail(t, analyze.LagLimit, "through the index %d rows took %v, %d rows %v (scan %v): want flat and far below the scan", large, seekLarge, small, seekSmall, scanLarge)
	}
}
