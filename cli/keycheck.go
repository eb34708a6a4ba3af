package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/config"
	"github.com/mfagate/mfagate/sqlstore"
)

// The secret key and the database go together: the key seals every
// authenticator-app secret. These checks catch a database and a key that
// do not belong together, which otherwise shows only as "Something went
// wrong" at the code step of everyone who uses an app.

// keyOpensBackup checks the secret key file in place against the
// authenticator-app secrets sealed in the backup b, before the restore
// changes anything. It refuses the restore when the key opens none of
// them: the key is another one, and every authenticator app would stop
// working. With no key file yet, or no secret to try, there is nothing
// to check (checked is false).
func keyOpensBackup(cfg *config.Config, backup string, b sqlstore.BackupInfo) (checked bool, err error) {
	path := cfg.Secrets.KeyFile
	if path == "" || b.TOTPFactors == 0 {
		return false, nil
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	key, err := readKey(path)
	if err != nil {
		return false, err
	}
	ok, err := account.KeyOpens(key, b.TOTPSample)
	if err != nil {
		return false, err
	}
	if !ok {
		have := mfagate.Plural(b.TOTPFactors, "account", "accounts") + " have one"
		if b.TOTPFactors == 1 {
			have = "1 account has one"
		}
		return false, fmt.Errorf("the secret key file %s is not the key this backup was made with: it cannot open the authenticator-app secrets in %s (%s), so nothing was changed; put the key kept with the backup there and restore again (if that key is lost for good, move %s away and restore; those apps are then lost, and support resets each person with \"mfagate user reset-mfa\" to set one up again)",
			path, backup, have, path)
	}
	return true, nil
}

// warnIfKeyIsAnother logs, as the server starts, when its key opens none
// of the authenticator-app secrets in the database. The server still
// starts: passwords and email codes work, and with a key lost for good
// that is how support resets people. Nothing is logged when the
// database holds no app, or cannot be read now (requests will say so).
func (a *app) warnIfKeyIsAnother(ctx context.Context) {
	n, sample, err := a.store.TOTPSample(ctx)
	if err != nil || n == 0 {
		return
	}
	if ok, err := account.KeyOpens(a.key, sample); err == nil && !ok {
		a.log.Error("the secret key opens none of the authenticator-app secrets in the database: it is not the key they were sealed with, so people who use an authenticator app cannot sign in; start mfagate with that key (docs/operations.md#backups)",
			"key_file", a.cfg.Secrets.KeyFile, "accounts_with_an_app", n)
	}
}

// warnOfUnknownRoles names, at start, the roles accounts hold that the
// configuration's roles does not list, with how many hold each: such a
// role can no longer be given, and rollout phases and access rules cannot
// name it.
func (a *app) warnOfUnknownRoles(ctx context.Context) {
	unknown, err := a.accounts.UnknownRoles(ctx)
	if err != nil {
		a.log.Warn("could not check the accounts' roles against roles", "err", err)
		return
	}
	names := slices.Sorted(maps.Keys(unknown))
	for _, r := range names {
		a.log.Warn("accounts hold a role that roles does not list: add it to roles, or give them another",
			"role", r, "accounts", unknown[r])
	}
}
