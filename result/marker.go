package result

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"time"
)

// kindMarkers blocks hold phase markers as a JSON array: they are rare, and
// JSON keeps them readable by future versions.
const kindMarkers byte = 2

// Marker kinds.
const (
	// MarkStage marks the start of a load stage; Name is the stage's name.
	MarkStage = "stage"
	// MarkWarmup marks the start of a warm-up phase, MarkWarmupEnd its end.
	MarkWarmup    = "warmup"
	MarkWarmupEnd = "warmup-end"
	// MarkNote is free text, e.g. "feeder users.csv exhausted".
	MarkNote = "note"
	// MarkGenerator carries figures of the generator itself known only at
	// the end of the run, as Attrs (AttrCPUSeconds, AttrCPUs and the
	// rest of the Attr keys below); readers
	// fold them into the run's Meta.Attrs.
	MarkGenerator = "generator"
)

// Attrs keys of a MarkGenerator marker, and so of Meta.Attrs once readers
// have folded it in: cumulative user+system CPU seconds of the generator
// process over the run, and the cores it could use (GOMAXPROCS). Absent keys
// mean the CPU was not recorded.
const (
	AttrCPUSeconds = "cpu_seconds"
	AttrCPUs       = "cpus"
)

// More Attrs keys of a MarkGenerator marker: what names the generator's
// limit when it fell behind. Each is absent when the platform does not
// give it (the /proc figures are Linux only). Counts and CPU seconds are
// over the run; peaks are the most seen by a sampler during the run.
const (
	// AttrWallSeconds is the run's wall time in seconds, the span the
	// CPU seconds and switches were counted over.
	AttrWallSeconds = "wall_seconds"
	// AttrSwitchesInvoluntary and AttrSwitchesVoluntary count the
	// process's context switches (getrusage): involuntary ones are
	// preemptions, the kernel giving the CPU to another task.
	AttrSwitchesInvoluntary = "ctx_switches_involuntary"
	AttrSwitchesVoluntary   = "ctx_switches_voluntary"
	// AttrCPUWaitSeconds is the time the process's threads spent
	// runnable but waiting for a CPU (/proc/self/task/*/schedstat): the
	// CPU surge asked for and did not get.
	AttrCPUWaitSeconds = "cpu_wait_seconds"
	// AttrMachineCPUs is the CPUs of the machine (runtime.NumCPU).
	AttrMachineCPUs = "machine_cpus"
	// AttrMachineBusy and AttrSteal are the machine's busy and stolen
	// share, in [0,1], of all its CPUs' time over the run (/proc/stat).
	AttrMachineBusy = "machine_busy"
	AttrSteal       = "steal"
	// AttrCPUPressure is the share, in [0,1], of the run's wall time in
	// which some runnable task waited for a CPU (/proc/pressure/cpu).
	AttrCPUPressure = "cpu_pressure"
	// AttrRunQueuePeak is the most runnable tasks of the machine seen
	// (/proc/loadavg), the sampler included.
	AttrRunQueuePeak = "run_queue_peak"
	// AttrPeakInFlight is the most requests seen in flight at once;
	// AttrInFlightCap the cap in effect (-connections).
	AttrPeakInFlight = "peak_in_flight"
	AttrInFlightCap  = "in_flight_cap"
	// AttrFDsPeak is the most file descriptors the process held,
	// AttrFDLimit its soft limit (RLIMIT_NOFILE).
	AttrFDsPeak = "fds_peak"
	AttrFDLimit = "fd_limit"
	// AttrSocketsPeak is the most TCP sockets of the machine in use or in
	// TIME_WAIT (/proc/net/sockstat), AttrPorts the size of the
	// ephemeral port range (net.ipv4.ip_local_port_range).
	AttrSocketsPeak = "tcp_sockets_peak"
	AttrPorts       = "ephemeral_ports"
)

// Marker records a phase change of a run at offset At: a stage starting, a
// warm-up ending, a note. Reports draw stages as bands and split by them.
type Marker struct {
	At   time.Duration `json:"at"`
	Kind string        `json:"kind"`
	Name string        `json:"name,omitempty"`
	// Attrs carries details, e.g. a stage's target rate or users.
	Attrs map[string]string `json:"attrs,omitempty"`
	// Run is the index, in Reader.Metas, of the run the marker belongs to.
	// Set by the Reader; ignored by the Writer.
	Run int `json:"-"`
}

// WriteMarker writes m after every result written so far (the pending
// block is flushed first, so order is kept).
func (w *Writer) WriteMarker(m *Marker) error {
	if err := w.Flush(); err != nil {
		return err
	}
	js, err := json.Marshal([]*Marker{m})
	if err != nil {
		return fmt.Errorf("encode marker: %w", err)
	}
	o := append(w.out[:0], blockSync...)
	o = append(o, kindMarkers)
	o = binary.AppendUvarint(o, 1)
	o = binary.AppendUvarint(o, uint64(len(js)))
	o = append(o, js...)
	o = binary.LittleEndian.AppendUint32(o, crc32.Checksum(o[len(blockSync):], crcTable))
	w.out = o
	if _, err := w.w.Write(o); err != nil {
		w.err = fmt.Errorf("write marker block: %w", err)
		return w.err
	}
	return nil
}

// Markers returns the markers read so far, of every run, in input order.
func (r *Reader) Markers() []Marker { return r.markers }

// maxMarkers bounds the markers a Reader keeps; a file with more is
// unusual (markers mark phases, not requests) and the rest are dropped
// with a warning.
const maxMarkers = 100000

func (r *Reader) addMarkers(off int64, payload []byte) {
	var ms []Marker
	if err := json.Unmarshal(payload, &ms); err != nil {
		r.warn(off, fmt.Errorf("%w: marker block: %v", ErrCorrupt, err))
		return
	}
	for _, m := range ms {
		if len(r.markers) >= maxMarkers {
			r.warn(off, fmt.Errorf("more than %d markers: the rest are ignored", maxMarkers))
			return
		}
		m.Run = len(r.metas) - 1
		r.markers = append(r.markers, m)
	}
}
