package run

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/scenario"
)

// TestScenarioMetaChecks: a scenario run's header names its checks in
// Meta.Checks and, for surge versions from before that field, in
// Attrs["checks"] one a line (without it, an older surge reading a new file
// counted check_failures as 0 and passed the threshold); CheckNames reads
// each name once.
func TestScenarioMetaChecks(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s.yaml")
	yaml := "name: s\nbase_url: http://127.0.0.1:9\nrequests:\n  - name: a\n    url: /a\n    checks:\n      - status: [200]\nload:\n  stages:\n    - duration: 1s\n      rate: 1/s\n"
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := scenario.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	m := ScenarioMeta(s, s.EngineConfig(1), 1, nil)
	if len(m.Checks) == 0 {
		t.Fatalf("Meta.Checks is empty for a scenario with a check")
	}
	if got, want := m.Attrs[result.AttrChecks], m.Checks[0]; got != want {
		t.Errorf("Attrs[%q] = %q, want %q (the older form, for older readers)", result.AttrChecks, got, want)
	}
	if got := m.CheckNames(); !slices.Equal(got, m.Checks) {
		t.Errorf("CheckNames() = %q, want each of %q once", got, m.Checks)
	}
}
