package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestDevNullIsNotATerminal: "surge attack … > /dev/null" writes its results
// there, as vegeta-style scripts expect; /dev/null is a character device
// but not a terminal.
func TestDevNullIsNotATerminal(t *testing.T) {
	base := startLab(t)
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	var errb bytes.Buffer
	code := run(context.Background(), &env{strings.NewReader("GET " + base + "/fixed?ms=1\n"), null, &errb},
		[]string{"attack", "-rate", "50/1s", "-count", "5", "-quiet"})
	if code != 0 {
		t.Fatalf("attack > /dev/null: exit %d, stderr %q; want exit 0", code, errb.String())
	}
}
