package lab_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surge-dev/surge/lab"
)

// send sends method base+path with body and headers given as name, value
// pairs, and decodes the JSON answer.
func send(t *testing.T, method, url, body string, header ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	r := reply{code: resp.StatusCode, raw: string(b), took: time.Since(start)}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, body %s", method, url, ct, b)
	}
	if err := json.Unmarshal(b, &r.body); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, url, b, err)
	}
	return r
}

func TestUsers(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	for i, email := range []string{"a@example.com", "b@example.com"} {
		r := send(t, "POST", base+"/users?ms=0", `{"email":"`+email+`"}`)
		want := fmt.Sprintf(`{"ok":true,"id":%d,"email":%q}`, i+1, email)
		if r.code != 201 || r.raw != want {
			t.Errorf("first POST of %s = %d %s, want 201 %s", email, r.code, r.raw, want)
		}
	}
	r := send(t, "POST", base+"/users?ms=0", `{"email":"a@example.com","name":"again"}`)
	if r.code != 409 || r.raw != `{"ok":false,"error":"email already registered"}` {
		t.Errorf("repeated email = %d %s, want 409", r.code, r.raw)
	}
	// The set of emails belongs to the server, not to a parameter set.
	if r := send(t, "POST", base+"/users", `{"email":"b@example.com"}`); r.code != 409 {
		t.Errorf("repeated email under the default parameters = %d %s, want 409", r.code, r.raw)
	}
	if r := send(t, "POST", base+"/users", `{"email":"c@example.com"}`); r.code != 201 || r.body["id"] != 3.0 {
		t.Errorf("third email = %d %s, want 201 with id 3", r.code, r.raw)
	}

	for _, tt := range []struct{ body, field string }{
		{``, "body"},
		{`not json`, "body"},
		{`["a@example.com"]`, "body"},
		{`null`, "body"},
		{`{"email":"a@example.com"} trailing`, "body"},
		{`{}`, "email"},
		{`{"mail":"a@example.com"}`, "email"},
		{`{"email":""}`, "email"},
		{`{"email":42}`, "email"},
		{`{"email":null}`, "email"},
	} {
		r := send(t, "POST", base+"/users?ms=0", tt.body)
		msg, _ := r.body["message"].(string)
		if r.code != 400 || r.body["error"] != "bad body" || r.body["field"] != tt.field || !strings.HasPrefix(msg, tt.field+": expected ") {
			t.Errorf("POST /users %s = %d %s, want 400 naming %q", tt.body, r.code, r.raw, tt.field)
		}
	}
	if r := send(t, "GET", base+"/users", `{"email":"d@example.com"}`); r.code != 405 || r.body["message"] != "method: expected POST, got GET" {
		t.Errorf("GET /users = %d %s, want 405", r.code, r.raw)
	}
	if r := send(t, "POST", base+"/users?ms=x", `{"email":"d@example.com"}`); r.code != 400 || r.body["param"] != "ms" {
		t.Errorf("POST /users?ms=x = %d %s, want 400 naming ms", r.code, r.raw)
	}

	m := scrape(t, base)
	for key, want := range map[string]float64{
		`surge_lab_requests_total{endpoint="users",params="ms=0"}`:        3, // 400s and 405s are not counted
		`surge_lab_users_created_total{endpoint="users",params="ms=0"}`:   2,
		`surge_lab_users_conflicts_total{endpoint="users",params="ms=0"}`: 1,
		`surge_lab_requests_total{endpoint="users",params=""}`:            2,
		`surge_lab_users_created_total{endpoint="users",params=""}`:       1,
		`surge_lab_users_conflicts_total{endpoint="users",params=""}`:     1,
	} {
		if got, ok := m[key]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", key, got, ok, want)
		}
	}
}

func TestUsersCost(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	r := send(t, "POST", base+"/users?ms=50", `{"email":"slow@example.com"}`)
	if r.code != 201 || r.took < 50*time.Millisecond || r.took > 5*time.Second {
		t.Errorf("POST /users?ms=50 = %d in %v, want 201 after at least 50ms", r.code, r.took)
	}
}

