package target

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// jsonTarget is one line of vegeta's JSON target format. The field names
// and the base64 body are those of vegeta's lib/target.schema.json; the
// field order is Target's, so a Target converts to a jsonTarget.
type jsonTarget struct {
	Method string      `json:"method"`
	URL    string      `json:"url"`
	Header http.Header `json:"header,omitempty"`
	Body   []byte      `json:"body,omitempty"`
}

// parseJSON reads vegeta's JSON lines format, described in the package
// comment.
func parseJSON(lr *lineReader) ([]Target, error) {
	var ts []Target
	for {
		line, ok := lr.next()
		if !ok {
			return ts, nil
		}
		if skippable(line) {
			continue
		}
		t, err := decodeJSONLine(lr, line)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
}

// decodeJSONLine decodes one JSON target.
func decodeJSONLine(lr *lineReader, line []byte) (Target, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		const want = `expected one JSON object per line like {"method":"GET","url":"https://host/"}`
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return Target{}, lr.errorf("json", "%s, got a JSON %s", want, typeErr.Value)
		}
		pe := lr.errorf("json", "%s", want)
		pe.Err = err
		return Target{}, pe
	}
	var t Target
	for _, name := range jsonFields {
		raw, ok := fields[name]
		if !ok || string(raw) == "null" {
			continue
		}
		var err error
		switch name {
		case "method":
			err = json.Unmarshal(raw, &t.Method)
		case "url":
			err = json.Unmarshal(raw, &t.URL)
		case "body":
			err = json.Unmarshal(raw, &t.Body)
		case "header":
			err = json.Unmarshal(raw, &t.Header)
		}
		if err != nil {
			return Target{}, lr.errorf(name, "expected %s, got %s", jsonWant[name], clip(raw))
		}
	}
	if len(t.Body) == 0 {
		t.Body = nil
	}
	if len(t.Header) == 0 {
		t.Header = nil
	}
	if err := checkJSONTarget(lr, &t, fields); err != nil {
		return Target{}, err
	}
	return t, nil
}

// jsonFields are the fields of a JSON target, in the order they are
// checked; vegeta skips any other field.
var jsonFields = []string{"method", "url", "body", "header"}

// jsonWant says what each field of a JSON target must hold.
var jsonWant = map[string]string{
	"method": `a string such as "GET"`,
	"url":    `a string such as "https://host/path"`,
	"body":   "a base64 string",
	"header": `an object of string arrays such as {"Accept":["text/plain"]}`,
}

// checkJSONTarget validates a decoded target; fields are the object's keys,
// used to hint at misspelt field names.
func checkJSONTarget(lr *lineReader, t *Target, fields map[string]json.RawMessage) error {
	if t.Method == "" {
		return lr.errorf("method", "expected a required field %q holding %s%s", "method", jsonWant["method"], caseHint(fields, "method"))
	}
	if !ValidToken(t.Method) {
		return lr.errorf("method", "expected an HTTP method such as GET, got %q", t.Method)
	}
	if t.URL == "" {
		return lr.errorf("url", "expected a required field %q holding %s%s", "url", jsonWant["url"], caseHint(fields, "url"))
	}
	if err := checkURL(t.URL); err != nil {
		return lr.errorf("url", "%s", err)
	}
	for k, vs := range t.Header {
		if !ValidToken(k) {
			return lr.errorf("header", "expected a header name made of letters, digits and -, got %q", k)
		}
		for _, v := range vs {
			if !ValidHeaderValue(v) {
				return lr.errorf("header", "expected a value without control characters for %q, got %q", k, v)
			}
		}
	}
	return nil
}

// caseHint points out a field that differs from want only in letter case,
// since vegeta, and so surge, match field names exactly.
func caseHint(fields map[string]json.RawMessage, want string) string {
	for name := range fields {
		if name != want && strings.EqualFold(name, want) {
			return fmt.Sprintf(" (found %q: field names are case-sensitive)", name)
		}
	}
	return ""
}

// clip returns raw JSON for an error message, shortened if long.
func clip(raw json.RawMessage) string {
	const max = 40
	if len(raw) > max {
		return string(raw[:max]) + "..."
	}
	return string(raw)
}
