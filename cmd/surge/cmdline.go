package main

import (
	"flag"
	"strings"

	"github.com/surge-dev/surge/target"
)

// redactedFlag is a flag.Value that knows which parts of its value are
// secret: it returns each value given to it, in order, as it may be
// shown (a repeatable flag returns one string per occurrence).
type redactedFlag interface {
	redactedValues() []string
}

// commandLine returns the command line of a parsed command as the results
// file records it: "surge", the command, every flag that was set as
// -name=value (in name order, a repeatable flag once per value), then the
// arguments; secrets redacted. It is built from the parsed flags, not from
// argv, so that every spelling of a flag (-header=V, --header V, …) is
// redacted alike.
func commandLine(fs *flag.FlagSet) []string {
	argv := []string{"surge", fs.Name()}
	fs.Visit(func(f *flag.Flag) {
		for _, v := range redactFlagValue(f) {
			argv = append(argv, "-"+f.Name+"="+v)
		}
	})
	for _, a := range fs.Args() {
		argv = append(argv, redactValue(a))
	}
	return argv
}

// redactFlagValue returns the values of f as they may be shown: a flag
// that knows its secrets redacts them itself; a flag named like a secret
// (token, key, password, secret, …) is hidden whole; a URL loses its
// password and secret query parameters.
func redactFlagValue(f *flag.Flag) []string {
	if r, ok := f.Value.(redactedFlag); ok {
		return r.redactedValues()
	}
	if target.IsSecretParam(f.Name) || target.IsSecretHeader(f.Name) {
		return []string{target.Redacted}
	}
	return []string{redactValue(f.Value.String())}
}

// redactValue hides the secrets of a URL found in s: s whole when it is
// a URL, else each space-separated word that is one.
func redactValue(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	if !strings.ContainsAny(s, " \t") {
		return target.RedactURL(s)
	}
	words := strings.Fields(s)
	for i, w := range words {
		if strings.Contains(w, "://") {
			words[i] = target.RedactURL(w)
		}
	}
	return strings.Join(words, " ")
}
