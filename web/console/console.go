package console

import (
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/web/internal/site"
)

// Deps are what the console's pages use.
type Deps struct {
	Site     *site.Site
	Accounts *account.Service
}
