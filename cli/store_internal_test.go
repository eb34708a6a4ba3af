package cli

import (
	"testing"

	"github.com/mfagate/mfagate/config"
	"github.com/mfagate/mfagate/sqlstore"
)

// TestStoreDefaultsAgree keeps config's database defaults and
// sqlstore.DefaultOptions the same numbers: the first are what the
// documentation promises, the second what a store opened without a
// configuration gets.
func TestStoreDefaultsAgree(t *testing.T) {
	for _, driver := range []string{sqlstore.DriverSQLite, sqlstore.DriverPostgres} {
		t.Run(driver, func(t *testing.T) {
			cfg, err := config.Parse([]byte("database:\n  driver: "+driver+"\n  dsn: x\nsecrets:\n  key_file: k\nmail:\n  from: a@example.com\n  driver: outbox\n"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := storeOptions(cfg.Database), sqlstore.DefaultOptions(driver); got != want {
				t.Errorf("config gives %+v, sqlstore %+v", got, want)
			}
		})
	}
}
