package lab

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// input is what a request to /users, /search or /login carries beyond its
// parameter set. Each endpoint's read fills only its own fields.
type input struct {
	email          string // /users
	user, password string // /login
	search         searchQuery
}

// fieldError reports a JSON request body, or one of its fields, that the lab
// cannot use. The lab answers it with 400 and a body naming the field.
type fieldError struct {
	Field   string // the field's name, or "body" when the body itself is unusable
	Message string // what was expected and what was given
}

func (e *fieldError) Error() string { return e.Message }

// maxBody bounds the JSON bodies the lab reads.
const maxBody = 1 << 20

// readStrings reads r's body as a JSON object and returns the values of the
// named fields, each of which must be a non-empty string. Its error is a
// *fieldError.
func readStrings(r *http.Request, names ...string) ([]string, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, &fieldError{Field: "body", Message: fmt.Sprintf("body: cannot read: %v", err)}
	}
	if len(b) > maxBody {
		return nil, &fieldError{Field: "body", Message: fmt.Sprintf("body: expected at most %d bytes", maxBody)}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil || obj == nil {
		return nil, &fieldError{Field: "body", Message: fmt.Sprintf("body: expected a JSON object with %s, got %s", fieldList(names), quoteBody(b))}
	}
	vals := make([]string, len(names))
	for i, name := range names {
		raw, ok := obj[name]
		if !ok {
			return nil, &fieldError{Field: name, Message: fmt.Sprintf("%s: expected a non-empty string, got no %q field", name, name)}
		}
		if err := json.Unmarshal(raw, &vals[i]); err != nil || vals[i] == "" {
			return nil, &fieldError{Field: name, Message: fmt.Sprintf("%s: expected a non-empty string, got %s", name, raw)}
		}
	}
	return vals, nil
}

// fieldList writes names as the fields of a JSON object: "email", "user" and "password".
func fieldList(names []string) string {
	s := ""
	for i, n := range names {
		switch {
		case i == 0:
		case i == len(names)-1:
			s += " and "
		default:
			s += ", "
		}
		s += fmt.Sprintf("%q", n)
	}
	return s
}

// quoteBody quotes the start of a body for an error message.
func quoteBody(b []byte) string {
	const max = 64
	if len(b) == 0 {
		return "an empty body"
	}
	if len(b) > max {
		return fmt.Sprintf("%q…", b[:max])
	}
	return fmt.Sprintf("%q", b)
}

// queryValue returns the value of a query parameter given at most once (or
// several times with the same value), and whether it was given. Its error is a
// *ParamError.
func queryValue(q url.Values, name string) (string, bool, error) {
	given := q[name]
	if len(given) == 0 {
		return "", false, nil
	}
	for _, g := range given[1:] {
		if g != given[0] {
			return "", false, &ParamError{Param: name, Message: fmt.Sprintf("%s: given more than once with different values (%q, %q)", name, given[0], g)}
		}
	}
	return given[0], true, nil
}
