package result

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFlagsRoundTrip checks that every flag, alone and combined, with and
// without a worker change, survives the results file.
func TestFlagsRoundTrip(t *testing.T) {
	var rs []Result
	for i, f := range []Flags{0, NotSent, Warmup, Resent, Resent | Warmup, NotSent | Warmup, Resent, 0} {
		rs = append(rs, Result{Seq: uint64(i), Label: "GET /", Status: 200, Flags: f, Worker: uint32(i % 3)})
	}
	got, _, err := readAll(t, encode(t, rs))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rs, got); diff != "" {
		t.Errorf("round trip differs:\n%s", diff)
	}
}
