package report

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/surge-dev/surge/summary"
)

// Hist writes the latencies of the sent results of s as vegeta's
// hist[...] report does: a table of Bucket, #, % and a bar of '#' (75 for
// 100 %), one row per bucket [b_i, b_i+1] and a last one [b_n, +Inf].
//
// The counts are exact when s was built with summary.Options.Hist equal to
// buckets; otherwise they come from the latency histogram, within its 0.1 %
// resolution at the bucket edges. Two things vegeta does not have are shown
// only when they occur: a first row [0s, b_0] for latencies below the first
// bucket (vegeta would count them in the last one), a closing line with
// the requests that were never sent and so have no latency, and a WARNING
// line for every input that could not be read whole.
func Hist(w io.Writer, s *summary.Summary, buckets []time.Duration) error {
	if len(buckets) == 0 {
		return errors.New("histogram needs at least one bucket")
	}
	if !slices.IsSorted(buckets) || len(slices.Compact(slices.Clone(buckets))) != len(buckets) {
		return fmt.Errorf("histogram buckets %v are not strictly ascending", buckets)
	}
	st := s.Total
	counts := st.Hist
	if !slices.Equal(s.Options().Hist, buckets) {
		counts = estimateCounts(st, buckets)
	}

	ew := &errWriter{w: w}
	tw := newTabWriter(ew)
	fmt.Fprintf(tw, "Bucket\t\t#\t%%\tHistogram\n")
	row := func(lo, hi string, n int64) {
		r := ratio(n, st.Sent)
		fmt.Fprintf(tw, "[%s,\t%s]\t%d\t%.2f%%\t%s\n", lo, hi, n, r*100, strings.Repeat("#", int(r*75)))
	}
	if counts[0] > 0 {
		row(time.Duration(0).String(), buckets[0].String(), counts[0])
	}
	for i, b := range buckets {
		hi := "+Inf"
		if i+1 < len(buckets) {
			hi = buckets[i+1].String()
		}
		row(b.String(), hi, counts[i+1])
	}
	tw.Flush()
	if st.NotSent > 0 {
		fmt.Fprintf(ew, "Not sent: %s, not in the histogram (no latency)\n", requests(st.NotSent))
	}
	for _, msg := range s.InputWarnings() {
		fmt.Fprintf(ew, "WARNING: %s\n", msg)
	}
	return ew.err
}

// estimateCounts counts the latencies of st over buckets from its HDR
// histogram, laid out as summary.Stats.Hist.
func estimateCounts(st *summary.Stats, buckets []time.Duration) []int64 {
	counts := make([]int64, len(buckets)+1)
	prev := int64(0)
	for i, b := range buckets {
		below := st.Latency.CountBelow(b)
		counts[i] = below - prev
		prev = below
	}
	counts[len(buckets)] = st.Latency.Count() - prev
	return counts
}
