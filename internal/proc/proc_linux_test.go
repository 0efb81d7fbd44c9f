//go:build linux

package proc

import "testing"

func TestParseCPU(t *testing.T) {
	a := parseCPU("cpu  100 0 50 800 10 0 0 40 0 0")
	b := parseCPU("cpu  200 0 50 850 10 0 0 90 0 0")
	if !a.OK || a.Total != 1000 || a.Busy != 150 || a.Steal != 40 {
		t.Fatalf("parse: %+v", a)
	}
	busy, steal, ok := a.Shares(b)
	if !ok || busy != 0.5 || steal != 0.25 {
		t.Fatalf("shares from %+v to %+v: busy %v steal %v ok %v; want 0.5 0.25 true", a, b, busy, steal, ok)
	}
	for _, bad := range []string{"", "cpu0 1 2 3 4 5 6 7 8", "cpu 1 2 3", "cpu 1 2 x 4 5 6 7 8"} {
		if parseCPU(bad).OK {
			t.Errorf("parseCPU(%q) read as OK", bad)
		}
	}
	if _, _, ok := b.Shares(a); ok {
		t.Error("shares over a backwards interval read as OK")
	}
}

func FuzzParseCPU(f *testing.F) {
	f.Add("cpu  100 0 50 800 10 0 0 40 0 0")
	f.Add("cpu 1 2 3")
	f.Fuzz(func(t *testing.T, line string) {
		c := parseCPU(line)
		if c.OK && (c.Busy > c.Total || c.Steal > c.Total) {
			t.Fatalf("parseCPU(%q) = %+v: a part above the total", line, c)
		}
	})
}
