// Package config turns mfagate's YAML configuration file into a typed,
// validated Config.
//
// It owns the list of configuration keys, their defaults, their MFAGATE_*
// environment overrides and the checks on their values, and it reports every
// problem as one plain sentence that names the key (and the file line or
// environment variable it came from), so that an operator can fix it without
// reading code.
//
// Decoding is strict: the YAML is read into a yaml.Node tree and walked
// against the Config struct's yaml tags, so an unknown key, a duplicate key
// or a value of the wrong type is refused with its full dotted path and line
// instead of being silently dropped.
//
// The package does no I/O besides reading the one file named in Load (and the
// time zone lookups of time.LoadLocation, which fall back on the embedded
// time/tzdata). It does not read the secret key file, the admin password
// files or the process environment on its own: the environment comes in as a
// getenv function or an environ list. Deeper checks of the rollout schedule
// belong to package rollout; config only checks each phase's shape.
package config
