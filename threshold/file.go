package threshold

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ReadFile reads a thresholds file: one threshold per line, blank lines
// and # comments skipped. An error names the file and line.
func ReadFile(name string) ([]Threshold, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, name)
}

// Read reads thresholds from r as ReadFile does; name is the file's name
// for errors. Each threshold's Line is its line in the file.
func Read(r io.Reader, name string) ([]Threshold, error) {
	var ths []Threshold
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		th, err := ParseThreshold(text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		th.Line = line
		ths = append(ths, th)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(ths) == 0 {
		return nil, errors.New(name + ": no thresholds")
	}
	return ths, nil
}
