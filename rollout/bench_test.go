package rollout_test

import (
	"testing"
	"time"

	"github.com/mfagate/mfagate/rollout"
)

// BenchmarkDecide measures one decision on the SPEC's four phases for a
// person with two roles; the target is under 1 µs and no allocation.
func BenchmarkDecide(b *testing.B) {
	r := specRollout(b)
	now := mustUTC(b, "2027-07-20T09:00:00Z")
	for _, bc := range []struct {
		name string
		p    rollout.Person
	}{
		{"two roles, no factor", rollout.Person{Roles: []string{"operator", "admin"}}},
		{"two roles, factors", rollout.Person{Roles: []string{"user", "admin"}, Methods: []string{"email", "totp"}}},
		{"two roles, out of scope", rollout.Person{Roles: []string{"user", "support"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rollout.Decide(r, bc.p, now)
			}
		})
	}
}

// BenchmarkSimulateMillion adds 1,000,000 synthetic people (admins, users
// and operators, 30% with a factor) per operation, July 20, with July 31
// next: the target is well under 2 s per million.
func BenchmarkSimulateMillion(b *testing.B) {
	const million = 1_000_000
	r := specRollout(b)
	at := mustUTC(b, "2027-07-20T09:00:00Z")
	roles := [][]string{{"user"}, {"user"}, {"user"}, {"user"}, {"admin"}, {"operator"}, {"admin", "user"}, {"operator", "user"}}
	methods := [][]string{{"email"}, {"totp"}, {"email", "totp"}}
	pool := make([]rollout.Person, 1<<16)
	seed := uint32(1)
	for i := range pool {
		seed = seed*1664525 + 1013904223
		pool[i].Roles = roles[(seed>>8)%uint32(len(roles))]
		if (seed>>16)%10 < 3 {
			pool[i].Methods = methods[(seed>>4)%3]
		}
		if (seed>>20)%50 == 0 {
			pool[i].ExtendedUntil = at.Add(20 * day)
		}
	}
	b.ReportAllocs()
	var sum rollout.Summary
	for b.Loop() {
		s := rollout.NewSimulator(r, at)
		for i := range million {
			s.Add(pool[i&(len(pool)-1)], i%7 != 0)
		}
		sum = s.Summary()
	}
	if sum.Total != million {
		b.Fatalf("total: got %d, want %d", sum.Total, million)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/million, "ns/person")
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(time.Millisecond), "ms/million")
}
