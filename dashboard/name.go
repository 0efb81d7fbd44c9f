package dashboard

import (
	"path/filepath"
	"strings"

	"github.com/surge-dev/surge/result"
)

// maxName bounds the run's name in runes: a command line can be long.
const maxName = 80

// runName names the run of m for the page's title and legends: its
// scenario's name (the file's "name", else the file's name, as recorded
// in Attrs by "surge run"), else the scenario file named on the command
// line, else the command line, else the schedule, else "live".
func runName(m *result.Meta) string {
	if n := m.Attrs["scenario"]; n != "" {
		return n
	}
	c := m.Command
	if len(c) >= 3 && c[1] == "run" {
		if last := c[len(c)-1]; !strings.HasPrefix(last, "-") {
			base := filepath.Base(last)
			return strings.TrimSuffix(base, filepath.Ext(base))
		}
	}
	name := strings.Join(c, " ")
	if name == "" {
		name = m.Profile
	}
	if name == "" {
		return "live"
	}
	if r := []rune(name); len(r) > maxName {
		name = string(r[:maxName-1]) + "…"
	}
	return name
}
