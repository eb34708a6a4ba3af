package config

import (
	"os"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("../examples/mfagate.yaml"); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		withMinimal(""),
		withMinimal(phase("name: p")),
		withMinimal(account("username: ops")),
		withMinimal("server:\n  base_url: http://127.0.0.1:8080\n  dev_insecure_cookies: true\n  trusted_proxies: [::1, 10.0.0.0/8]\n"),
		"",
		"- a\n- b\n",
		"server:\n  adress: x\n",
		"server:\n  addr: a\n  addr: b\n",
		"a: &a [*a]\n",
		"x: &x {y: *x}\nserver: *x\n",
		"server: {<<: {addr: x}}\n",
		"rollout:\n  phases:\n    - {name: a, starts: 2027-13-40, audience: [], requirement: must}\n",
		"mfa:\n  email:\n    code_ttl: 99999999999d\n",
		"server: !!binary aGVsbG8=\n",
		"\xef\xbb\xbfdatabase: {driver: sqlite}\n",
		"--- a\n--- b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, nil)
		if err != nil {
			if cfg != nil {
				t.Errorf("got config %v with error %v, want nil", cfg, err)
			}
			msg := err.Error()
			if msg == "" || strings.ContainsAny(msg, "\n\r") {
				t.Errorf("got error %q, want one non-empty line", msg)
			}
			return
		}
		if cfg == nil {
			t.Fatal("got nil config and nil error, want a config")
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("got %v from Validate on a parsed config, want nil", err)
		}
	})
}