// TestUsersUnique registers 10,000 distinct emails from 8 goroutines: every
// one is created once, with ids 1…10000, and every repeat is a conflict.
func TestUsersUnique(t *testing.T) {
	const n, workers = 10_000, 8
	l := lab.New(lab.Config{})
	post := func(email string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		l.ServeHTTP(rec, httptest.NewRequest("POST", "/users?ms=0", strings.NewReader(`{"email":"`+email+`"}`)))
		return rec
	}
	var mu sync.Mutex
	ids := make(map[float64]bool, n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				rec := post(fmt.Sprintf("user%d@example.com", i))
				var body struct{ ID float64 }
				if rec.Code != 201 || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
					t.Errorf("email %d: %d %s, want 201", i, rec.Code, rec.Body)
					return
				}
				mu.Lock()
				ids[body.ID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for id := 1; id <= n; id++ {
		if !ids[float64(id)] {
			t.Fatalf("id %d never given; %d distinct ids", id, len(ids))
		}
	}
	for _, i := range []int{0, 4999, n - 1} {
		if rec := post(fmt.Sprintf("user%d@example.com", i)); rec.Code != 409 {
			t.Errorf("repeat of email %d: %d, want 409", i, rec.Code)
		}
	}
}

func TestUsersFull(t *testing.T) {
	_, base := newLab(t, lab.Config{MaxUsers: 2})
	for _, email := range []string{"a", "b"} {
		if r := send(t, "POST", base+"/users?ms=0", `{"email":"`+email+`"}`); r.code != 201 {
			t.Fatalf("email %s = %d %s", email, r.code, r.raw)
		}
	}
	r := send(t, "POST", base+"/users?ms=0", `{"email":"c"}`)
	if msg, _ := r.body["message"].(string); r.code != 507 || r.body["error"] != "user store full" || !strings.Contains(msg, "at most 2 emails") {
		t.Errorf("email beyond MaxUsers = %d %s, want 507", r.code, r.raw)
	}
	if r := send(t, "POST", base+"/users?ms=0", `{"email":"a"}`); r.code != 409 {
		t.Errorf("repeat in a full store = %d %s, want 409", r.code, r.raw)
	}
}

func TestSearchValidation(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	for _, tt := range []struct {
		query string
		code  int
		param string // for 400
		days  float64
	}{
		{"lot=A1&from=2024-05-01&to=2024-05-01", 200, "", 1},
		{"lot=A1&from=2024-05-01&to=2024-05-10", 200, "", 10},
		{"lot=A1&from=2024-02-28&to=2024-03-01", 200, "", 3}, // leap year
		{"lot=A1&from=2023-12-31&to=2024-12-31", 200, "", 367},
		{"from=2024-05-01&to=2024-05-10", 400, "lot", 0},
		{"lot=&from=2024-05-01&to=2024-05-10", 400, "lot", 0},
		{"lot=" + strings.Repeat("x", 129) + "&from=2024-05-01&to=2024-05-10", 400, "lot", 0},
		{"lot=A&lot=B&from=2024-05-01&to=2024-05-10", 400, "lot", 0},
		{"lot=A1&to=2024-05-10", 400, "from", 0},
		{"lot=A1&from=2024-5-1&to=2024-05-10", 400, "from", 0},
		{"lot=A1&from=2024-02-30&to=2024-05-10", 400, "from", 0},
		{"lot=A1&from=yesterday&to=2024-05-10", 400, "from", 0},
		{"lot=A1&from=2024-05-01", 400, "to", 0},
		{"lot=A1&from=2024-05-01&to=2024-05-10T00:00:00Z", 400, "to", 0},
		{"lot=A1&from=2024-05-10&to=2024-05-01", 400, "to", 0},
		{"lot=A1&from=2000-01-01&to=2024-05-01", 400, "to", 0}, // more than 3660 days
		{"lot=A1&from=0001-01-01&to=9999-12-31", 400, "to", 0},
		{"lot=A1&from=2024-05-01&to=2024-05-02&per_day=-1", 400, "per_day", 0},
		{"lot=A1&from=2024-05-01&to=2024-05-02&ms=x", 400, "ms", 0},
	} {
		r := send(t, "GET", base+"/search?per_day=0&ms=0&"+tt.query, "")
		if r.code != tt.code {
			t.Errorf("GET /search?%s = %d %s, want %d", tt.query, r.code, r.raw, tt.code)
			continue
		}
		if tt.code == 400 {
			msg, _ := r.body["message"].(string)
			if r.body["param"] != tt.param || !strings.HasPrefix(msg, tt.param+": ") {
				t.Errorf("GET /search?%s = %s, want a message naming %q", tt.query, r.raw, tt.param)
			}
			continue
		}
		items, _ := r.body["items"].([]any)
		if r.body["ok"] != true || r.body["lot"] != "A1" || r.body["days"] != tt.days || len(items) != min(int(tt.days), 3) {
			t.Errorf("GET /search?%s = %s, want days %v", tt.query, r.raw, tt.days)
		}
	}
	if r := send(t, "POST", base+"/search?lot=A1&from=2024-05-01&to=2024-05-01", ""); r.code != 405 {
		t.Errorf("POST /search = %d %s, want 405", r.code, r.raw)
	}
}

func TestSearchCost(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	// 10 days: ms + per_day·10 = 5 + 10·10 = 105ms.
	r := send(t, "GET", base+"/search?lot=B7&from=2024-05-01&to=2024-05-10&per_day=10", "")
	want := `{"ok":true,"lot":"B7","from":"2024-05-01","to":"2024-05-10","days":10,` +
		`"items":[{"date":"2024-05-01","free":3},{"date":"2024-05-02","free":4},{"date":"2024-05-03","free":5}],"ms":105}`
	if r.code != 200 || r.raw != want {
		t.Errorf("GET /search = %d %s, want %s", r.code, r.raw, want)
	}
	if r.took < 105*time.Millisecond || r.took > 5*time.Second {
		t.Errorf("a 10-day search took %v, want at least 105ms", r.took)
	}
	// The defaults: 5 + 1·10 = 15ms.
	r = send(t, "GET", base+"/search?lot=B7&from=2024-05-01&to=2024-05-10&id=1", "")
	if r.body["ms"] != 15.0 || r.took < 15*time.Millisecond {
		t.Errorf("default 10-day search: %s in %v, want ms 15", r.raw, r.took)
	}
	m := scrape(t, base)
	if m[`surge_lab_requests_total{endpoint="search",params="per_day=10"}`] != 1 || m[`surge_lab_requests_total{endpoint="search",params=""}`] != 1 {
		t.Errorf("search requests_total: %v", m)
	}
}

var hexToken = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestLoginMe(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	r := send(t, "POST", base+"/login?ms=0", `{"user":"ada","password":"s3cret"}`)
	token, _ := r.body["token"].(string)
	if r.code != 200 || r.body["user"] != "ada" || !hexToken.MatchString(token) {
		t.Fatalf("POST /login = %d %s, want 200 with a hex token", r.code, r.raw)
	}
	if r2 := send(t, "POST", base+"/login?ms=0", `{"user":"ada","password":"s3cret"}`); r2.body["token"] == token {
		t.Errorf("two logins got the same token %s", token)
	}
	if r := send(t, "GET", base+"/me", "", "Authorization", "Bearer "+token); r.code != 200 || r.raw != `{"ok":true,"user":"ada"}` {
		t.Errorf("GET /me with the token = %d %s, want 200 ada", r.code, r.raw)
	}
	if r := send(t, "GET", base+"/me?ms=0", "", "Authorization", "bearer "+token); r.code != 200 {
		t.Errorf("GET /me with a lower-case scheme = %d %s, want 200", r.code, r.raw)
	}
	for _, header := range [][]string{
		nil,
		{"Authorization", "Bearer " + strings.Repeat("0", 32)},
		{"Authorization", "Bearer"},
		{"Authorization", "Bearer "},
		{"Authorization", "Basic " + token},
		{"Authorization", token},
	} {
		r := send(t, "GET", base+"/me?ms=0", "", header...)
		if r.code != 401 || r.raw != `{"ok":false,"error":"missing or unknown bearer token"}` {
			t.Errorf("GET /me with %q = %d %s, want 401", header, r.code, r.raw)
		}
	}
	if r := send(t, "POST", base+"/login?ms=0", `{"user":"ada","password":"wrong"}`); r.code != 401 || r.body["ok"] != false {
		t.Errorf("wrong password = %d %s, want 401", r.code, r.raw)
	}
	for _, tt := range []struct{ body, field string }{
		{`{"user":"ada"}`, "password"},
		{`{"password":"x"}`, "user"},
		{`{"user":"","password":"x"}`, "user"},
		{`{"user":"ada","password":7}`, "password"},
		{`user=ada&password=x`, "body"},
	} {
		r := send(t, "POST", base+"/login?ms=0", tt.body)
		if r.code != 400 || r.body["field"] != tt.field {
			t.Errorf("POST /login %s = %d %s, want 400 naming %q", tt.body, r.code, r.raw, tt.field)
		}
	}
	m := scrape(t, base)
	for key, want := range map[string]float64{
		`surge_lab_requests_total{endpoint="login",params="ms=0"}`:     3,
		`surge_lab_unauthorized_total{endpoint="login",params="ms=0"}`: 1,
		`surge_lab_requests_total{endpoint="me",params=""}`:            1,
		`surge_lab_unauthorized_total{endpoint="me",params=""}`:        0,
		`surge_lab_requests_total{endpoint="me",params="ms=0"}`:        7,
		`surge_lab_unauthorized_total{endpoint="me",params="ms=0"}`:    6,
	} {
		if got, ok := m[key]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", key, got, ok, want)
		}
	}
}

