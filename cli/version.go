package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is the program's version when set at build time with
// -ldflags "-X github.com/mfagate/mfagate/cli.Version=v1.2.3". Left at
// "dev", "mfagate version" prints the module version the go command
// stamped into the binary instead.
var Version = "dev"

func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("version takes no arguments")
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprint(e.stdout, versionText(Version, info))
	return nil
}

// versionText is what "mfagate version" prints, in two lines whose shape
// scripts may rely on:
//
//	mfagate v1.2.3
//	commit 0123…cdef from 2026-12-01T12:58:18Z, modified: no, built with go1.26.11 linux/amd64
//
// set (cli.Version) wins over the module version in info unless it is
// "dev". The commit, its time and whether the checkout held uncommitted
// changes come from the go command's version control stamp (-buildvcs);
// a binary built without one says "commit unknown". info may be nil.
func versionText(set string, info *debug.BuildInfo) string {
	version := set
	settings := map[string]string{}
	goVersion := runtime.Version()
	if info != nil {
		if version == "" || version == "dev" {
			if v := info.Main.Version; v != "" && v != "(devel)" {
				version = v
			}
		}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		if info.GoVersion != "" {
			goVersion = info.GoVersion
		}
	}
	if version == "" {
		version = "dev"
	}
	platform := runtime.GOOS + "/" + runtime.GOARCH
	if settings["GOOS"] != "" && settings["GOARCH"] != "" {
		platform = settings["GOOS"] + "/" + settings["GOARCH"]
	}

	var b strings.Builder
	fmt.Fprintf(&b, "mfagate %s\n", version)
	if rev := settings["vcs.revision"]; rev != "" {
		fmt.Fprintf(&b, "commit %s", rev)
		if t := settings["vcs.time"]; t != "" {
			fmt.Fprintf(&b, " from %s", t)
		}
		modified := "no"
		if settings["vcs.modified"] == "true" {
			modified = "yes"
		}
		fmt.Fprintf(&b, ", modified: %s", modified)
	} else {
		b.WriteString("commit unknown (built without version control information)")
	}
	fmt.Fprintf(&b, ", built with %s %s\n", goVersion, platform)
	return b.String()
}
