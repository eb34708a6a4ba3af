package cli

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMemoryDefaults: serve's memory settings apply only where the
// environment sets nothing, and undo puts back what was there.
func TestMemoryDefaults(t *testing.T) {
	gc0, limit0 := currentMemorySettings()
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	for _, tt := range []struct {
		name      string
		vars      map[string]string
		wantGC    int
		wantLimit int64
	}{
		{"neither set", nil, defaultGOGC, defaultMemoryLimit},
		{"GOGC set", map[string]string{"GOGC": "77"}, gc0, defaultMemoryLimit},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, defaultGOGC, limit0},
		{"both set", map[string]string{"GOGC": "off", "GOMEMLIMIT": "1GiB"}, gc0, limit0},
		{"set but empty", map[string]string{"GOGC": " ", "GOMEMLIMIT": ""}, defaultGOGC, defaultMemoryLimit},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := setMemoryDefaults(env(tt.vars))
			gc, limit := currentMemorySettings()
			s.undo()
			if gc != tt.wantGC || limit != tt.wantLimit {
				t.Errorf("got GOGC %d, limit %d; want %d, %d", gc, limit, tt.wantGC, tt.wantLimit)
			}
			if gc, limit := currentMemorySettings(); gc != gc0 || limit != limit0 {
				t.Errorf("after undo: GOGC %d, limit %d; want %d, %d as before", gc, limit, gc0, limit0)
			}
		})
	}
}

// TestMemoryDefaultsLeaveTheOperatorsSettings runs this test binary
// again with GOGC and GOMEMLIMIT in its environment, as an operator sets
// them for the service: the runtime reads them at start, and
// setMemoryDefaults (with the process's own environment, as serve and
// demo get it) keeps them.
func TestMemoryDefaultsLeaveTheOperatorsSettings(t *testing.T) {
	if os.Getenv("MFAGATE_TEST_MEMORY_CHILD") != "" {
		setMemoryDefaults(os.Getenv)
		gc, limit := currentMemorySettings()
		fmt.Printf("settings: %d %d\n", gc, limit)
		return
	}
	for _, tt := range []struct {
		env  []string
		want string
	}{
		{[]string{"GOGC=77", "GOMEMLIMIT=300MiB"}, fmt.Sprintf("settings: 77 %d", 300<<20)},
		{[]string{"GOGC=77"}, fmt.Sprintf("settings: 77 %d", defaultMemoryLimit)},
		{[]string{"GOMEMLIMIT=300MiB"}, fmt.Sprintf("settings: %d %d", defaultGOGC, 300<<20)},
		{nil, fmt.Sprintf("settings: %d %d", defaultGOGC, defaultMemoryLimit)},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryDefaultsLeaveTheOperatorsSettings$")
		cmd.Env = append([]string{"MFAGATE_TEST_MEMORY_CHILD=1"}, tt.env...)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "GOGC=") && !strings.HasPrefix(kv, "GOMEMLIMIT=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", tt.env, err, out)
		}
		if !strings.Contains(string(out), tt.want+"\n") {
			t.Errorf("%v: got\n%s\nwant %q", tt.env, out, tt.want)
		}
	}
}
