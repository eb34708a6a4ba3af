package rollout_test

import (
	"testing"
	"time"

	"github.com/mfagate/mfagate/rollout"
)

// fuzzBytes hands out fuzz input a byte at a time, zeros once it runs out.
type fuzzBytes struct {
	b []byte
	i int
}

func (f *fuzzBytes) next() byte {
	if f.i >= len(f.b) {
		return 0
	}
	f.i++
	return f.b[f.i-1]
}

func pick(bits byte, pool []string) []string {
	var out []string
	for k, s := range pool {
		if bits&(1<<k) != 0 {
			out = append(out, s)
		}
	}
	return out
}

// fuzzRollout builds a small rollout from the input. Some are invalid
// (equal starts, empty audiences...); the fuzz target skips those, so
// every decision checked is on a rollout that Validate accepts.
func fuzzRollout(in *fuzzBytes) *rollout.Rollout {
	r := &rollout.Rollout{Location: time.UTC}
	start := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for n := int(in.next() % 6); len(r.Phases) < n; {
		start = start.Add(time.Duration(in.next()%48) * time.Hour)
		ph := rollout.Phase{
			Name:        "p",
			Start:       start,
			Audience:    pick(in.next(), []string{"all", "admin", "user", "ops"}),
			Requirement: rollout.Requirement(1 + in.next()%3),
		}
		m := in.next()
		ph.Methods = pick(m, []string{"email", "totp"})
		if m&4 != 0 && len(ph.Methods) == 2 {
			ph.Methods = []string{"totp", "email"}
		}
		if d := in.next() % 3; d > 0 && len(ph.Methods) > 0 && ph.Requirement != rollout.Notify {
			ph.DefaultMethod = ph.Methods[(int(d)-1)%len(ph.Methods)]
		}
		r.Phases = append(r.Phases, ph)
	}
	return r
}

func fuzzPerson(in *fuzzBytes, r *rollout.Rollout) (rollout.Person, time.Time) {
	p := rollout.Person{Roles: pick(in.next(), []string{"admin", "user", "ops", "guest", "admin"})}
	m := in.next()
	p.Methods = pick(m, []string{"email", "totp"})
	if m&4 != 0 && len(p.Methods) == 2 {
		p.Methods = []string{"totp", "email"}
	}
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(int(in.next())*2-50) * time.Hour)
	if k := int(in.next()); len(r.Phases) > 0 && k%3 > 0 {
		now = r.Phases[k%len(r.Phases)].Start // exactly at a start, or a nanosecond before
		if k%3 == 2 {
			now = now.Add(-time.Nanosecond)
		}
	}
	switch e := in.next(); e % 3 {
	case 1:
		p.ExtendedUntil = now.Add(time.Duration(e) * time.Hour)
	case 2:
		p.ExtendedUntil = now.Add(-time.Duration(e) * time.Hour)
	}
	return p, now
}

func FuzzDecide(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{4, 10, 2, 0, 3, 0, 10, 2, 1, 3, 1, 10, 2, 2, 3, 1, 10, 1, 2, 3, 0, 3, 3, 80, 1, 5})
	f.Add([]byte{2, 5, 1, 2, 2, 0, 5, 2, 2, 2, 1, 1, 1, 0, 0, 1})
	f.Add([]byte{3, 1, 3, 2, 3, 4, 2, 15, 2, 1, 0, 24, 1, 2, 1, 0, 0, 3, 6, 9, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzBytes{b: data}
		r := fuzzRollout(in)
		if err := r.Validate(); err != nil {
			t.Skip(err)
		}
		for range 4 {
			p, now := fuzzPerson(in, r)
			got := rollout.Decide(r, p, now)
			if want := oracle(r, p, now); !sameDecision(got, want) {
				t.Errorf("roles %v methods %v at %v: got %v, want (oracle) %v", p.Roles, p.Methods, now, showDecision(got), showDecision(want))
			}
			checkInvariants(t, r, p, now, got)
			s := rollout.NewSimulator(r, now)
			s.Add(p, false)
			if sum := s.Summary(); sum.Total != 1 || sum.ByOutcome[got.Outcome] != 1 {
				t.Errorf("simulator: got %v, want one %v", sum.ByOutcome, got.Outcome)
			}
		}
	})
}
