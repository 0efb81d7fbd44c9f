//go:build !linux

package proc

// MachineCPU returns no reading: the machine's CPU times come from /proc,
// which only Linux has.
func MachineCPU() CPUTimes { return CPUTimes{} }
