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

// AddBatch implements BatchConsumer: each consumer takes the whole batch
// before the next one sees it.
func (t Tee) AddBatch(m *Meta, b []Result) {
	for _, c := range t {
		AddBatch(c, m, b)
	}
}

// Err returns the first error of the consumers that can fail (those with
// an Err method, such as a file writer), or nil.
func (t Tee) Err() error {
	for _, c := range t {
		if f, ok := c.(interface{ Err() error }); ok {
			if err := f.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// A BatchConsumer is a Consumer that also takes a batch of results of one
// run at once, as a running engine hands them over, so that a consumer
// read by another goroutine (a live view) takes its lock once per batch
// rather than once per result. AddBatch(m, b) must have the effect of
// Add(m, &b[i]) for each i in order.
type BatchConsumer interface {
	Consumer
	AddBatch(m *Meta, b []Result)
}

// AddBatch hands b to c: at once when c is a BatchConsumer, else one
// result at a time.
func AddBatch(c Consumer, m *Meta, b []Result) {
	if bc, ok := c.(BatchConsumer); ok {
		bc.AddBatch(m, b)
		return
	}
	for i := range b {
		c.Add(m, &b[i])
	}
}

var (
	_ BatchConsumer = Tee(nil)
	_ BatchConsumer = (*Writer)(nil)
)
