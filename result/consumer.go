package result

// A Consumer takes one stream of results and markers, each with the
// header of the run it belongs to: a run in progress fans its stream out to
// its consumers (the results file, the live views, the summary), and so
// does reading results files back. Every consumer of results implements
// it, so a new output or analysis is a new Consumer, and a new kind of
// sample (server metrics, say) is a new method on the same stream.
//
// A Consumer is called from one goroutine at a time, in stream order; m
// and r are only valid during the call (a consumer that keeps them copies).
// A consumer that can fail, such as a file writer, keeps its first error
// and reports it from its own method, so one slow or failing output never
// changes what the others see.
type Consumer interface {
	Add(m *Meta, r *Result)
	AddMarker(m *Meta, mk Marker)
}

// Tee is a Consumer that hands every result and marker to each of its
// consumers, in order.
type Tee []Consumer

// Add implements Consumer.
func (t Tee) Add(m *Meta, r *Result) {
	for _, c := range t {
		c.Add(m, r)
	}
}

// AddMarker implements Consumer.
func (t Tee) AddMarker(m *Meta, mk Marker) {
	for _, c := range t {
		c.AddMarker(m, mk)
	}
}
