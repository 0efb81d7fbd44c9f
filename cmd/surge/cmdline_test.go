package main

import (
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCommandLine: the recorded command line comes from the parsed flags,
// so every spelling of a flag is redacted alike.
func TestCommandLine(t *testing.T) {
	e := &env{stderr: io.Discard}
	fs := newFlagSet(e, "attack", "")
	var hdr headerFlag
	fs.Var(&hdr, "header", "")
	fs.String("base-url", "", "")
	fs.String("auth-token", "", "")
	fs.String("rate", "", "")
	fs.Bool("quiet", false, "")
	err := fs.Parse([]string{
		"-header=Authorization: Bearer a1", "--header=X-Api-Key: a2", "-header", "Cookie: a3", "--header", "proxy-authorization: a4",
		"-header", "Accept: text/plain", "-header=Referer: http://u:a5@h/?token=a6",
		"--base-url=http://u:a7@127.0.0.1/?api_key=a8&q=1", "-auth-token", "a9", "-rate", "5/1s", "-quiet",
		"http://u:a10@h/p?sig=a11", "plain.yaml",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"surge", "attack",
		"-auth-token=REDACTED",
		"-base-url=http://u:REDACTED@127.0.0.1/?api_key=REDACTED&q=1",
		"-header=Authorization: REDACTED", "-header=X-Api-Key: REDACTED", "-header=Cookie: REDACTED",
		"-header=proxy-authorization: REDACTED", "-header=Accept: text/plain", "-header=Referer: http://u:REDACTED@h/?token=REDACTED",
		"-quiet=true", "-rate=5/1s",
		"http://u:REDACTED@h/p?sig=REDACTED", "plain.yaml",
	}
	if diff := cmp.Diff(want, commandLine(fs)); diff != "" {
		t.Errorf("commandLine (-want +got):\n%s", diff)
	}
}
