package attack

import (
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/surge-dev/surge/result"
)

// stageAt returns the index of the stage holding offset at, or -1.
func (rs *runState) stageAt(at time.Duration) int {
	for i := len(rs.stages) - 1; i >= 0; i-- {
		st := &rs.stages[i]
		if at >= st.Start {
			if e := st.End(); e >= 0 && at >= e {
				return -1
			}
			return i
		}
	}
	return -1
}

// warmAt reports whether offset at falls in a warm-up stage.
func (rs *runState) warmAt(at time.Duration) bool {
	if !rs.hasWarmup {
		return false
	}
	i := rs.stageAt(at)
	return i >= 0 && rs.stages[i].Warmup
}

// stageLabels builds the labels of Config.LabelStages: for every stage,
// every target's label followed by " [stage]".
func (rs *runState) stageLabels() {
	rs.labelTab = make([][]string, len(rs.stages))
	for si, st := range rs.stages {
		rs.labelTab[si] = make([]string, len(rs.targets))
		for i := range rs.targets {
			l := strings.TrimSpace(rs.label(uint64(i)) + " [" + st.Name + "]")
			rs.labelTab[si][i] = l
		}
	}
}

// label returns the label of target i.
func (rs *runState) label(i uint64) string {
	if rs.labels == nil {
		return ""
	}
	return rs.labels[i]
}

// labelAt returns the label of target i for a request intended at at.
func (rs *runState) labelAt(i uint64, at time.Duration) string {
	if rs.labelTab != nil {
		if si := rs.stageAt(at); si >= 0 {
			return rs.labelTab[si][i]
		}
	}
	return rs.label(i)
}

// phases writes the stage and warm-up markers, each when its time comes,
// until stop or done.
func (a *Attacker) phases(stop, done <-chan struct{}) {
	var ms []result.Marker
	for _, st := range a.cfg.Stages {
		ms = append(ms, result.Marker{At: st.Start, Kind: result.MarkStage, Name: st.Name, Attrs: st.Attrs})
		if st.Warmup {
			ms = append(ms, result.Marker{At: st.Start, Kind: result.MarkWarmup, Name: st.Name})
			if e := st.End(); e >= 0 {
				ms = append(ms, result.Marker{At: e, Kind: result.MarkWarmupEnd, Name: st.Name})
			}
		}
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].At < ms[j].At })
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for _, m := range ms {
		if wait := m.At - time.Since(a.start); wait > 0 {
			t.Reset(wait)
			select {
			case <-t.C:
			case <-stop:
				return
			case <-done:
				return
			}
		}
		select {
		case a.marks <- m:
		case <-done:
			return
		}
	}
}

// drain ends the run once the iterations in progress are complete: no
// iteration starts any more. Its cause is written as a note marker.
func (a *Attacker) drain(cause error) {
	a.drainOnce.Do(func() {
		a.draining.Store(true)
		close(a.drainCh)
		msg := strings.TrimPrefix(cause.Error(), ErrRunDone.Error()+": ")
		msg = strings.TrimPrefix(msg, ErrCountDone.Error()+": ")
		mk := result.Marker{At: time.Since(a.start), Kind: result.MarkNote, Name: msg}
		if errors.Is(cause, ErrCountDone) {
			mk.Attrs = map[string]string{"end": "count"}
		}
		a.marks <- mk
	})
}
