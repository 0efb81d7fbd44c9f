package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/surge-dev/surge/summary"
)

// writeInputWarnings writes a WARNING line for every input of s that lost
// something (an incomplete file, a damaged header, corrupt blocks), then a
// blank line if there was any: the figures below are only what was read.
func writeInputWarnings(w io.Writer, s *summary.Summary) {
	ws := s.InputWarnings()
	for _, msg := range ws {
		fmt.Fprintf(w, "WARNING: %s\n", msg)
	}
	if len(ws) > 0 {
		fmt.Fprintln(w)
	}
}

// firstWarning returns the warnings the text report starts with, input
// warnings first, one per line; "" when there is none.
func firstWarning(s *summary.Summary, gen string) string {
	ws := s.InputWarnings()
	if gen != "" {
		ws = append(ws, gen)
	}
	return strings.Join(ws, "\n")
}

// jsonInput is one input run in the JSON report.
type jsonInput struct {
	File          string `json:"file"`
	Run           int    `json:"run"`
	Complete      bool   `json:"complete"`
	EndRecord     bool   `json:"end_record"`
	Records       int64  `json:"records"`
	Written       *int64 `json:"written"`
	Blocks        int    `json:"blocks"`
	End           int64  `json:"end"`
	HeaderDamaged bool   `json:"header_damaged"`
	CorruptBlocks int    `json:"corrupt_blocks"`
	CorruptBytes  int64  `json:"corrupt_bytes"`
	Truncated     bool   `json:"truncated"`
	Warning       string `json:"warning"`
}

func jsonInputs(s *summary.Summary) []jsonInput {
	var out []jsonInput
	for _, in := range s.Inputs {
		rr := in.Read
		ji := jsonInput{File: in.File, Run: in.Run, Complete: rr.Complete(), EndRecord: rr.Ended, Records: rr.Records,
			Blocks: rr.Blocks, End: rr.End, HeaderDamaged: rr.HeaderDamaged, CorruptBlocks: rr.Corrupt,
			CorruptBytes: rr.CorruptBytes, Truncated: rr.Truncated, Warning: in.Warning()}
		if rr.Written >= 0 {
			ji.Written = &rr.Written
		}
		out = append(out, ji)
	}
	return out
}
