package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/latency"
	"github.com/surge-dev/surge/result"
)

// Live view timing: a terminal is redrawn every second; a log (stderr not a
// terminal, as in CI) gets a plain line every few seconds.
const (
	liveTick     = time.Second
	liveLogEvery = 5 * time.Second
	// liveSeconds is how many recent seconds p50/p99 are computed over.
	liveSeconds = 5
	// liveErrKinds bounds the distinct error kinds counted by name.
	liveErrKinds = 20
)

// liveView is the progress display of a running attack on stderr: a bar
// toward the planned duration or count, current and offered rate, in
// flight, p50/p99 of the last seconds, errors by kind and the stage name.
// It is a result.Consumer of the run's stream; it also prints the run's
// notes (a feeder ran out), even when quiet. It stays in package main
// because it is the command's own terminal output.
type liveView struct {
	w     io.Writer
	notes io.Writer // where notes are printed; nil = nowhere
	s     *attack.Stats
	cfg   attack.Config
	stage func() string // current stage name; nil = the last stage marker's
	tty   bool
	// width is the terminal's width in columns that the progress line
	// fits (0: no limit, as in a log), read when the view starts.
	width int

	mu      sync.Mutex
	ring    [liveSeconds + 1]latency.Coarse // latencies by completion second
	ringSec [liveSeconds + 1]int64          // the second each slot holds, +1 (0 = empty)
	recent  latency.Coarse                  // scratch for the merge
	errs    map[string]int64
	other   int64  // errors of kinds past liveErrKinds
	seen    bool   // whether a result was ever observed
	current string // name of the last stage marker

	done, finished chan struct{}
	started        time.Time // when the view started; Stats.Started is set by Run, in another goroutine
}

// newLiveView returns a view writing to w; quiet or nil w gives one that
// draws nothing.
func newLiveView(w io.Writer, s *attack.Stats, cfg attack.Config, stage func() string, quiet bool) *liveView {
	notes := w
	if quiet {
		w = nil
	}
	return &liveView{w: w, notes: notes, s: s, cfg: cfg, stage: stage, tty: isTerminal(w), width: termWidth(w), errs: map[string]int64{}}
}

var _ result.BatchConsumer = (*liveView)(nil)

// termWidth returns the width in columns of the terminal w is, less one
// so that the cursor never wraps, or 0 when w is no terminal or its size
// cannot be read (the line is then not cut).
func termWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	if err != nil || cols < 20 {
		return 0
	}
	return cols - 1
}

// Observe folds a batch of results in: one lock per batch, no allocation
// once every error kind has been seen.
func (v *liveView) Observe(batch []result.Result) {
	v.mu.Lock()
	v.seen = true
	for i := range batch {
		r := &batch[i]
		if !r.OK() {
			v.countError(r)
		}
		if r.Flags&result.NotSent != 0 {
			continue
		}
		sec := int64(r.End()/time.Second) + 1
		slot := int(sec % int64(len(v.ring)))
		if v.ringSec[slot] != sec {
			v.ring[slot] = latency.Coarse{}
			v.ringSec[slot] = sec
		}
		v.ring[slot].Record(r.Latency)
	}
	v.mu.Unlock()
}

// AddBatch implements result.BatchConsumer, as Observe.
func (v *liveView) AddBatch(_ *result.Meta, batch []result.Result) { v.Observe(batch) }

// Add implements result.Consumer.
func (v *liveView) Add(_ *result.Meta, r *result.Result) { v.Observe([]result.Result{*r}) }

// AddMarker implements result.Consumer: a stage marker names the stage
// shown, a note is printed.
func (v *liveView) AddMarker(_ *result.Meta, mk result.Marker) {
	switch mk.Kind {
	case result.MarkStage:
		v.mu.Lock()
		v.current = mk.Name
		v.mu.Unlock()
	case result.MarkNote:
		// A run that reached its iteration count ended as asked: only a
		// view that draws says so.
		if v.notes != nil && (v.w != nil || mk.Attrs["end"] != "count") {
			fmt.Fprintf(v.notes, "surge: %s\n", mk.Name)
		}
	}
}

