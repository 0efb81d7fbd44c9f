package lab

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// userStore is the set of emails registered by /users, shared by all its
// parameter sets. It holds at most max emails.
type userStore struct {
	max int

	mu     sync.Mutex
	emails map[string]struct{}
}

var (
	errEmailTaken = errors.New("email already registered")
	errUsersFull  = errors.New("user store full")
)

func newUserStore(max int) userStore {
	return userStore{max: max, emails: make(map[string]struct{})}
}

// register adds email and returns its id, 1-based in registration order. It
// fails with errEmailTaken if email was registered before and with
// errUsersFull if the store holds max emails.
func (u *userStore) register(email string) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.emails[email]; ok {
		return 0, errEmailTaken
	}
	if len(u.emails) >= u.max {
		return 0, errUsersFull
	}
	u.emails[email] = struct{}{}
	return len(u.emails), nil
}

// tokenStore maps the bearer tokens issued by /login to their users. It
// holds at most max tokens; issuing one more forgets the oldest.
type tokenStore struct {
	max int

	mu    sync.RWMutex
	users map[string]string // token → user
	order []string          // tokens in issue order, a ring once it holds max
	next  int               // once full, the index in order of the oldest token
}

func newTokenStore(max int) tokenStore {
	return tokenStore{max: max, users: make(map[string]string)}
}

// issue returns a new random token for user: 16 bytes from crypto/rand, in hex.
func (t *tokenStore) issue(user string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails: it crashes the program instead
	token := hex.EncodeToString(b[:])
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.order) < t.max {
		t.order = append(t.order, token)
	} else {
		delete(t.users, t.order[t.next])
		t.order[t.next] = token
		t.next = (t.next + 1) % t.max
	}
	t.users[token] = user
	return token
}

// user returns the user a token was issued to, if the store still holds it.
func (t *tokenStore) user(token string) (string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, ok := t.users[token]
	return u, ok
}

func readUser(r *http.Request) (input, error) {
	v, err := readStrings(r, "email")
	if err != nil {
		return input{}, err
	}
	return input{email: v[0]}, nil
}

func readLogin(r *http.Request) (input, error) {
	v, err := readStrings(r, "user", "password")
	if err != nil {
		return input{}, err
	}
	return input{user: v[0], password: v[1]}, nil
}

// wrongPassword is the one password /login refuses.
const wrongPassword = "wrong"

// The bodies of /users, /login and /me.
type (
	userCreated struct {
		OK    bool   `json:"ok"`
		ID    int    `json:"id"`
		Email string `json:"email"`
	}
	loginBody struct {
		OK    bool   `json:"ok"`
		Token string `json:"token"`
		User  string `json:"user"`
	}
	meBody struct {
		OK   bool   `json:"ok"`
		User string `json:"user"`
	}
)

var (
	conflictBody      = []byte(`{"ok":false,"error":"email already registered"}`)
	wrongPasswordBody = []byte(`{"ok":false,"error":"wrong password"}`)
	unknownTokenBody  = []byte(`{"ok":false,"error":"missing or unknown bearer token"}`)
)

// serveUsers registers email after the set's service time: the
// registration happens only if the client is still there to be told.
func (s *Server) serveUsers(w http.ResponseWriter, r *http.Request, st *state, email string) {
	if !sleep(r.Context(), st.set.ms) {
		return
	}
	id, err := s.users.register(email)
	switch err {
	case nil:
		st.registered.Add(1)
		writeJSON(w, http.StatusCreated, marshal(userCreated{OK: true, ID: id, Email: email}))
	case errEmailTaken:
		st.conflicts.Add(1)
		writeJSON(w, http.StatusConflict, conflictBody)
	default:
		writeError(w, http.StatusInsufficientStorage, errorBody{
			Error: errUsersFull.Error(), Endpoint: "users",
			Message: fmt.Sprintf("the lab remembers at most %d emails (Config.MaxUsers); restart it to start over", s.users.max),
		})
	}
}

func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request, st *state, user, password string) {
	if !sleep(r.Context(), st.set.ms) {
		return
	}
	if password == wrongPassword {
		st.unauthorized.Add(1)
		writeJSON(w, http.StatusUnauthorized, wrongPasswordBody)
		return
	}
	token := s.tokens.issue(user)
	writeJSON(w, http.StatusOK, marshal(loginBody{OK: true, Token: token, User: user}))
}

func (s *Server) serveMe(w http.ResponseWriter, r *http.Request, st *state) {
	if !sleep(r.Context(), st.set.ms) {
		return
	}
	user, ok := s.tokens.user(bearerToken(r))
	if !ok {
		st.unauthorized.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer realm="surge lab"`)
		writeJSON(w, http.StatusUnauthorized, unknownTokenBody)
		return
	}
	writeJSON(w, http.StatusOK, marshal(meBody{OK: true, User: user}))
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header
// (the scheme is case-insensitive), or "" if there is none.
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
