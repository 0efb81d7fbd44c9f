package lab

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSearchCost(t *testing.T) {
	for _, tt := range []struct {
		ms, perDay time.Duration
		days       int64
		want       time.Duration
	}{
		{5 * ms, 1 * ms, 1, 6 * ms},
		{5 * ms, 1 * ms, 10, 15 * ms},
		{0, 10 * ms, 10, 100 * ms},
		{2 * ms, 0, 3660, 2 * ms},
		{maxMillis * ms, maxMillis * ms, maxSearchDays, (maxSearchDays + 1) * maxMillis * ms}, // no overflow at the limits
	} {
		if got := searchCost(tt.ms, tt.perDay, tt.days); got != tt.want {
			t.Errorf("searchCost(%v, %v, %d) = %v, want %v", tt.ms, tt.perDay, tt.days, got, tt.want)
		}
	}
}

func TestTokenStoreRing(t *testing.T) {
	ts := newTokenStore(3)
	var tokens []string
	for i := range 10 {
		tokens = append(tokens, ts.issue(string(rune('a'+i))))
		if len(ts.users) > 3 || len(ts.order) > 3 {
			t.Fatalf("after %d tokens the store holds %d (ring %d), want at most 3", i+1, len(ts.users), len(ts.order))
		}
	}
	for i, tok := range tokens {
		user, ok := ts.user(tok)
		if want := i >= 7; ok != want || (ok && user != string(rune('a'+i))) {
			t.Errorf("token %d: user %q, held %v; want held %v", i, user, ok, want)
		}
	}
}

func TestUserStore(t *testing.T) {
	u := newUserStore(2)
	for _, tt := range []struct {
		email  string
		wantID int
		err    error
	}{
		{"a", 1, nil}, {"a", 0, errEmailTaken}, {"b", 2, nil}, {"c", 0, errUsersFull}, {"b", 0, errEmailTaken},
	} {
		if id, err := u.register(tt.email); id != tt.wantID || err != tt.err {
			t.Errorf("register(%q) = %d, %v; want %d, %v", tt.email, id, err, tt.wantID, tt.err)
		}
	}
}

// FuzzReadSearch checks that validation never panics, that every error names
// a parameter, and that an accepted query spans 1…maxSearchDays days.
func FuzzReadSearch(f *testing.F) {
	for _, s := range []string{
		"lot=A&from=2024-05-01&to=2024-05-10", "lot=A&from=2024-05-10&to=2024-05-01",
		"from=2024-05-01", "lot=A&from=2024-02-30&to=2024-03-01", "lot=%zz", "lot=A&lot=A&from=0001-01-01&to=9999-12-31",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest("GET", "/search", nil)
		r.URL.RawQuery = raw
		in, err := readSearch(r)
		if err != nil {
			var pe *ParamError
			if !errors.As(err, &pe) || !strings.HasPrefix(pe.Message, pe.Param+": ") {
				t.Fatalf("%q: error %v does not name its parameter", raw, err)
			}
			return
		}
		q := in.search
		if q.lot == "" || q.days < 1 || q.days > maxSearchDays || q.to.Before(q.from) {
			t.Fatalf("%q accepted as %+v", raw, q)
		}
		if got := q.from.AddDate(0, 0, int(q.days-1)); !got.Equal(q.to) {
			t.Fatalf("%q: from + days − 1 = %v, want to = %v", raw, got, q.to)
		}
	})
}

// FuzzReadStrings checks that any body either yields the non-empty fields or
// an error naming the body or a field.
func FuzzReadStrings(f *testing.F) {
	for _, s := range []string{`{"user":"a","password":"b"}`, `{"user":""}`, `null`, `[]`, `{"user":1,"password":"x"}`, ``, `{"user":"\u00e9","password":"\ud800"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(body))
		vals, err := readStrings(r, "user", "password")
		if err != nil {
			var fe *fieldError
			if !errors.As(err, &fe) || (fe.Field != "body" && fe.Field != "user" && fe.Field != "password") || !strings.HasPrefix(fe.Message, fe.Field+": ") {
				t.Fatalf("%q: error %v does not name the body or a field", body, err)
			}
			return
		}
		if len(vals) != 2 || vals[0] == "" || vals[1] == "" {
			t.Fatalf("%q: accepted as %q", body, vals)
		}
	})
}
