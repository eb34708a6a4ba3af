package console

import (
	"context"
	"time"

	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/web/internal/site"
)

// Deps are what the console's pages use.
type Deps struct {
	Site     *site.Site
	Accounts *account.Service
	// Rollout is the schedule, for the dashboard's timeline and the
	// people list's roles. Optional.
	Rollout *rollout.Rollout
	// Forecast is what the rollout does to every account now, and when
	// it was made: shared with the API and reused for a few minutes.
	Forecast func(ctx context.Context) (sum rollout.Summary, made time.Time, err error)
}
