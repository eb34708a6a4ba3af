package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The value parsers below are shared by the file and the environment, so
// that a key accepts the same spellings wherever it is set.

// parseDuration accepts Go durations ("90s", "30m", "12h", "1h30m") and a
// whole number of days ("7d"), which Go's syntax lacks.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 32)
		if err == nil && n <= 100000 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	return 0, fmt.Errorf("expected a duration such as 30s, 10m, 12h or 7d, got %q", s)
}

func parseInt(s string) (int, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("expected a whole number, got %q", s)
	}
	return int(n), nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("expected true or false, got %q", s)
}

// parseList splits a comma-separated environment value, dropping spaces
// around items and empty items.
func parseList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// formatDuration writes d the way a person would in the file: "30m", "12h",
// "7d" rather than Go's "12h0m0s".
func formatDuration(d time.Duration) string {
	switch {
	case d != 0 && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d != 0 && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d != 0 && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// sources records where each key's value came from: its line in the file
// or the environment variable that overrode it. Keys are dotted paths such
// as "rollout.phases[2].requirement".
type sources struct {
	lines map[string]int
	env   map[string]string
}

func newSources() sources {
	return sources{lines: make(map[string]int), env: make(map[string]string)}
}

// problem returns a Problem for the key at path, located at the nearest
// source found walking up the path.
func (s sources) problem(path, format string, args ...any) Problem {
	p := Problem{Message: fmt.Sprintf(format, args...)}
	for k := path; k != ""; k = parentPath(k) {
		if e, ok := s.env[k]; ok {
			p.Env = e
			return p
		}
		if l, ok := s.lines[k]; ok {
			p.Line = l
			return p
		}
	}
	return p
}

// overridden notes that the environment variable env replaced the value at
// path, forgetting the file lines of the old value and its elements.
func (s sources) overridden(path, env string) {
	if s.env == nil {
		return
	}
	for k := range s.lines {
		if k == path || strings.HasPrefix(k, path+"[") || strings.HasPrefix(k, path+".") {
			delete(s.lines, k)
		}
	}
	s.env[path] = env
}

// parentPath drops the last ".key" or "[i]" of a dotted path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}