// stageName returns the name of the current stage, "" if none.
func (v *liveView) stageName() string {
	if v.stage != nil {
		return v.stage()
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.current
}

func (v *liveView) countError(r *result.Result) {
	var kind string
	switch {
	case r.Flags&result.NotSent != 0:
		kind = kindNotSent
	case r.Error != "":
		kind = r.Error
	default:
		kind = statusKind(r.Status)
	}
	if _, ok := v.errs[kind]; ok || len(v.errs) < liveErrKinds {
		v.errs[kind]++
		return
	}
	v.other++
}

// kindNotSent is the error kind of a result that never went out.
const kindNotSent = "not sent"

// statusKinds caches "HTTP 500" strings so errors cost no allocation.
var statusKinds [600]string

func init() {
	for i := range statusKinds {
		statusKinds[i] = "HTTP " + strconv.Itoa(i)
	}
}

func statusKind(code uint16) string {
	if int(code) < len(statusKinds) {
		return statusKinds[code]
	}
	return "HTTP " + strconv.Itoa(int(code))
}

// recentQuantiles returns p50 and p99 of the results that completed in the
// last liveSeconds whole seconds before now, and how many there were.
func (v *liveView) recentQuantiles(now time.Duration) (p50, p99 time.Duration, n int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	cur := int64(now/time.Second) + 1
	v.recent = latency.Coarse{}
	for i, sec := range v.ringSec {
		if sec != 0 && sec < cur && sec >= cur-liveSeconds {
			v.recent.Merge(&v.ring[i])
		}
	}
	return v.recent.Quantile(0.5), v.recent.Quantile(0.99), v.recent.Count()
}

// errorKinds returns the error counts by kind of the requests that went
// out, largest first, as "k ×n".
func (v *liveView) errorKinds() string {
	v.mu.Lock()
	type kc struct {
		k string
		n int64
	}
	var ks []kc
	for k, n := range v.errs {
		if k == kindNotSent {
			continue
		}
		ks = append(ks, kc{k, n})
	}
	other := v.other
	v.mu.Unlock()
	sort.Slice(ks, func(i, j int) bool { return ks[i].n > ks[j].n || ks[i].n == ks[j].n && ks[i].k < ks[j].k })
	var parts []string
	for i, e := range ks {
		if i == 3 {
			rest := int64(0)
			for _, e := range ks[3:] {
				rest += e.n
			}
			other += rest
			break
		}
		k := e.k
		if len(k) > 40 {
			k = k[:37] + "..."
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", k, e.n))
	}
	if other > 0 {
		parts = append(parts, fmt.Sprintf("other ×%d", other))
	}
	return strings.Join(parts, ", ")
}

// line renders the progress line; rate is the completions per second
// since the last line. On a terminal it fits v.width columns: the parts
// that matter least go first (the bar, the offered rate, the stage, the
// error kinds), so that a refresh overwrites the line instead of wrapping
// and leaving a new one each time.
func (v *liveView) line(el time.Duration, rate float64) string {
	// parts in order of display; keep[i] is the priority of parts[i]
	// (higher stays longer).
	var parts []string
	var keep []int
	add := func(prio int, format string, a ...any) {
		parts = append(parts, fmt.Sprintf(format, a...))
		keep = append(keep, prio)
	}
	frac := -1.0
	if v.cfg.Duration > 0 {
		frac = el.Seconds() / v.cfg.Duration.Seconds()
	}
	if v.cfg.Count > 0 {
		frac = max(frac, float64(v.s.Done.Load())/float64(v.cfg.Count))
	}
	if frac >= 0 {
		frac = min(frac, 1)
		const width = 20
		n := int(frac * width)
		add(1, "[%s%s]", strings.Repeat("=", n), strings.Repeat(" ", width-n))
		add(6, "%.0f%%", frac*100)
	}
	elapsed := latency.Round3(el).String()
	if v.cfg.Duration > 0 {
		elapsed += "/" + v.cfg.Duration.String()
	}
	add(8, "%s", elapsed)
	if st := v.stageName(); st != "" {
		add(3, "stage %s", st)
	}
	add(9, "%d done", v.s.Done.Load())
	add(9, "%.0f/s", rate)
	if f := v.cfg.Rate.PerSecond(); f > 0 && v.cfg.Pacer == nil {
		add(2, "(offered %.0f/s)", f)
	}
	add(5, "%d in flight", v.s.InFlight.Load())
	if v.seenAny() {
		if p50, p99, n := v.recentQuantiles(el); n > 0 {
			add(7, "p50 %s p99 %s (last %ds)", latency.Round3(p50), latency.Round3(p99), liveSeconds)
		}
	}
	// Errors of the requests that went out; the never-sent are told apart.
	if e := v.s.Errors.Load() - v.s.NotSent.Load(); e > 0 {
		add(8, "%d errors", e)
		if k := v.errorKinds(); k != "" {
			add(4, "(%s)", k)
		}
	}
	if n := v.s.NotSent.Load(); n > 0 {
		add(9, "%d NOT SENT", n)
	}
	return fitLine(parts, keep, v.width)
}

// fitLine joins parts, dropping the lowest-priority ones (the later of
// equals first) until the line fits width columns, and cutting the last
// resort with "…"; width 0 means no limit.
func fitLine(parts []string, keep []int, width int) string {
	join := func() string {
		var b strings.Builder
		for i, p := range parts {
			if keep[i] < 0 {
				continue
			}
			if b.Len() > 0 {
				// The percentage sits next to its bar, the offered rate and
				// the error kinds next to the figure they qualify.
				if sep := " "; i > 0 && keep[i-1] >= 0 && (strings.HasPrefix(p, "(") || strings.HasSuffix(parts[i-1], "]") || strings.HasSuffix(parts[i-1], "%")) {
					b.WriteString(sep)
				} else {
					b.WriteString("  ")
				}
			}
			b.WriteString(p)
		}
		return b.String()
	}
	line := join()
	for width > 0 && utf8.RuneCountInString(line) > width {
		drop := -1
		for i := len(parts) - 1; i >= 0; i-- {
			if keep[i] >= 0 && (drop < 0 || keep[i] < keep[drop]) {
				drop = i
			}
		}
		if drop < 0 || keep[drop] >= 9 {
			// Only the figures that must stay are left: cut the line.
			r := []rune(line)
			return string(r[:max(width-1, 0)]) + "…"
		}
		keep[drop] = -1
		line = join()
	}
	return line
}

func (v *liveView) seenAny() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.seen
}

// Start draws the view until the returned function is called, which
// removes the progress line and leaves a final summary line.
func (v *liveView) Start() (stop func()) {
	if v.w == nil {
		return func() {}
	}
	v.done, v.finished = make(chan struct{}), make(chan struct{})
	v.started = time.Now()
	go v.run()
	return func() {
		close(v.done)
		<-v.finished
	}
}

func (v *liveView) run() {
	defer close(v.finished)
	t := time.NewTicker(liveTick)
	defer t.Stop()
	var lastDone int64
	lastAt := time.Duration(0)
	var lastLog time.Duration
	drawn := false
	for {
		select {
		case <-v.done:
			if drawn {
				fmt.Fprint(v.w, "\r\033[K")
			}
			v.final()
			return
		case <-t.C:
		}
		el := time.Since(v.started)
		d := v.s.Done.Load()
		rate := float64(d-lastDone) / (el - lastAt).Seconds()
		lastDone, lastAt = d, el
		if el < 2*time.Second {
			continue // short runs need no progress
		}
		if v.tty {
			// One line, rewritten in place: \r then the text, then clear
			// what is left of the old line, so nothing blinks.
			fmt.Fprint(v.w, "\r"+v.line(el, rate)+"\033[K")
			drawn = true
		} else if el-lastLog >= liveLogEvery {
			fmt.Fprintln(v.w, v.line(el, rate))
			lastLog = el
		}
	}
}

// final writes the one line that stays: totals of the whole run. Its rate
// is of the requests that went out; the ones that never did are counted
// apart, as are errors of the requests that went out.
func (v *liveView) final() {
	el := time.Since(v.started)
	done, notSent := v.s.Done.Load(), v.s.NotSent.Load()
	errs := v.s.Errors.Load() - notSent
	if el < 2*time.Second && errs == 0 && notSent == 0 && v.cfg.Count == 0 {
		return // a short clean run: the report says it all; a -count run's time is its answer
	}
	sent := done - notSent
	line := fmt.Sprintf("surge: %d requests in %s (%.1f/s), %d errors", sent, latency.Round3(el), float64(sent)/el.Seconds(), errs)
	if k := v.errorKinds(); k != "" {
		line += " (" + k + ")"
	}
	if notSent > 0 {
		line += fmt.Sprintf("; %d more were due and NOT SENT (%.0f%% of %d)", notSent, 100*float64(notSent)/float64(done), done)
	}
	fmt.Fprintln(v.w, line)
}
