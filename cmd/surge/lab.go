package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/surge-dev/surge/lab"
)

const labUsage = `lab [flags]

Serves the lab target: endpoints that reproduce the classic causes of slow
APIs with known parameters (see lab/README.md). Stops on Ctrl-C.

Examples:
  surge lab -addr 127.0.0.1:8088
  surge lab -addr 127.0.0.1:8088 -warmup 20s   # /ready answers 503 for 20s`

func runLab(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "lab", labUsage)
	addr := fs.String("addr", "127.0.0.1:8088", "address to listen on")
	warmup := fs.Duration("warmup", 0, "time after start during which /ready answers 503")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *warmup < 0 {
		return usagef("-warmup must not be negative")
	}
	s := lab.New(lab.Config{Warmup: *warmup})
	a, err := s.Start(*addr)
	if err != nil {
		return fmt.Errorf("start lab: %w", err)
	}
	fmt.Fprintf(e.stderr, "surge lab listening on http://%s (endpoints: %s; GET / lists them)\n", a, strings.Join(lab.Paths(), " "))
	<-ctx.Done()
	shut := make(chan error, 1)
	go func() { shut <- s.Close() }()
	select {
	case err := <-shut:
		return err
	case <-time.After(5 * time.Second):
		return fmt.Errorf("lab did not stop within 5s")
	}
}
