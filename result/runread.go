package result

import (
	"fmt"
	"strings"
)

// RunRead says how much of one run — a header and the blocks after it — a
// Reader read, and what it could not. The zero value is not meaningful;
// Reader.Runs returns them.
type RunRead struct {
	// Records and Blocks count the results and the results blocks read.
	Records int64
	Blocks  int
	// End is the input offset just past the run's last whole block (or
	// its header, before any block): how far the readable part reaches.
	End int64
	// Ended is true when the run's end-of-run record was read: the writer
	// closed the file. Written is the number of results it says were
	// written, -1 without it.
	Ended   bool
	Written int64
	// HeaderDamaged is true when the run's header could not be read: its
	// Meta is empty but for Start, and its results were read all the same.
	HeaderDamaged bool
	// Corrupt counts the corrupt stretches skipped (a block each, usually),
	// CorruptBytes their size and FirstCorrupt the offset of the first,
	// -1 when none.
	Corrupt      int
	CorruptBytes int64
	FirstCorrupt int64
	// Truncated is true when the input ended inside one of the run's
	// blocks.
	Truncated bool

	// legacy is true when the header says its writer writes no end-of-run
	// record (files of older versions): completeness cannot be checked.
	legacy bool
}

// Complete reports whether the run was read to its end-of-run record, or,
// for a file whose writer wrote none, to its end without a cut block.
func (s RunRead) Complete() bool {
	if s.legacy {
		return !s.Truncated
	}
	return s.Ended && !s.Truncated
}

// Lost reports whether anything of the run could not be read: results,
// metadata or its end.
func (s RunRead) Lost() bool {
	return !s.Complete() || s.HeaderDamaged || s.Corrupt > 0 || s.Written >= 0 && s.Written != s.Records
}

// Problem says in one line what of the run was lost and how far the read
// got, e.g. "incomplete: 0 records, no end-of-run record (the writer was
// killed or is still writing)" or "header damaged: run metadata lost; all
// 7500 records read". It returns "" when nothing was lost.
func (s RunRead) Problem() string {
	if !s.Lost() {
		return ""
	}
	var parts []string
	if s.HeaderDamaged {
		parts = append(parts, "header damaged: run metadata lost")
	}
	if s.Corrupt > 0 {
		parts = append(parts, fmt.Sprintf("%s skipped (%d bytes, the first at byte %d)", count(s.Corrupt, "corrupt block"), s.CorruptBytes, s.FirstCorrupt))
	}
	read := count(s.Records, "record") + " read"
	switch {
	case s.Written >= 0 && s.Written == s.Records:
		read = "all " + read
	case s.Written >= 0 && s.Written > s.Records:
		read = fmt.Sprintf("%d of %d records read, %d lost", s.Records, s.Written, s.Written-s.Records)
	case s.Written >= 0 && s.Written != s.Records:
		read = fmt.Sprintf("%d records read, %d written", s.Records, s.Written)
	}
	if !s.Complete() {
		how := "no end-of-run record (the writer was killed or is still writing)"
		if s.Truncated {
			how = "its last block cut short, no end-of-run record (the writer was killed or the file was cut)"
		}
		at := fmt.Sprintf("readable to byte %d", s.End)
		if s.Records == 0 && s.Blocks == 0 {
			return "incomplete: 0 records, " + how + plus(parts)
		}
		if s.Written < 0 {
			read = count(s.Records, "record")
		}
		return fmt.Sprintf("incomplete: %s in %s, %s, %s", read, count(s.Blocks, "block"), at, how) + plus(parts)
	}
	return strings.Join(parts, "; ") + "; " + read
}

// plus appends the other problems to an "incomplete" sentence.
func plus(parts []string) string {
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}

func count[N int | int64](n N, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
