package result

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// Encoder writes results in a text format. Encode takes the metadata of the
// run the result belongs to, for wall-clock timestamps.
type Encoder interface {
	Encode(r *Result, m *Meta) error
	// Flush writes any buffered output.
	Flush() error
}

// JSONEncoder writes one JSON object per line. Keys shared with vegeta's
// JSON results keep vegeta's names and units ("attack" is the label,
// "timestamp" the actual send time, "latency" in ns, "code", "bytes_in",
// "bytes_out", "error"), so vegeta tooling can read the stream; surge adds
// "label", "intended", "send_lag", "not_sent", "warmup", "resent", "worker"
// and the phase timings "dns", "connect", "tls", "first_byte" (all ns).
type JSONEncoder struct {
	w   *bufio.Writer
	buf []byte
}

var _ Encoder = (*JSONEncoder)(nil)

// NewJSONEncoder returns a JSONEncoder writing to w.
func NewJSONEncoder(w io.Writer) *JSONEncoder { return &JSONEncoder{w: bufio.NewWriter(w)} }

// Encode writes r as one line.
func (e *JSONEncoder) Encode(r *Result, m *Meta) error {
	b := e.buf[:0]
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, `,"attack":`...)
	b = appendJSONString(b, r.Label)
	b = append(b, `,"label":`...)
	b = appendJSONString(b, r.Label)
	b = append(b, `,"code":`...)
	b = strconv.AppendUint(b, uint64(r.Status), 10)
	b = append(b, `,"timestamp":"`...)
	b = m.Start.Add(r.Sent).AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","intended":"`...)
	b = m.Start.Add(r.Intended).AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","latency":`...)
	b = strconv.AppendInt(b, int64(r.Latency), 10)
	b = append(b, `,"send_lag":`...)
	b = strconv.AppendInt(b, int64(r.SendLag()), 10)
	b = append(b, `,"bytes_out":`...)
	b = strconv.AppendInt(b, r.BytesOut, 10)
	b = append(b, `,"bytes_in":`...)
	b = strconv.AppendInt(b, r.BytesIn, 10)
	b = append(b, `,"error":`...)
	b = appendJSONString(b, r.Error)
	b = append(b, `,"not_sent":`...)
	b = strconv.AppendBool(b, r.Flags&NotSent != 0)
	b = append(b, `,"warmup":`...)
	b = strconv.AppendBool(b, r.Flags&Warmup != 0)
	b = append(b, `,"resent":`...)
	b = strconv.AppendBool(b, r.Flags&Resent != 0)
	b = append(b, `,"worker":`...)
	b = strconv.AppendUint(b, uint64(r.Worker), 10)
	for _, p := range [...]struct {
		k string
		d time.Duration
	}{{"dns", r.DNS}, {"connect", r.Connect}, {"tls", r.TLS}, {"first_byte", r.FirstByte}} {
		b = append(b, `,"`...)
		b = append(b, p.k...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, int64(p.d), 10)
	}
	b = append(b, "}\n"...)
	e.buf = b
	_, err := e.w.Write(b)
	return err
}

// Flush writes buffered lines.
func (e *JSONEncoder) Flush() error { return e.w.Flush() }

// CSVHeader is the first row CSVEncoder writes. Durations are in ns, times
// in RFC 3339 with nanoseconds. Columns added later come last, so that
// scripts that read columns by position keep working.
var CSVHeader = []string{"seq", "label", "intended", "sent", "latency_ns", "send_lag_ns", "status",
	"bytes_in", "bytes_out", "error", "not_sent", "warmup", "worker", "dns_ns", "connect_ns", "tls_ns", "first_byte_ns",
	"resent"}

// CSVEncoder writes results as CSV (RFC 4180) with a header row.
type CSVEncoder struct {
	w      *csv.Writer
	row    []string
	header bool
}

var _ Encoder = (*CSVEncoder)(nil)

// NewCSVEncoder returns a CSVEncoder writing to w.
func NewCSVEncoder(w io.Writer) *CSVEncoder {
	return &CSVEncoder{w: csv.NewWriter(w), row: make([]string, len(CSVHeader))}
}

// Encode writes r as one row, after the header row on the first call.
func (e *CSVEncoder) Encode(r *Result, m *Meta) error {
	if !e.header {
		e.header = true
		if err := e.w.Write(CSVHeader); err != nil {
			return err
		}
	}
	d := func(v time.Duration) string { return strconv.FormatInt(int64(v), 10) }
	row := e.row
	row[0] = strconv.FormatUint(r.Seq, 10)
	row[1] = r.Label
	row[2] = m.Start.Add(r.Intended).Format(time.RFC3339Nano)
	row[3] = m.Start.Add(r.Sent).Format(time.RFC3339Nano)
	row[4] = d(r.Latency)
	row[5] = d(r.SendLag())
	row[6] = strconv.Itoa(int(r.Status))
	row[7] = strconv.FormatInt(r.BytesIn, 10)
	row[8] = strconv.FormatInt(r.BytesOut, 10)
	row[9] = r.Error
	row[10] = strconv.FormatBool(r.Flags&NotSent != 0)
	row[11] = strconv.FormatBool(r.Flags&Warmup != 0)
	row[12] = strconv.FormatUint(uint64(r.Worker), 10)
	row[13], row[14], row[15], row[16] = d(r.DNS), d(r.Connect), d(r.TLS), d(r.FirstByte)
	row[17] = strconv.FormatBool(r.Flags&Resent != 0)
	return e.w.Write(row)
}

// Flush writes buffered rows.
func (e *CSVEncoder) Flush() error {
	e.w.Flush()
	return e.w.Error()
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', byte(c))
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = utf8.AppendRune(b, c)
		}
	}
	return append(b, '"')
}
