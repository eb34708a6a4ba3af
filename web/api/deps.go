package api

import (
	"context"
	"time"

	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/web/internal/site"
)

// Deps are what the API's handlers use.
type Deps struct {
	Site     *site.Site // the client's address, the rehearsal flag
	Accounts *account.Service
	// Rollout is the schedule GET /api/v1/rollout describes. Optional.
	Rollout *rollout.Rollout
	// Forecast is what the rollout does to every account now, and when
	// it was made: shared with the dashboard and reused for a few minutes.
	Forecast func(ctx context.Context) (sum rollout.Summary, made time.Time, err error)
}
