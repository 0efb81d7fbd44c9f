package main

import (
	"bytes"
	"io"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, c := range []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build info", nil, false, "devel"},
		{"go install module@version", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.1"}}, true, "v0.4.1"},
		{"checkout", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs.revision", "1bf1953c0ffee1234567890", "vcs.time", "2026-12-01T14:45:00Z", "vcs.modified", "false")}, true,
			"devel 1bf1953c0ffe 2026-12-01T14:45:00Z"},
		{"modified checkout", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs.revision", "abc", "vcs.modified", "true")}, true, "devel abc, modified"},
		{"-buildvcs=false", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "devel"},
	} {
		if got := versionString(c.info, c.ok); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	version = "v9.9.9"
	defer func() { version = "" }()
	if got := versionString(nil, false); got != "v9.9.9" {
		t.Errorf("-ldflags version: %q", got)
	}
}

func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"-version"}, {"--version"}} {
		var out bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: io.Discard}
		if code := run(t.Context(), e, args); code != exitOK {
			t.Fatalf("%v: exit %d", args, code)
		}
		if !strings.HasPrefix(out.String(), "surge ") || !strings.Contains(out.String(), "go1.") {
			t.Errorf("%v printed %q, want \"surge <version> (go…\"", args, out.String())
		}
	}
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
	if code := run(t.Context(), e, []string{"version", "-h"}); code != exitOK || !strings.Contains(errOut.String(), "Usage: surge version") {
		t.Errorf("version -h: exit %d, stderr %q, stdout %q", code, errOut.String(), out.String())
	}
}
