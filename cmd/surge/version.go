package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=..."; when it
// is not, the version comes from the build information that go build and
// go install record (the module's version and the VCS revision).
var version = ""

// versionString returns surge's version: the -ldflags one if set, else the
// module version of a `go install module@version` build, else the VCS
// revision of a build from a checkout ("devel 1bf1953 2026-12-01T14:45Z,
// modified"), else "devel".
func versionString(info *debug.BuildInfo, ok bool) string {
	if version != "" {
		return version
	}
	if !ok {
		return "devel"
	}
	v := info.Main.Version
	if v != "" && v != "(devel)" {
		return v
	}
	var rev, at string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	parts := []string{"devel", rev[:min(len(rev), 12)]}
	if at != "" {
		parts = append(parts, at)
	}
	out := strings.Join(parts, " ")
	if modified {
		out += ", modified"
	}
	return out
}

func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "version", "version\n\nPrints surge's version (the module version or VCS revision it was built from) and the Go version.")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("version takes no arguments, got %q", fs.Arg(0))
	}
	info, ok := debug.ReadBuildInfo()
	fmt.Fprintf(e.stdout, "surge %s (%s, %s/%s)\n", versionString(info, ok), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
