package account_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/rollout"
)

// stallViews holds every View until release is closed, once entered is
// signalled, and counts them: a forecast is one View over every account.
type stallViews struct {
	mfagate.Store
	views   atomic.Int64
	entered chan struct{}
	release chan struct{}
}

func (s *stallViews) View(ctx context.Context, fn func(mfagate.Tx) error) error {
	s.views.Add(1)
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-s.release
	return s.Store.View(ctx, fn)
}

// TestLatestForecastWaitsOnlyAsLongAsItsCaller: while one forecast is
// being made, a second caller waits for it no longer than its own
// context allows, and does not start a second walk over every account;
// once made, the forecast is reused without reading again.
func TestLatestForecastWaitsOnlyAsLongAsItsCaller(t *testing.T) {
	f := rolloutFixture(t, nil, optionalDay)
	seedPeople(t, f, 20, 10)
	stall := &stallViews{Store: f.store, entered: make(chan struct{}, 1), release: make(chan struct{})}
	svc := policyService(t, stall, f.clock, schedule(t))

	first := make(chan error, 1)
	go func() {
		_, err := svc.LatestForecast(context.Background())
		first <- err
	}()
	<-stall.entered // the first forecast is walking the accounts

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := svc.LatestForecast(ctx); mfagate.ErrorCode(err) != mfagate.EUNAVAILABLE {
		t.Fatalf("a caller whose context ended while another forecast was made: got %v, want EUNAVAILABLE", err)
	}
	close(stall.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	got, err := svc.LatestForecast(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Total != 30 {
		t.Errorf("the forecast counts %d people, want 30", got.Total)
	}
	if n := stall.views.Load(); n != 1 {
		t.Errorf("%d walks over the accounts, want 1: the waiting caller and the last one reuse the first", n)
	}
}

// TestRefreshForecastReplacesTheKeptOne: a forecast is reused for five
// minutes, so a new account shows only after that or after the forecast
// job makes a new one.
func TestRefreshForecastReplacesTheKeptOne(t *testing.T) {
	ctx := context.Background()
	f := rolloutFixture(t, nil, optionalDay)
	f.mustUser(t, "ada", pw, "admin")
	first, err := f.svc.LatestForecast(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.mustUser(t, "ben", pw, "admin")
	f.clock.Advance(time.Minute)
	if again, _ := f.svc.LatestForecast(ctx); again.Total != 1 || !again.Made.Equal(first.Made) {
		t.Fatalf("within five minutes: got %d people made %v, want the kept forecast of 1 made %v", again.Total, again.Made, first.Made)
	}
	if err := f.svc.RefreshForecast(ctx); err != nil {
		t.Fatal(err)
	}
	fresh, _ := f.svc.LatestForecast(ctx)
	if fresh.Total != 2 || !fresh.Made.Equal(f.clock.Now()) {
		t.Fatalf("after a refresh: got %d people made %v, want 2 made %v", fresh.Total, fresh.Made, f.clock.Now())
	}
	f.mustUser(t, "cy", pw, "admin")
	f.clock.Advance(5 * time.Minute)
	if stale, _ := f.svc.LatestForecast(ctx); stale.Total != 3 {
		t.Fatalf("after five minutes: got %d people, want a new forecast of 3", stale.Total)
	}
}

// TestTimelineSaysWhichPhaseIsInForceForWhom walks SPEC.md's schedule:
// the phases in force for admins and for everyone, and those started
// but replaced.
func TestTimelineSaysWhichPhaseIsInForceForWhom(t *testing.T) {
	f := rolloutFixture(t, nil, emailDay.Add(time.Hour))
	tl := f.svc.Timeline()
	if !tl.At.Equal(emailDay.Add(time.Hour)) || tl.Location != schedule(t).Location {
		t.Fatalf("timeline at %v in %v", tl.At, tl.Location)
	}
	type row struct {
		name       string
		started    bool
		inForceFor []string
	}
	var got []row
	for _, ph := range tl.Phases {
		got = append(got, row{ph.Name, ph.Started, ph.InForceFor})
	}
	want := []row{
		{"Communication", true, nil},
		{"Optional enrollment", true, nil},
		{"Email verification required", true, []string{"admin"}},
		{"Full enforcement", false, nil},
	}
	if !slices.EqualFunc(got, want, func(a, b row) bool {
		return a.name == b.name && a.started == b.started && slices.Equal(a.inForceFor, b.inForceFor)
	}) {
		t.Errorf("timeline:\n got %+v\nwant %+v", got, want)
	}

	f.clock.Set(allDay)
	for _, ph := range f.svc.Timeline().Phases {
		// Admins are reached by it too: it is the latest of their phases.
		if ph.Name == "Full enforcement" && !slices.Equal(ph.InForceFor, []string{"admin", rollout.Everyone}) {
			t.Errorf("on its day, full enforcement is in force for %v, want admins and everyone", ph.InForceFor)
		}
	}
}

// TestServiceWithoutRolloutHasNoPhases: no schedule, nothing to time, no
// campaign to send, and the forecast still counts everyone.
func TestServiceWithoutRolloutHasNoPhases(t *testing.T) {
	f := newFixture(t)
	f.mustUser(t, "ada", pw)
	if n := len(f.svc.Timeline().Phases); n != 0 {
		t.Errorf("%d phases without a rollout", n)
	}
	if n, err := f.svc.RunCampaigns(context.Background()); n != 0 || err != nil {
		t.Errorf("campaigns without a rollout: %d queued, %v", n, err)
	}
	sum, err := f.svc.Forecast(context.Background(), f.clock.Now())
	if err != nil || sum.Total != 1 || sum.Next != nil {
		t.Errorf("forecast without a rollout: %+v, %v", sum, err)
	}
}
