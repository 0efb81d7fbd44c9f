package summary

import (
	"fmt"

	"github.com/surge-dev/surge/result"
)

// Input is one run of a results file as it was read: which file, and what
// of the run could be read (result.RunRead). Reports name every input that
// lost something: an incomplete file, a damaged header, corrupt blocks.
type Input struct {
	// File names the results file, "stdin" for standard input.
	File string
	// Run numbers the run in its file from 1; Runs is the file's number
	// of runs (files may be concatenated).
	Run, Runs int
	Read      result.RunRead
}

// Warning returns the input's problem prefixed with its file (and run,
// when the file holds several), e.g. "run.srg: incomplete: 0 records, no
// end-of-run record (…)"; "" when nothing was lost.
func (in Input) Warning() string {
	p := in.Read.Problem()
	if p == "" {
		return ""
	}
	if in.Runs > 1 {
		return fmt.Sprintf("%s (run %d of %d): %s", in.File, in.Run, in.Runs, p)
	}
	return in.File + ": " + p
}

// AddInput records that the summary's results include in.
func (s *Summary) AddInput(in Input) { s.Inputs = append(s.Inputs, in) }

// InputWarnings returns the warnings of the inputs that lost something, in
// input order.
func (s *Summary) InputWarnings() []string {
	var out []string
	for _, in := range s.Inputs {
		if w := in.Warning(); w != "" {
			out = append(out, w)
		}
	}
	return out
}
