package cli

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// TestVersionText: what "mfagate version" prints for the binaries an
// operator meets: a release stamped with -ldflags, one built from a clean
// or a modified checkout, one installed by module version, and one built
// without any stamp. Each line is compared whole: scripts read them.
func TestVersionText(t *testing.T) {
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "-trimpath", Value: "true"},
			{Key: "CGO_ENABLED", Value: "0"},
			{Key: "GOARCH", Value: "arm64"},
			{Key: "GOOS", Value: "linux"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "046553327eeda5f73ccadd37740677f21cc747aa"},
			{Key: "vcs.time", Value: "2026-12-01T12:58:18Z"},
			{Key: "vcs.modified", Value: modified},
		}
	}
	info := func(version string, settings []debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{GoVersion: "go1.26.11", Path: "github.com/mfagate/mfagate/cmd/mfagate",
			Main:     debug.Module{Path: "github.com/mfagate/mfagate", Version: version},
			Settings: settings}
	}
	here := runtime.GOOS + "/" + runtime.GOARCH
	tests := []struct {
		name string
		set  string
		info *debug.BuildInfo
		want string
	}{
		{"release stamped with -ldflags wins over the module version", "v1.4.0",
			info("v0.0.0-20261201125818-046553327eed", vcs("false")),
			"mfagate v1.4.0\ncommit 046553327eeda5f73ccadd37740677f21cc747aa from 2026-12-01T12:58:18Z, modified: no, built with go1.26.11 linux/arm64\n"},
		{"clean checkout", "dev",
			info("v0.0.0-20261201125818-046553327eed", vcs("false")),
			"mfagate v0.0.0-20261201125818-046553327eed\ncommit 046553327eeda5f73ccadd37740677f21cc747aa from 2026-12-01T12:58:18Z, modified: no, built with go1.26.11 linux/arm64\n"},
		{"checkout with uncommitted changes", "dev",
			info("v0.0.0-20261201125818-046553327eed+dirty", vcs("true")),
			"mfagate v0.0.0-20261201125818-046553327eed+dirty\ncommit 046553327eeda5f73ccadd37740677f21cc747aa from 2026-12-01T12:58:18Z, modified: yes, built with go1.26.11 linux/arm64\n"},
		{"go install by module version", "dev",
			info("v1.4.0", []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"}}),
			"mfagate v1.4.0\ncommit unknown (built without version control information), built with go1.26.11 linux/amd64\n"},
		{"no stamp at all", "dev", info("(devel)", nil),
			"mfagate dev\ncommit unknown (built without version control information), built with go1.26.11 " + here + "\n"},
		{"revision without a time", "dev",
			info("(devel)", []debug.BuildSetting{{Key: "vcs.revision", Value: "0123"}, {Key: "vcs.modified", Value: "false"}}),
			"mfagate dev\ncommit 0123, modified: no, built with go1.26.11 " + here + "\n"},
		{"no build information", "", nil,
			"mfagate dev\ncommit unknown (built without version control information), built with " + runtime.Version() + " " + here + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionText(tt.set, tt.info); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
