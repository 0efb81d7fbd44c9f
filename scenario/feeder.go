package scenario

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
)

// Feeder strategies: how each iteration picks a row.
const (
	// StrategyCircular takes rows in order with one cursor shared by all
	// VUs, starting over after the last row. It is the default.
	StrategyCircular = "circular"
	// StrategySequential lets each VU walk the rows in order from its own
	// offset (VU id modulo the row count), starting over after the last.
	StrategySequential = "sequential"
	// StrategyRandom picks a uniform random row from the VU's RNG.
	StrategyRandom = "random"
	// StrategyOnce takes rows in order with one shared cursor and uses each
	// row once in the whole run; when none is left, VU.Begin returns
	// ErrFeederExhausted and the run should stop.
	StrategyOnce = "once"
)

var strategies = []string{StrategyCircular, StrategySequential, StrategyRandom, StrategyOnce}

// ErrFeederExhausted is returned, wrapped with the feeder's name, by
// VU.Begin when a feeder with strategy "once" has no unused row left.
var ErrFeederExhausted = errors.New("feeder exhausted: every row has been used once")

// Feeder supplies rows of test data, read into memory at load from a CSV
// file with a header row or a JSON lines file. A template refers to a
// column of the current row as .NAME.COLUMN.
type Feeder struct {
	Name     string
	File     string   // path as resolved against the scenario's directory
	Strategy string   // one of the Strategy constants
	Columns  []string // CSV header, or the keys found in the JSON objects, sorted

	rows   []map[string]any
	cursor atomic.Uint64 // next row, for circular and once
}

// Len returns the number of rows.
func (f *Feeder) Len() int { return len(f.rows) }

// row returns the row for a VU's iteration: iter is the number of
// iterations the VU began before this one.
func (f *Feeder) row(vu *VU) (map[string]any, error) {
	n := uint64(len(f.rows))
	switch f.Strategy {
	case StrategySequential:
		return f.rows[(uint64(vu.id)+vu.iter)%n], nil
	case StrategyRandom:
		return f.rows[vu.rng.Uint64N(n)], nil
	case StrategyOnce:
		i := f.cursor.Add(1) - 1
		if i >= n {
			return nil, fmt.Errorf("feeder %s (%s, %d rows): %w", f.Name, filepath.Base(f.File), n, ErrFeederExhausted)
		}
		return f.rows[i], nil
	}
	return f.rows[(f.cursor.Add(1)-1)%n], nil
}

// readFeeder reads the rows of a feeder file: CSV unless the name ends in
// .jsonl, .ndjson or .json (one JSON object per line).
func readFeeder(path string) (rows []map[string]any, columns []string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read %s: %w", filepath.Base(path), err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson", ".json":
		rows, columns, err = readJSONLines(bytes.NewReader(data))
	default:
		rows, columns, err = readCSV(bytes.NewReader(data))
	}
	if err == nil && len(rows) == 0 {
		err = errors.New("has no rows")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return rows, columns, nil
}

// readCSV reads a CSV file whose first record names the columns.
func readCSV(r io.Reader) ([]map[string]any, []string, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, errors.New("is empty: expected a header row naming the columns")
	}
	if err != nil {
		return nil, nil, err
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	for i, h := range header {
		if h == "" {
			return nil, nil, fmt.Errorf("line 1: column %d has no name in the header row", i+1)
		}
		if contains(header[:i], h) {
			return nil, nil, fmt.Errorf("line 1: column %q appears twice in the header row", h)
		}
	}
	var rows []map[string]any
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, header, nil
		}
		if err != nil {
			return nil, nil, err
		}
		row := make(map[string]any, len(header))
		for i, h := range header {
			row[h] = rec[i]
		}
		rows = append(rows, row)
	}
}

// readJSONLines reads one JSON object per line; blank lines are skipped.
// Numbers keep their text (json.Number), so ids are not rounded.
func readJSONLines(r io.Reader) ([]map[string]any, []string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var rows []map[string]any
	seen := map[string]bool{}
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var row map[string]any
		if err := dec.Decode(&row); err != nil || row == nil || dec.More() {
			return nil, nil, fmt.Errorf("line %d: expected one JSON object", line)
		}
		for k := range row {
			seen[k] = true
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	columns := make([]string, 0, len(seen))
	for k := range seen {
		columns = append(columns, k)
	}
	sort.Strings(columns)
	return rows, columns, nil
}
