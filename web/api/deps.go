package api

import (
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/web/internal/site"
)

// Deps are what the API's handlers use.
type Deps struct {
	Site     *site.Site // the client's address, the rehearsal flag
	Accounts *account.Service
}
