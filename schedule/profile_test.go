package schedule

import (
	"math"
	"strings"
	"testing"
	"time"
)

// count returns how many iterations At schedules.
func count(l *Profile) uint64 {
	var n uint64
	for ; ; n++ {
		if _, ok := l.At(n); !ok {
			return n
		}
	}
}

func TestAtConstant(t *testing.T) {
	l := &Profile{Model: ModelOpen, Stages: []Stage{{Duration: 2 * time.Second, FromRate: 20, ToRate: 20}}}
	if n := count(l); n != 40 {
		t.Fatalf("20/s for 2s scheduled %d iterations, want 40", n)
	}
	for _, seq := range []uint64{0, 1, 19, 39} {
		got, _ := l.At(seq)
		if want := time.Duration(seq) * 50 * time.Millisecond; got != want {
			t.Errorf("At(%d) = %v, want %v", seq, got, want)
		}
	}
}

func TestAtRamp(t *testing.T) {
	// 10→20/s over 10s: N(t) = 10t + t²/2, so 150 iterations, the n-th at
	// t = −10 + √(100 + 2n).
	l := &Profile{Model: ModelOpen, Stages: []Stage{{Duration: 10 * time.Second, FromRate: 10, ToRate: 20}}}
	if n := count(l); n != 150 {
		t.Fatalf("ramp 10→20/s over 10s scheduled %d iterations, want 150", n)
	}
	prev := time.Duration(-1)
	for n := uint64(0); n < 150; n++ {
		got, _ := l.At(n)
		want := seconds(-10 + math.Sqrt(100+2*float64(n)))
		if d := got - want; d < -time.Nanosecond || d > time.Nanosecond {
			t.Errorf("At(%d) = %v, want %v", n, got, want)
		}
		if got <= prev {
			t.Errorf("At(%d) = %v is not after At(%d) = %v", n, got, n-1, prev)
		}
		prev = got
	}
}

func TestAtRampDownAndFromZero(t *testing.T) {
	tests := []struct {
		name string
		st   Stage
		want uint64
		nth  func(n float64) float64 // analytic offset in seconds
	}{
		// 20→10/s over 10s: N(t) = 20t − t²/2.
		{"down", Stage{Duration: 10 * time.Second, FromRate: 20, ToRate: 10}, 150,
			func(n float64) float64 { return 20 - math.Sqrt(400-2*n) }},
		// 0→10/s over 10s: N(t) = t²/2.
		{"from zero", Stage{Duration: 10 * time.Second, FromRate: 0, ToRate: 10}, 50,
			func(n float64) float64 { return math.Sqrt(2 * n) }},
	}
	for _, tt := range tests {
		l := &Profile{Model: ModelOpen, Stages: []Stage{tt.st}}
		if n := count(l); n != tt.want {
			t.Errorf("%s: scheduled %d iterations, want %d", tt.name, n, tt.want)
		}
		for n := uint64(0); n < tt.want; n++ {
			got, _ := l.At(n)
			if want := seconds(tt.nth(float64(n))); (got - want).Abs() > time.Nanosecond {
				t.Errorf("%s: At(%d) = %v, want %v", tt.name, n, got, want)
			}
		}
	}
}

