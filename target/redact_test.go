package target

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRedact(t *testing.T) {
	in := http.Header{
		"Authorization":       {"Bearer abc"},
		"proxy-authorization": {"Basic xyz"},
		"Cookie":              {"a=1", "b=2"},
		"Set-Cookie":          {"s=1"},
		"X-Api-Key":           {"k"},
		"X-Auth-Token":        {"t"},
		"Client-SECRET":       {"s"},
		"X-Password-Hint":     {"p"},
		"Accept":              {"text/plain"},
		"Host":                {"a.example"},
		"X-Empty":             {},
	}
	want := http.Header{
		"Authorization":       {"REDACTED"},
		"proxy-authorization": {"REDACTED"},
		"Cookie":              {"REDACTED", "REDACTED"},
		"Set-Cookie":          {"REDACTED"},
		"X-Api-Key":           {"REDACTED"},
		"X-Auth-Token":        {"REDACTED"},
		"Client-SECRET":       {"REDACTED"},
		"X-Password-Hint":     {"REDACTED"},
		"Accept":              {"text/plain"},
		"Host":                {"a.example"},
		"X-Empty":             {},
	}
	got := Redact(in)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Redact mismatch (-want +got):\n%s", diff)
	}
	if in.Get("Authorization") != "Bearer abc" || in["Cookie"][1] != "b=2" {
		t.Errorf("Redact changed its input: %v", in)
	}
	got["Accept"][0] = "changed"
	if in.Get("Accept") != "text/plain" {
		t.Errorf("Redact's result shares value slices with its input")
	}
	if Redact(nil) != nil {
		t.Errorf("Redact(nil) = %v, want nil", Redact(nil))
	}
}

func TestIsSecretHeader(t *testing.T) {
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"authorization", true}, {"COOKIE", true}, {"x-api-key", true}, {"X-CSRF-Token", true},
		{"Accept", false}, {"Content-Type", false}, {"X-Key-Id", false}, {"Keep-Alive", false},
	} {
		if got := IsSecretHeader(tt.name); got != tt.want {
			t.Errorf("IsSecretHeader(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for _, tt := range []struct {
		name, in, want string
	}{
		{"nothing secret", "https://a.example/p?q=1&b=2#f", "https://a.example/p?q=1&b=2#f"},
		{"password", "https://user:hunter2@a.example/", "https://user:REDACTED@a.example/"},
		{"user without password", "https://user@a.example/", "https://user@a.example/"},
		{
			"secret parameters keep their order",
			"https://a.example/?z=1&token=abc&Key=k&API_KEY=x&apikey=y&password=p&secret=s&access_token=t&sig=g&signature=h&a=2",
			"https://a.example/?z=1&token=REDACTED&Key=REDACTED&API_KEY=REDACTED&apikey=REDACTED&password=REDACTED&secret=REDACTED&access_token=REDACTED&sig=REDACTED&signature=REDACTED&a=2",
		},
		{"names containing secret words", "http://a/?refresh_token=r&client_secret=c", "http://a/?refresh_token=REDACTED&client_secret=REDACTED"},
		{"escaped name", "http://a/?to%6Ben=abc", "http://a/?to%6Ben=REDACTED"},
		{"repeated parameter", "http://a/?sig=1&sig=2", "http://a/?sig=REDACTED&sig=REDACTED"},
		{"empty value", "http://a/?token=&key", "http://a/?token=&key"},
		{"both", "http://u:p@a/?token=t", "http://u:REDACTED@a/?token=REDACTED"},
		{"not similar names", "http://a/?keys=1&monkey=2&signed=3", "http://a/?keys=1&monkey=2&signed=3"},
		{"unparsable", "http://a b:p@/%zz?token=t", "REDACTED"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q)\n\tgot  %q\n\twant %q", tt.in, got, tt.want)
			}
		})
	}
}
