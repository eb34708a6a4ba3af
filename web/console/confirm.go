package console

import (
	"net/http"
	"strings"

	"github.com/mfagate/mfagate"
)

// The page that asks before a destructive support action (the reset of
// someone's security codes): whom it is done to and what will happen,
// worked out for them, with the reason carried along.

// confirmView is the page that asks before a destructive action: whom it
// is done to, and what will happen, computed for them.
type confirmView struct {
	consolePage
	Person          *mfagate.User
	Path, Back      string
	Button, Reason  string
	Factors         []string // how they get codes now, in words
	RecoveryLeft    int
	Sessions        int
	AfterwardsToday string // what happens at their next sign-in, from the rollout
	AfterwardsNext  string // and from the next phase, if it changes
	NextWhen        string
}

// confirmAction asks support to confirm action key on u (the reset of
// their security codes), with the reason they gave carried along.
func confirmAction(d Deps, w http.ResponseWriter, r *http.Request, u *mfagate.User, key, reason string) error {
	a := personActions[key]
	ctx := r.Context()
	factors, err := d.Accounts.Factors(ctx, u.ID)
	if err != nil {
		return err
	}
	left, err := d.Accounts.RecoveryCodesLeft(ctx, u.ID)
	if err != nil {
		return err
	}
	sessions, err := d.Accounts.UserSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	v := confirmView{consolePage: newConsolePage(d.Site, r, "Reset the security codes of "+u.Name+"?", AreaPeople),
		Person: u, Path: personLink(u.Username) + "/" + key, Back: personLink(u.Username), Button: "Yes, " + strings.ToLower(a.button[:1]) + a.button[1:],
		Reason: reason, RecoveryLeft: left, Sessions: len(sessions)}
	for _, f := range factors {
		v.Factors = append(v.Factors, mfagate.MethodName(f.Method))
	}
	// What the rollout asks of them once they have no factor.
	now := d.Accounts.RolloutNow()
	dec := d.Accounts.DecideAt(u, nil, now)
	v.AfterwardsToday = decisionText(d.Site, dec)
	if n := dec.NextPhase; n != nil {
		if next := decisionText(d.Site, d.Accounts.DecideAt(u, nil, n.Start)); next != v.AfterwardsToday {
			v.AfterwardsNext, v.NextWhen = next, d.Site.PhaseDate(n.Start)
		}
	}
	return d.Site.Render(w, r, http.StatusOK, "admin_confirm", v)
}
