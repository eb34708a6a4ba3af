package cli

import (
	"testing"
	"time"

	"github.com/mfagate/mfagate/config"
)

// TestMFASettingsCheckup: the configuration's mfa.checkup reaches the
// use cases, its 0 (off) as the settings' -1, since their 0 means the
// default.
func TestMFASettingsCheckup(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want time.Duration
	}{
		{"the default", 28 * 24 * time.Hour, 28 * 24 * time.Hour},
		{"another window", 7 * 24 * time.Hour, 7 * 24 * time.Hour},
		{"off", 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.MFA.Checkup = tt.in
			if got := mfaSettings(cfg).Checkup; got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
