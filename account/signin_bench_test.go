package account_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/sqlstore/sqltest"
	"github.com/mfagate/mfagate/totp"
)

// BenchmarkSignIn is what a sign-in costs beyond the password hash (SPEC
// section 7: under 1 ms of CPU): the hash is the cheapest argon2 there is,
// so nearly all of it is the rest — admission, settling, the session, the
// audit events. "password" is the first step alone, "password+totp" both
// steps of someone with an authenticator app. cpu-ms/op is this process's
// CPU (user and system) per sign-in: all of it for SQLite, which runs
// inside the process; for PostgreSQL the database server's own CPU is not
// in it.
func BenchmarkSignIn(b *testing.B) {
	for _, be := range []struct {
		name string
		new  func(testing.TB) sqltest.Backend
	}{
		{"sqlite", func(testing.TB) sqltest.Backend { return sqltest.SQLite() }},
		{"postgres", func(tb testing.TB) sqltest.Backend { return sqltest.Postgres(tb) }},
	} {
		b.Run(be.name, func(b *testing.B) {
			backend := be.new(b)
			for _, withCode := range []bool{false, true} {
				name := "password"
				if withCode {
					name = "password+totp"
				}
				b.Run(name, func(b *testing.B) {
					f := &fixture{store: backend.New(b), clock: mfagate.NewManualClock(start)}
					f.svc = mustService(b, f.store, f.clock, cheap)
					f.mustUser(b, "alice", pw)
					var secret []byte
					if withCode {
						secret, _ = f.mustTOTPFactor(b, "alice")
					}
					ctx := context.Background()
					before := cpuTime()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						f.clock.Advance(30 * time.Second) // a fresh code each time
						in, err := f.svc.SignIn(ctx, account.SignIn{Username: "alice", Password: pw, Client: client})
						if err != nil {
							b.Fatal(err)
						}
						if withCode {
							cur := &account.Current{Session: in.Session, User: in.User}
							if _, err := f.svc.Verify(ctx, cur, mfagate.MethodTOTP, totp.Code(secret, totp.Step(f.clock.Now())), client); err != nil {
								b.Fatal(err)
							}
						}
					}
					b.StopTimer()
					b.ReportMetric(float64(cpuTime()-before)/float64(b.N)/1e6, "cpu-ms/op")
				})
			}
		})
	}
}

// cpuTime is the CPU this process has used, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
