package web

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
)

// forecastFor is how long a forecast is reused: it reads every account
// (about 1.7 s per million), too slow to run at each page view, and an
// estimate a few minutes old serves the dashboard well.
const forecastFor = 5 * time.Minute

// forecastTimeout is the deadline of making one forecast, far beyond the
// request timeout a walk over every account would not fit in, and inside
// the server's 60-second write timeout, so the first dashboard view, which
// waits for it, still gets its page.
const forecastTimeout = 45 * time.Second

// forecastCache keeps the latest forecast, for the dashboard and the
// API alike.
type forecastCache struct {
	accounts *account.Service
	plan     *rollout.Rollout
	log      *slog.Logger

	mu         sync.Mutex // held while the first forecast is made, so views wait for one run
	ok         bool
	sum        rollout.Summary
	made       time.Time // by the service's (wall) clock
	refreshing bool      // a newer forecast is being made in the background
}

// forecast returns the latest forecast as at the rollout's now and when it
// was made (by the service's clock). Only the very first view waits for one; after
// that a stale forecast is returned at once while a fresh one is made in
// the background, so the dashboard stays fast however many accounts there
// are.
func (c *forecastCache) forecast(ctx context.Context) (rollout.Summary, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.accounts.Now()
	fresh := c.ok && !now.Before(c.made) && now.Sub(c.made) < forecastFor
	switch {
	case fresh:
	case c.ok:
		if !c.refreshing {
			c.refreshing = true
			go c.refresh()
		}
	default:
		ctx, cancel := context.WithTimeout(ctx, forecastTimeout)
		defer cancel()
		sum, err := c.accounts.Forecast(ctx, c.plan, c.accounts.RolloutNow())
		if err != nil {
			return rollout.Summary{}, time.Time{}, fmt.Errorf("forecast the rollout: %w", err)
		}
		c.ok, c.sum, c.made = true, sum, now
	}
	return c.sum, c.made, nil
}

// refresh makes a new forecast outside any request.
func (c *forecastCache) refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), forecastTimeout)
	defer cancel()
	now := c.accounts.Now()
	sum, err := c.accounts.Forecast(ctx, c.plan, c.accounts.RolloutNow())
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshing = false
	if err != nil {
		c.log.Error("forecast the rollout", "err", err)
		return
	}
	c.ok, c.sum, c.made = true, sum, now
}
