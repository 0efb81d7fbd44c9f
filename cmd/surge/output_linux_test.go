package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY returns the terminal end of a new pseudo-terminal.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlock pty: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("pty number: %v", e)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	t.Cleanup(func() { pts.Close() })
	return pts
}

// TestTerminalRefused: binary results are still refused on a real terminal,
// before anything is sent.
func TestTerminalRefused(t *testing.T) {
	tty := openPTY(t)
	var errb bytes.Buffer
	code := run(context.Background(), &env{strings.NewReader("GET http://127.0.0.1:1/\n"), tty, &errb},
		[]string{"attack", "-rate", "50/1s", "-count", "5", "-quiet"})
	if code != exitUsage || !strings.Contains(errb.String(), "refusing to write binary results to a terminal") {
		t.Fatalf("attack to a terminal: exit %d, stderr %q; want exit %d and the refusal", code, errb.String(), exitUsage)
	}
}
