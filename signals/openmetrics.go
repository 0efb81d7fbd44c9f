package signals

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// openMetricsToText rewrites an OpenMetrics 1.0 exposition as the
// Prometheus text format 0.0.4, for expfmt's text parser: its OpenMetrics
// parser compiles a grammar on first use (3 s of CPU measured here) and
// then takes milliseconds a line, which at thousands of series a second
// would cost the generator more than the load it measures.
//
// The rewrite keeps what a reading needs, the samples and their kinds:
//   - # TYPE of a counter names its _total samples (OpenMetrics types the
//     family foo whose samples are foo_total and foo_created); info and
//     stateset are gauges, unknown untyped; a gauge histogram is untyped,
//     so that its _bucket, _gcount and _gsum samples are gauges;
//   - # HELP, # UNIT and other comments are dropped, # EOF ends the body;
//   - a sample loses its exemplar and its timestamp (in seconds in
//     OpenMetrics, in milliseconds in the text format; a reading's time is
//     when it was taken).
//
// _created samples become untyped series of their own, whose values (the
// creation times) change only when the series restarts.
func openMetricsToText(body io.Reader, dst *bytes.Buffer) error {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			if line == "# EOF" {
				return nil
			}
			rest, ok := strings.CutPrefix(line, "# TYPE ")
			if !ok {
				continue
			}
			name, typ, ok := strings.Cut(rest, " ")
			if !ok {
				return fmt.Errorf("openmetrics: %q: a TYPE line without a type", line)
			}
			switch typ {
			case "counter":
				name += "_total"
			case "info":
				name, typ = name+"_info", "gauge"
			case "stateset":
				typ = "gauge"
			case "unknown", "gaugehistogram":
				typ = "untyped"
			}
			dst.WriteString("# TYPE ")
			dst.WriteString(name)
			dst.WriteByte(' ')
			dst.WriteString(typ)
			dst.WriteByte('\n')
			continue
		}
		series, value := splitSample(line)
		dst.WriteString(series)
		dst.WriteByte(' ')
		dst.WriteString(value)
		dst.WriteByte('\n')
	}
	return sc.Err()
}

// splitSample cuts a sample line into its name and labels, and its value
// (without the timestamp and exemplar that may follow).
func splitSample(line string) (series, value string) {
	end := 0
	if i := strings.IndexAny(line, "{ "); i >= 0 && line[i] == '{' {
		// The labels end at the first '}' outside a quoted value.
		quoted := false
		for j := i + 1; j < len(line); j++ {
			switch c := line[j]; {
			case c == '\\' && quoted:
				j++
			case c == '"':
				quoted = !quoted
			case c == '}' && !quoted:
				end = j + 1
			}
			if end > 0 {
				break
			}
		}
		if end == 0 {
			return line, "" // unterminated: the parser says so
		}
	} else if i >= 0 {
		end = i
	} else {
		return line, ""
	}
	rest := strings.TrimLeft(line[end:], " ")
	value, _, _ = strings.Cut(rest, " ")
	return line[:end], value
}
