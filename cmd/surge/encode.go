package main

import (
	"context"
	"io"

	"github.com/surge-dev/surge/result"
)

const encodeUsage = `encode [flags] [results files...]

Converts results files (stdin when none) to one line per request.

Examples:
  surge encode -to json run.srg > run.jsonl
  surge encode -to csv -output run.csv run.srg`

func runEncode(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "encode", encodeUsage)
	to := fs.String("to", "json", "output format: json (JSON lines, vegeta's keys) or csv")
	output := fs.String("output", "stdout", "where to write")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var newEnc func(io.Writer) result.Encoder
	switch *to {
	case "json":
		newEnc = func(w io.Writer) result.Encoder { return result.NewJSONEncoder(w) }
	case "csv":
		newEnc = func(w io.Writer) result.Encoder { return result.NewCSVEncoder(w) }
	default:
		return usagef("-to %q: expected json or csv", *to)
	}
	return writeOutput(e, *output, func(w io.Writer) error {
		enc := newEnc(w)
		err := readResults(e, fs.Args(), &encodeConsumer{enc: enc}, nil)
		if ferr := enc.Flush(); err == nil {
			err = ferr
		}
		return err
	})
}

// encodeConsumer is a result.Consumer that encodes results and keeps the
// first error; markers have no line in the JSON or CSV formats.
type encodeConsumer struct {
	enc result.Encoder
	err error
}

// Add implements result.Consumer.
func (c *encodeConsumer) Add(m *result.Meta, r *result.Result) {
	if c.err == nil {
		c.err = c.enc.Encode(r, m)
	}
}

// AddMarker implements result.Consumer.
func (c *encodeConsumer) AddMarker(*result.Meta, result.Marker) {}

// Err returns the first error of the encoder.
func (c *encodeConsumer) Err() error { return c.err }
