package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// exampleURL finds the URLs of an example line as written, quotes and all.
var exampleURL = regexp.MustCompile(`https?://[^\s'"]+`)

// TestExamplesCopyPasteSafe runs every example of the README's sh blocks
// and of every command's -h through bash, with surge replaced by a
// function that records its arguments, and checks that each URL of the
// line reaches surge whole, as an argument or on its input: an unquoted & would send the command to the
// background and cut the URL at it (capacity -h had one), an unquoted ?
// could glob. Nothing is sent; the line only has to parse as the user
// meant it.
func TestExamplesCopyPasteSafe(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed to check the examples as a shell reads them: %v", err)
	}
	lines := readmeExamples(t)
	for _, c := range commands {
		if c.name == "version" {
			continue
		}
		_, _, stderr := surge(t, context.Background(), "", c.name, "-h")
		in := false
		for l := range strings.Lines(stderr) {
			l = strings.TrimRight(l, "\n")
			switch {
			case strings.HasPrefix(l, "Examples:"):
				in = true
			case in && strings.TrimSpace(l) == "":
				in = false
			case in:
				lines = append(lines, "surge "+c.name+" -h: "+strings.TrimSpace(l))
			}
		}
	}
	if len(lines) < 40 {
		t.Fatalf("found %d examples; the README and -h texts hold more", len(lines))
	}
	dir := t.TempDir()
	for _, ex := range lines {
		where, line, _ := strings.Cut(ex, ": ")
		args := filepath.Join(dir, "args")
		os.Remove(args)
		// The function records its arguments and its input: a target
		// piped in by echo is an example's URL too.
		script := `surge() { for a in "$@"; do printf '%s\n' "$a"; done >> "$ARGS"; cat >> "$ARGS"; }
` + strings.Replace(line, "./surge ", "surge ", 1) + "\nwait\n"
		cmd := exec.Command(bash, "-c", script)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader("")
		cmd.Env = append(os.Environ(), "ARGS="+args, "TOKEN=tok", "OLD=http://127.0.0.1:1", "NEW=http://127.0.0.1:2")
		if out, err := cmd.CombinedOutput(); err != nil && strings.Contains(string(out), "syntax error") {
			t.Errorf("%s: %q does not parse: %s", where, line, out)
			continue
		}
		got, _ := os.ReadFile(args)
		for _, u := range exampleURL.FindAllString(line, -1) {
			u = strings.TrimRight(u, ")`")
			if strings.Contains(u, "$") {
				continue // expanded by the shell, as meant
			}
			if !strings.Contains(string(got), u) {
				t.Errorf("%s: %q: the URL %s does not reach surge whole (quote it); surge got:\n%s", where, line, u, got)
			}
		}
	}
	t.Logf("%d examples checked", len(lines))
}

// readmeExamples returns the lines of the README's sh blocks that run
// surge, each prefixed with where it is.
func readmeExamples(t *testing.T) []string {
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	in, n := false, 0
	runs := regexp.MustCompile(`(^|\| *)(\./)?surge `)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "```sh"):
			in = true
		case strings.HasPrefix(l, "```"):
			in = false
		case in && runs.MatchString(strings.TrimSpace(l)):
			lines = append(lines, "README.md:"+strconv.Itoa(n)+": "+strings.TrimSpace(l))
		}
	}
	return lines
}
