package summary

// Halve merges the neighbours of xs pairwise in place, xs[2i] with
// xs[2i+1] into xs[i], in order of i, and returns the halved slice; an odd
// last element stays as it is. It is how every bounded series keeps flat
// memory (Series, Sequence and Blocks here, report's chart points): when a
// run outgrows its elements, they merge and their width doubles. merge
// folds from into into.
func Halve[T any](xs []T, merge func(into, from *T)) []T {
	n := (len(xs) + 1) / 2
	for i := range n {
		x := xs[2*i]
		if 2*i+1 < len(xs) {
			merge(&x, &xs[2*i+1])
		}
		xs[i] = x
	}
	clear(xs[n:])
	return xs[:n]
}