func TestAtStepsDelayAndLimit(t *testing.T) {
	l := &Profile{Model: ModelOpen, Delay: 5 * time.Second, Stages: []Stage{
		{Duration: time.Second, FromRate: 1, ToRate: 1},
		{Duration: time.Second, FromRate: 0, ToRate: 0}, // a pause
		{Duration: time.Second, FromRate: 4, ToRate: 4},
	}}
	want := []time.Duration{5 * time.Second, 7 * time.Second, 7250 * time.Millisecond, 7500 * time.Millisecond, 7750 * time.Millisecond}
	for i, w := range want {
		if got, ok := l.At(uint64(i)); !ok || got != w {
			t.Errorf("At(%d) = %v, %v; want %v, true", i, got, ok, w)
		}
	}
	if _, ok := l.At(uint64(len(want))); ok {
		t.Errorf("At(%d) is scheduled after the last stage", len(want))
	}
	if got := l.Total(); got != 8*time.Second {
		t.Errorf("Total = %v, want 8s", got)
	}
	l.Iterations = 3
	if n := count(l); n != 3 {
		t.Errorf("with Iterations 3, scheduled %d", n)
	}
	// An unbounded last stage runs until the iteration limit.
	u := &Profile{Model: ModelOpen, Iterations: 1000, Stages: []Stage{{FromRate: 100, ToRate: 100}}}
	if got, ok := u.At(999); !ok || got != 9990*time.Millisecond {
		t.Errorf("unbounded: At(999) = %v, %v; want 9.99s", got, ok)
	}
	if n := count(u); n != 1000 {
		t.Errorf("unbounded: scheduled %d, want 1000", n)
	}
	if _, ok := (&Profile{Model: ModelClosed, Stages: []Stage{{Duration: time.Second, FromUsers: 1, ToUsers: 1}}}).At(0); ok {
		t.Error("a closed profile schedules iterations with At")
	}
}

// story3 is story 3's profile: wait 10s, a 30s warm-up at 1 user, 1→5 users
// over 10s, hold 5 for 40s, 5→1 over 30s.
func story3() *Profile {
	return &Profile{Model: ModelClosed, Delay: 10 * time.Second, Stages: []Stage{
		{Name: "warmup", Duration: 30 * time.Second, FromUsers: 1, ToUsers: 1, Warmup: true},
		{Duration: 10 * time.Second, FromUsers: 1, ToUsers: 5},
		{Duration: 40 * time.Second, FromUsers: 5, ToUsers: 5},
		{Duration: 30 * time.Second, FromUsers: 5, ToUsers: 1},
	}}
}

func TestUsersAtStory3(t *testing.T) {
	l := story3()
	s := time.Second
	tests := []struct {
		at    time.Duration
		users int
		stage int
	}{
		{0, 0, -1},
		{10*s - 1, 0, -1},
		{10 * s, 1, 0},
		{39 * s, 1, 0},
		{40 * s, 1, 1},
		{42*s + 499*time.Millisecond, 1, 1},
		{42*s + 500*time.Millisecond, 2, 1}, // +1 user every 2.5s
		{45 * s, 3, 1},
		{47*s + 500*time.Millisecond, 4, 1},
		{49*s + 999*time.Millisecond, 4, 1},
		{50 * s, 5, 2},
		{89 * s, 5, 2},
		{90 * s, 5, 3},
		{97*s + 499*time.Millisecond, 5, 3},
		{97*s + 500*time.Millisecond, 4, 3}, // −1 user every 7.5s
		{105 * s, 3, 3},
		{112*s + 500*time.Millisecond, 2, 3},
		{119 * s, 2, 3},
		{120 * s, 0, -1},
	}
	for _, tt := range tests {
		if got := l.UsersAt(tt.at); got != tt.users {
			t.Errorf("UsersAt(%v) = %d, want %d", tt.at, got, tt.users)
		}
		i, st := l.StageAt(tt.at)
		if i != tt.stage || (st == nil) != (tt.stage < 0) {
			t.Errorf("StageAt(%v) = %d, %v; want %d", tt.at, i, st, tt.stage)
		}
	}
	if got := l.Total(); got != 120*s {
		t.Errorf("Total = %v, want 2m0s", got)
	}
}

func TestDescribe(t *testing.T) {
	got := story3().Describe()
	for _, want := range []string{"closed model, 4 stage(s), 2m0s in total (starting after a 10s delay)",
		"1. warmup       10s–40s", "1→5 users", "5→1 users", "warm-up: not in the report"} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe() lacks %q:\n%s", want, got)
		}
	}
	open := &Profile{Model: ModelOpen, Stages: []Stage{
		{Duration: 10 * time.Second, FromRate: 10, ToRate: 20},
		{Duration: 60 * time.Second, FromRate: 20, ToRate: 20},
	}}
	got = open.Describe()
	for _, want := range []string{"10/s→20/s, 150 iterations", "20/s, 1200 iterations"} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe() lacks %q:\n%s", want, got)
		}
	}
}
