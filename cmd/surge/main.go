// Command surge is a load generator and latency investigator for HTTP APIs.
//
// Usage:
//
//	surge <command> [flags] [args]
//
// Run "surge help" for the list of commands and "surge <command> -h" for
// each one's flags and examples.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// env is what a command may touch of the process: its streams. Commands
// never call os.Exit; main maps their errors to exit codes.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

type command struct {
	name, summary string
	run           func(ctx context.Context, e *env, args []string) error
}

var commands = []command{
	{"demo", "start the lab target, attack it for a few seconds and report", runDemo},
	{"attack", "send load to targets and write a results file", runAttack},
	{"run", "run a YAML scenario: flows, checks, load stages, thresholds", runRun},
	{"report", "summarise results files as text, JSON or a histogram", runReport},
	{"plot", "draw results files as one self-contained HTML page", runPlot},
	{"encode", "convert results files to JSON lines or CSV", runEncode},
	{"compare", "compare runs before and after a change, with confidence intervals", runCompare},
	{"ab", "compare two live versions in alternating rounds (A B B A …), beating drift", runAB},
	{"capacity", "find the highest rate that holds an SLO", runCapacity},
	{"lab", "serve the lab target: endpoints with known latency faults", runLab},
	{"version", "print surge's version", runVersion},
}

// usageError is a mistake in the command line; it exits with exitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, let a second one end the process at once.
		<-ctx.Done()
		stop()
	}()
	os.Exit(run(ctx, &env{os.Stdin, os.Stdout, os.Stderr}, os.Args[1:]))
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		printUsage(e.stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "-version" || args[0] == "--version" {
		args = append([]string{"version"}, args[1:]...)
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		var ue *usageError
		var te *thresholdError
		var xe exitCoder
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.As(err, &te):
			fmt.Fprintf(e.stderr, "surge %s: %v\n", c.name, err)
			return exitThresholds
		case errors.As(err, &xe):
			fmt.Fprintf(e.stderr, "surge %s: %v\n", c.name, err)
			return xe.ExitCode()
		case errors.As(err, &ue):
			fmt.Fprintf(e.stderr, "surge %s: %v\nRun 'surge %s -h' for usage.\n", c.name, err, c.name)
			return exitUsage
		default:
			fmt.Fprintf(e.stderr, "surge %s: %v\n", c.name, err)
			return exitError
		}
	}
	fmt.Fprintf(e.stderr, "surge: unknown command %q\n", args[0])
	printUsage(e.stderr)
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "surge — load generator and latency investigator for HTTP APIs")
	fmt.Fprintln(w, "\nUsage: surge <command> [flags] [args]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'surge <command> -h' for a command's flags and examples.")
}

// newFlagSet returns a FlagSet that reports errors instead of exiting and
// prints usage with examples.
func newFlagSet(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: surge %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning flag errors into usage errors. The flag
// package would print the error and the whole usage itself; main prints
// the error once with a line pointing at -h, and -h prints the usage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage()
		return err
	case err != nil:
		return &usageError{flagError(fs, err)}
	}
	return nil
}

// flagError rewrites the flag package's "invalid value "abc" for flag
// -duration: parse error" to say what the flag expects.
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	const pre = "invalid value "
	i := strings.Index(msg, " for flag -")
	if !strings.HasPrefix(msg, pre) || i < 0 {
		return msg
	}
	val := msg[len(pre):i]
	name, why, _ := strings.Cut(msg[i+len(" for flag -"):], ": ")
	f := fs.Lookup(name)
	if f == nil {
		return msg
	}
	// A value's own error may start by naming it again: "rate "x": …".
	want := strings.TrimPrefix(why, name+" "+val+": ")
	if g, ok := f.Value.(flag.Getter); ok && (why == "parse error" || why == "value out of range") {
		switch g.Get().(type) {
		case time.Duration:
			want = "expected a duration such as 10s, 1m30s or 500ms"
		case int, int64:
			want = "expected a whole number"
		case uint, uint64:
			want = "expected a whole number, 0 or more"
		case float64:
			want = "expected a number"
		case bool:
			want = "expected true or false"
		}
	}
	return fmt.Sprintf("-%s %s: %s", name, val, want)
}
