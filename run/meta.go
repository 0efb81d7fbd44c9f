package run

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/result"
	"github.com/surge-dev/surge/scenario"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/target"
)

// NewMeta describes an attack for the results file header: a fresh run ID,
// the start time, the host, the schedule and the targets, their URLs
// redacted. command is the command line, already redacted.
func NewMeta(cfg attack.Config, command []string) *result.Meta {
	var id [8]byte
	_, _ = rand.Read(id[:])
	host, _ := os.Hostname()
	m := &result.Meta{
		ID: hex.EncodeToString(id[:]), Start: time.Now(), Host: host, Command: command,
		Rate: cfg.Rate.PerSecond(), Duration: cfg.Duration, Count: cfg.Count,
		Connections: cfg.Connections, Timeout: cfg.Timeout,
	}
	m.Profile = fmt.Sprintf("rate %s", cfg.Rate)
	if cfg.Duration > 0 {
		m.Profile += " for " + cfg.Duration.String()
	}
	if cfg.Count > 0 {
		m.Profile += fmt.Sprintf(", %d requests", cfg.Count)
	}
	for i, t := range cfg.Targets {
		if i == 100 {
			m.Targets = append(m.Targets, fmt.Sprintf("… and %d more", len(cfg.Targets)-100))
			break
		}
		m.Targets = append(m.Targets, t.Method+" "+target.RedactURL(t.URL))
	}
	return m
}

// ScenarioMeta describes a scenario run for the results file header, its
// URLs redacted as NewMeta's are, with the scenario's name, file, model,
// the seed as attributes, and its check names (Meta.Checks).
func ScenarioMeta(s *scenario.Scenario, cfg attack.Config, seed uint64, command []string) *result.Meta {
	m := NewMeta(cfg, command)
	m.Profile = strings.TrimSpace(s.Load.Describe())
	if s.Load.Model == schedule.ModelClosed {
		m.Rate = 0
	}
	reqs := s.Steps
	if reqs == nil {
		reqs = s.Requests
	}
	for _, r := range reqs {
		u := r.URL
		if !strings.Contains(u, "://") && s.BaseURL != "" {
			u = strings.TrimRight(s.BaseURL, "/") + "/" + strings.TrimLeft(u, "/")
		}
		m.Targets = append(m.Targets, r.Method+" "+target.RedactURL(u))
	}
	m.Checks = s.CheckNames()
	m.Attrs = map[string]string{"scenario": s.Name, "scenario_file": s.File, "seed": fmt.Sprint(seed), "model": s.Load.Model}
	if len(m.Checks) > 0 {
		// Also in the older form, so that a surge from before Meta.Checks
		// still counts check_failures in files written now.
		m.Attrs[result.AttrChecks] = strings.Join(m.Checks, "\n")
	}
	return m
}