func TestLoginCost(t *testing.T) {
	_, base := newLab(t, lab.Config{})
	r := send(t, "POST", base+"/login?ms=40", `{"user":"ada","password":"x"}`)
	if r.code != 200 || r.took < 40*time.Millisecond {
		t.Errorf("POST /login?ms=40 = %d in %v, want 200 after at least 40ms", r.code, r.took)
	}
	r = send(t, "GET", base+"/me?ms=30", "", "Authorization", "Bearer "+r.body["token"].(string))
	if r.code != 200 || r.took < 30*time.Millisecond {
		t.Errorf("GET /me?ms=30 = %d in %v, want 200 after at least 30ms", r.code, r.took)
	}
}

func TestTokensEvictOldest(t *testing.T) {
	_, base := newLab(t, lab.Config{MaxTokens: 2})
	var tokens []string
	for _, user := range []string{"u1", "u2", "u3"} {
		r := send(t, "POST", base+"/login?ms=0", `{"user":"`+user+`","password":"p"}`)
		tokens = append(tokens, r.body["token"].(string))
	}
	for i, want := range []int{401, 200, 200} {
		if r := send(t, "GET", base+"/me?ms=0", "", "Authorization", "Bearer "+tokens[i]); r.code != want {
			t.Errorf("token of u%d = %d %s, want %d", i+1, r.code, r.raw, want)
		}
	}
}
