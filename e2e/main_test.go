package e2e

import (
	"flag"
	"os"
	"strconv"
	"testing"
)

// journeysInParallel is how many journeys marked t.Parallel run at once
// when "go test -parallel" is not given. Those journeys spend most of
// their time asleep, waiting for an authenticator app's next 30-second
// code or for a throttle to pass, so more of them than CPUs (the default,
// 2 on a small machine) can share the machine: the package then takes
// about as long as its slowest wait rather than the sum of them.
const journeysInParallel = 4

func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if p := flag.Lookup("test.parallel"); p != nil && !given {
		if n, err := strconv.Atoi(p.Value.String()); err == nil && n < journeysInParallel {
			p.Value.Set(strconv.Itoa(journeysInParallel))
		}
	}
	os.Exit(m.Run())
}
