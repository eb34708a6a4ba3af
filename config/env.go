package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mfagate/mfagate"
)

// EnvPrefix starts the name of every environment variable that overrides a
// configuration key.
const EnvPrefix = "MFAGATE_"

// envTestPrefix starts variables that tests use; they are never warned
// about.
const envTestPrefix = "MFAGATE_TEST_"

// EnvVar is one environment variable and the key it overrides.
type EnvVar struct {
	Name string // e.g. "MFAGATE_DATABASE_DSN"
	Key  string // e.g. "database.dsn"
}

// envField is an EnvVar with what is needed to set it.
type envField struct {
	EnvVar
	index []int
}

// EnvVars lists every environment override in the order of the keys in
// the file. Each scalar key and each list of strings has one; its name is
// EnvPrefix followed by the dotted key path upper-cased with dots turned
// into underscores. Lists of records (rollout.phases, admin.bootstrap) have
// none.
func EnvVars() []EnvVar {
	fields := envFields()
	vars := make([]EnvVar, len(fields))
	for i, f := range fields {
		vars[i] = f.EnvVar
	}
	return vars
}

// envFields is built once, by reflection over Config, so that a new key
// gets its variable without further work.
var envFields = sync.OnceValue(func() []envField {
	var out []envField
	collectEnv(reflect.TypeFor[Config](), "", nil, &out)
	return out
})

func collectEnv(t reflect.Type, path string, index []int, out *[]envField) {
	fields := yamlFields(t)
	for i, name := range fields.names {
		sf := t.Field(fields.idx[i])
		p := joinPath(path, name)
		idx := append(slices.Clip(index), sf.Index...)
		switch ft := sf.Type; {
		case ft == durationType, ft.Kind() == reflect.String, ft.Kind() == reflect.Int,
			ft.Kind() == reflect.Bool,
			ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
			name := EnvPrefix + strings.ToUpper(strings.ReplaceAll(p, ".", "_"))
			*out = append(*out, envField{EnvVar{Name: name, Key: p}, idx})
		case ft.Kind() == reflect.Struct:
			collectEnv(ft, p, idx, out)
		}
	}
}

// applyEnv overrides cfg's keys from the environment. An empty value
// counts as unset, since getenv cannot tell the two apart.
func applyEnv(cfg *Config, getenv func(string) string) []Problem {
	var problems []Problem
	root := reflect.ValueOf(cfg).Elem()
	for _, f := range envFields() {
		s := getenv(f.Name)
		if s == "" {
			continue
		}
		v := root.FieldByIndex(f.index)
		var err error
		switch {
		case v.Type() == durationType:
			var d time.Duration
			if d, err = parseDuration(s); err == nil {
				v.SetInt(int64(d))
			}
		case v.Kind() == reflect.String:
			v.SetString(s)
		case v.Kind() == reflect.Int:
			var n int
			if n, err = parseInt(s); err == nil {
				v.SetInt(int64(n))
			}
		case v.Kind() == reflect.Bool:
			var b bool
			if b, err = parseBool(s); err == nil {
				v.SetBool(b)
			}
		case v.Kind() == reflect.Slice:
			v.Set(reflect.ValueOf(parseList(s)))
		}
		if err != nil {
			problems = append(problems, Problem{Env: f.Name, Message: fmt.Sprintf("%s: %v", f.Key, err)})
			continue
		}
		cfg.src.overridden(f.Key, f.Name)
	}
	return problems
}

// UnknownEnv returns a warning for each variable in environ ("NAME=value"
// entries, as os.Environ returns them) whose name starts with EnvPrefix but
// matches no key, most likely a typo. Names starting with MFAGATE_TEST_ are
// left alone: tests use them.
func UnknownEnv(environ []string) []string {
	known := make(map[string]bool)
	var names []string
	for _, v := range EnvVars() {
		known[v.Name] = true
		names = append(names, v.Name)
	}
	var warnings []string
	seen := make(map[string]bool)
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) || strings.HasPrefix(name, envTestPrefix) || known[name] || seen[name] {
			continue
		}
		seen[name] = true
		w := fmt.Sprintf("environment variable %s matches no configuration key and is ignored", name)
		if s := mfagate.Suggest(name, names); s != "" {
			w += fmt.Sprintf(", did you mean %s?", s)
		}
		warnings = append(warnings, w)
	}
	slices.Sort(warnings)
	return warnings
}

// lookup returns a getenv over "NAME=value" entries; a later entry wins,
// as it does for the process environment.
func lookup(environ []string) func(string) string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if name, value, ok := strings.Cut(kv, "="); ok {
			m[name] = value
		}
	}
	return func(name string) string { return m[name] }
}
