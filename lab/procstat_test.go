package lab

import (
	"fmt"
	"os"
	"runtime"
	"testing"
)

// statLine writes a /proc/<pid>/stat line with the given command name and
// fields 14, 15, 23 and 24; the others hold small numbers.
func statLine(comm string, utime, stime, vsize, rss uint64) string {
	line := fmt.Sprintf("4242 (%s) S", comm)
	for field := 4; field <= 52; field++ {
		v := uint64(field)
		switch field {
		case 14:
			v = utime
		case 15:
			v = stime
		case 23:
			v = vsize
		case 24:
			v = rss
		}
		line += fmt.Sprintf(" %d", v)
	}
	return line + "\n"
}

func TestParseProcStat(t *testing.T) {
	for _, c := range []struct {
		line string
		want procStat
		ok   bool
	}{
		{statLine("lab.test", 150, 30, 1<<30, 2500), procStat{150, 30, 1 << 30, 2500}, true},
		{statLine("a) (b c", 1, 2, 3, 4), procStat{1, 2, 3, 4}, true}, // a name with spaces and parentheses
		{"4242 (x) S 1 2 3", procStat{}, false},                       // too few fields
		{"4242 x S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22", procStat{}, false},
		{"", procStat{}, false},
	} {
		got, ok := parseProcStat([]byte(c.line))
		if ok != c.ok || ok && got != c.want {
			t.Errorf("parseProcStat(%q) = %+v, %v; want %+v, %v", c.line, got, ok, c.want, c.ok)
		}
	}
	// This process's own line parses, with CPU time and memory in it.
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		if runtime.GOOS == "linux" {
			t.Fatalf("read /proc/self/stat: %v", err) // the process_* families need it
		}
		t.Skipf("no /proc on %s: the process_* families are Linux only", runtime.GOOS)
	}
	if st, ok := parseProcStat(b); !ok || st.vsize == 0 || st.rss == 0 {
		t.Errorf("parseProcStat(/proc/self/stat) = %+v, %v from %q", st, ok, b)
	}
}

func FuzzParseProcStat(f *testing.F) {
	f.Add("lab.test", uint64(150), uint64(30), uint64(1<<30), uint64(2500), []byte("4242 (x) S 1"))
	f.Add("a) (b", uint64(0), uint64(1<<63), uint64(7), uint64(9), []byte(")))"))
	f.Fuzz(func(t *testing.T, comm string, utime, stime, vsize, rss uint64, junk []byte) {
		parseProcStat(junk) // any input: no panic
		line := statLine(comm, utime, stime, vsize, rss)
		got, ok := parseProcStat([]byte(line))
		if want := (procStat{utime, stime, vsize, rss}); !ok || got != want {
			t.Errorf("parseProcStat(%q) = %+v, %v; want %+v", line, got, ok, want)
		}
	})
}
