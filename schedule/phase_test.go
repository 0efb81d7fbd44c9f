package schedule

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestUserSteps(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name string
		p    Profile
		want []UserStep
	}{
		{"constant", Profile{Model: ModelClosed, Stages: []Stage{{Duration: s, FromUsers: 3, ToUsers: 3}}},
			[]UserStep{{0, 3}, {s, 0}}},
		{"delay, ramp up, hold, ramp down", Profile{Model: ModelClosed, Delay: s, Stages: []Stage{
			{Duration: 4 * s, FromUsers: 1, ToUsers: 5}, {Duration: s, FromUsers: 5, ToUsers: 5}, {Duration: 2 * s, FromUsers: 5, ToUsers: 1}}},
			nil}, // derived from UsersAt below,
		{"unbounded last stage", Profile{Model: ModelClosed, Iterations: 10, Stages: []Stage{{FromUsers: 2, ToUsers: 2}}},
			[]UserStep{{0, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.p.UserSteps()
			want := tc.want
			if len(want) == 0 { // derive from UsersAt: a step wherever it changes, in ms
				for at := time.Duration(0); at <= tc.p.Total(); at += time.Millisecond {
					if n := tc.p.UsersAt(at); len(want) == 0 || want[len(want)-1].Users != n {
						want = append(want, UserStep{at, n})
					}
				}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("staircase (-want +got):\n%s", d)
			}
		})
	}
}
