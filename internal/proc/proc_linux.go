//go:build linux

package proc

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// MachineCPU reads the machine's CPU times from the first line of
// /proc/stat: user nice system idle iowait irq softirq steal ...
func MachineCPU() CPUTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUTimes{}
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return parseCPU(string(line))
}

func parseCPU(line string) CPUTimes {
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return CPUTimes{}
	}
	var t CPUTimes
	for i, s := range f[1:9] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || t.Total+n < t.Total {
			return CPUTimes{}
		}
		t.Total += n
		switch i {
		case 3, 4: // idle, iowait
		case 7:
			t.Steal = n
		default:
			t.Busy += n
		}
	}
	t.OK = true
	return t
}
