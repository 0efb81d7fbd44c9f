package target

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Redacted replaces secret values in the output of Redact and RedactURL.
const Redacted = "REDACTED"

// secretHeaders are the header names, canonicalised, whose values are
// always secret.
var secretHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
	"X-Api-Key":           true,
}

// secretWords mark a header or query parameter as secret when its name
// contains one of them, in any letter case.
var secretWords = []string{"token", "secret", "password"}

// secretParams are query parameter names, lower case, whose values are
// secret.
var secretParams = map[string]bool{
	"token": true, "key": true, "api_key": true, "apikey": true, "password": true,
	"secret": true, "access_token": true, "sig": true, "signature": true,
}

// IsSecretHeader reports whether the values of header name are secret:
// Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key, or a
// name containing "token", "secret" or "password", in any letter case.
func IsSecretHeader(name string) bool {
	return secretHeaders[http.CanonicalHeaderKey(name)] || containsSecretWord(name)
}

func containsSecretWord(name string) bool {
	lower := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// Redact returns a copy of h in which every value of a secret header (see
// IsSecretHeader) is replaced by "REDACTED". Keys keep their letter case and
// the number of values is kept, so the copy still shows which headers were
// sent and how often. Redact(nil) is nil.
func Redact(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		c := slices.Clone(vs)
		if IsSecretHeader(k) {
			for i := range c {
				c[i] = Redacted
			}
		}
		out[k] = c
	}
	return out
}

// RedactURL returns u with any userinfo password replaced by "REDACTED" and
// the values of secret query parameters replaced by "REDACTED". A parameter
// is secret when its name, in any letter case, is token, key, api_key,
// apikey, password, secret, access_token, sig or signature, or contains
// "token", "secret" or "password" (refresh_token, client_secret). The rest
// of the query is kept byte for byte, in order. A string that does not
// parse as a URL is replaced whole by "REDACTED", since it cannot be
// checked.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return Redacted
	}
	changed := false
	if p.User != nil {
		if _, ok := p.User.Password(); ok {
			p.User = url.UserPassword(p.User.Username(), Redacted)
			changed = true
		}
	}
	if p.RawQuery != "" {
		if q, ok := redactQuery(p.RawQuery); ok {
			p.RawQuery = q
			changed = true
		}
	}
	if !changed {
		return u // keep the caller's spelling when nothing is secret
	}
	return p.String()
}

// IsSecretParam reports whether the values of a query parameter (or of
// a command-line flag) named name are secret: in any letter case, token,
// key, api_key, apikey, password, secret, access_token, sig or signature,
// or a name containing "token", "secret" or "password".
func IsSecretParam(name string) bool {
	lower := strings.ToLower(name)
	return secretParams[lower] || containsSecretWord(lower)
}

// redactQuery replaces the values of secret parameters in a raw query and
// reports whether it changed anything.
func redactQuery(raw string) (string, bool) {
	parts := strings.Split(raw, "&")
	changed := false
	for i, part := range parts {
		rawName, val, _ := strings.Cut(part, "=")
		if val == "" {
			continue // nothing to hide
		}
		name := rawName
		if n, err := url.QueryUnescape(rawName); err == nil {
			name = n
		}
		if IsSecretParam(name) {
			parts[i] = rawName + "=" + Redacted
			changed = true
		}
	}
	return strings.Join(parts, "&"), changed
}
