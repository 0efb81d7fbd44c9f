package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/surge-dev/surge/attack"
	"github.com/surge-dev/surge/scenario"
	"github.com/surge-dev/surge/schedule"
	"github.com/surge-dev/surge/target"
)

// templateScenario turns the targets of 'surge attack -template' into a
// scenario whose requests' URL, headers and body are templates (the
// functions of scenario files: {{seq}}, {{uuid}}, {{randInt 1 9}}, …),
// rendered for every request. The load follows the attack flags: at a
// rate, an open model for -duration or -count requests; at max rate,
// -connections users looping until -duration or -count. The scenario is
// built as YAML and read by scenario.Parse, so templates are compiled and
// checked exactly as in a scenario file.
//
// Errors name the target (as "target N of FILE") and its field, not the
// generated YAML.
func templateScenario(ts []target.Target, labels []string, rate schedule.Rate, o *attackOptions, file string) (*scenario.Scenario, error) {
	type request struct {
		Name    string            `yaml:"name"`
		Method  string            `yaml:"method"`
		URL     string            `yaml:"url"`
		Headers map[string]string `yaml:"headers,omitempty"`
		Body    string            `yaml:"body,omitempty"`
	}
	type load struct {
		Model      string `yaml:"model"`
		Users      int    `yaml:"users,omitempty"`
		Rate       string `yaml:"rate,omitempty"`
		Duration   string `yaml:"duration,omitempty"`
		Iterations uint64 `yaml:"iterations,omitempty"`
		MaxUsers   int    `yaml:"max_users,omitempty"`
	}
	doc := struct {
		Name     string    `yaml:"name"`
		Timeout  string    `yaml:"timeout,omitempty"`
		Requests []request `yaml:"requests"`
		Load     load      `yaml:"load"`
	}{Name: "attack", Timeout: o.timeout.String()}
	named := map[string]bool{}
	for i, t := range ts {
		r := request{Name: labels[i], Method: t.Method, URL: t.URL, Body: string(t.Body)}
		if r.Name == "" {
			// Names label results: no secrets, and one per target
			// even when only a secret tells two targets apart.
			r.Name = t.Method + " " + target.RedactURL(t.URL)
			if named[r.Name] {
				r.Name += fmt.Sprintf(" (target %d)", i+1)
			}
			named[r.Name] = true
		}
		for k, vs := range t.Header {
			if r.Headers == nil {
				r.Headers = map[string]string{}
			}
			r.Headers[k] = strings.Join(vs, ", ")
		}
		doc.Requests = append(doc.Requests, r)
	}
	if o.duration == 0 && o.count == 0 {
		return nil, usagef("-template needs -duration or -count")
	}
	if o.duration > 0 {
		doc.Load.Duration = o.duration.String()
	}
	doc.Load.Iterations = o.count
	if rate.IsMax() {
		doc.Load.Model = "closed"
		doc.Load.Users = o.connections
		if doc.Load.Users == 0 {
			doc.Load.Users = attack.DefaultMaxConnections
		}
	} else {
		doc.Load.Model = "open"
		doc.Load.Rate = fmt.Sprintf("%d/%s", rate.Freq, rate.Per)
		doc.Load.MaxUsers = o.connections
		if o.duration == 0 {
			// An open stage needs a length: long enough for -count.
			doc.Load.Duration = (time.Duration(float64(o.count)/rate.PerSecond()*float64(time.Second)) + time.Second).String()
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("-template: %w", err)
	}
	s, err := scenario.Parse(&b, "targets (-template)", ".")
	if err != nil {
		var se *scenario.Error
		var i int
		var field string
		if errors.As(err, &se) {
			if n, _ := fmt.Sscanf(se.Field, "requests[%d].%s", &i, &field); n == 2 {
				return nil, fmt.Errorf("-template: target %d of %s, %s: %s", i+1, file, field, se.Msg)
			}
		}
		return nil, fmt.Errorf("-template: %w", err)
	}
	s.IterationsFrom = "-count"
	return s, nil
}
