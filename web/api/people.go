package api

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/rollout"
	"github.com/mfagate/mfagate/web/internal/site"
)

// apiPerson is one account as the API shows it: never a password hash,
// secret or code.
type apiPerson struct {
	Username      string   `json:"username"`
	Email         string   `json:"email"`
	Name          string   `json:"name"`
	Roles         []string `json:"roles"`
	Disabled      bool     `json:"disabled"`
	PasswordSet   bool     `json:"password_set"`
	MFAMethods    []string `json:"mfa_methods"` // methods of the confirmed factors
	Locked        bool     `json:"locked"`
	CreatedAt     *string  `json:"created_at"`
	LastSignInAt  *string  `json:"last_sign_in_at"`
	ExtendedUntil *string  `json:"extended_until"`
	// UnreachedAt is when a mail server first refused their address
	// (null while it takes our mail), UnreachedReason its answer.
	UnreachedAt     *string `json:"unreached_at"`
	UnreachedReason string  `json:"unreached_reason"`
	// InvitedAt is when their invitation was sent, while they have not
	// accepted it (null otherwise).
	InvitedAt *string `json:"invited_at"`
}

func newAPIPerson(u *mfagate.User, methods []string, locked bool) apiPerson {
	if methods == nil {
		methods = []string{}
	}
	return apiPerson{
		Username: u.Username, Email: u.Email, Name: u.Name, Roles: u.Roles,
		Disabled: u.Disabled, PasswordSet: u.PasswordHash != "", MFAMethods: methods, Locked: locked,
		CreatedAt: apiTime(u.CreatedAt), LastSignInAt: apiTime(u.LastSignInAt), ExtendedUntil: apiTime(u.ExtendedUntil),
		UnreachedAt: apiTime(u.UnreachedAt), UnreachedReason: u.UnreachedReason, InvitedAt: apiTime(u.InvitedAt),
	}
}

// personReply is the current state of one account.
func personReply(ctx context.Context, accounts *account.Service, username string) (apiPerson, error) {
	u, err := accounts.User(ctx, username)
	if err != nil {
		return apiPerson{}, err
	}
	factors, err := accounts.Factors(ctx, u.ID)
	if err != nil {
		return apiPerson{}, err
	}
	locked, _, err := accounts.Locked(ctx, u.Username)
	if err != nil {
		return apiPerson{}, err
	}
	methods := make([]string, 0, len(factors))
	for _, f := range factors {
		methods = append(methods, f.Method)
	}
	slices.Sort(methods)
	return newAPIPerson(u, methods, locked), nil
}

type peopleReply struct {
	People     []apiPerson `json:"people"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

var mfaStates = []string{mfagate.MFANone, mfagate.MFASetUp, mfagate.MFAEmail, mfagate.MFATOTP}

// People lists accounts, filtered and paged (GET /api/v1/people).
func People(d Deps) Func {
	return func(w http.ResponseWriter, r *http.Request, _ *mfagate.Token) error {
		q, err := readQuery(r, "q", "role", "mfa", "locked", "unreached", "limit", "cursor")
		if err != nil {
			return err
		}
		f := mfagate.PeopleFilter{Query: q.get("q"), Role: q.get("role"), MFA: q.get("mfa")}
		if f.MFA != "" && !slices.Contains(mfaStates, f.MFA) {
			return mfagate.Errorf(mfagate.EINVALID, "mfa must be none, setup, email or totp")
		}
		switch q.get("locked") {
		case "":
		case "true":
			f.Locked = true
		default:
			return mfagate.Errorf(mfagate.EINVALID, "locked takes only true; leave it out to list locked and unlocked accounts")
		}
		switch q.get("unreached") {
		case "":
		case "true":
			f.Unreached = true
		default:
			return mfagate.Errorf(mfagate.EINVALID, "unreached takes only true; leave it out to list everyone, reached or not")
		}
		limit, err := q.limit()
		if err != nil {
			return err
		}
		if f.AfterID, err = q.cursor(); err != nil {
			return err
		}
		f.Limit = limit + 1 // one more tells whether there is a next page
		found, err := d.Accounts.SearchPeople(r.Context(), f)
		if err != nil {
			return err
		}
		reply := peopleReply{People: []apiPerson{}}
		if len(found) > limit {
			found = found[:limit]
			reply.NextCursor = encodeCursor(found[limit-1].User.ID)
		}
		for _, p := range found {
			reply.People = append(reply.People, newAPIPerson(p.User, p.Methods, p.Locked))
		}
		site.WriteJSON(w, http.StatusOK, reply)
		return nil
	}
}

// Person is one account (GET /api/v1/people/{username}).
func Person(d Deps) Func {
	return func(w http.ResponseWriter, r *http.Request, _ *mfagate.Token) error {
		if _, err := readQuery(r); err != nil {
			return err
		}
		p, err := personReply(r.Context(), d.Accounts, r.PathValue("username"))
		if err != nil {
			return err
		}
		site.WriteJSON(w, http.StatusOK, p)
		return nil
	}
}

// createPersonRequest is the body of POST /api/v1/people. There is no
// password: the person gets one from support or the command line.
type createPersonRequest struct {
	Username string   `json:"username"`
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Roles    []string `json:"roles"`
	Invite   bool     `json:"invite"`
}

// CreatePerson makes an account without a password (POST /api/v1/people),
// and with "invite" emails the person a link to choose one.
func CreatePerson(d Deps) Func {
	return func(w http.ResponseWriter, r *http.Request, tok *mfagate.Token) error {
		var req createPersonRequest
		if err := decodeBody(w, r, &req); err != nil {
			return err
		}
		// The use case refuses staff accounts (operator, support): only
		// the server's command line makes those.
		u, err := d.Accounts.CreateUser(r.Context(), actorOf(d.Site, r, tok), account.NewUser{
			Username: req.Username, Email: req.Email, Name: req.Name, Roles: req.Roles, Invite: req.Invite,
		})
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/api/v1/people/"+url.PathEscape(u.Username))
		site.WriteJSON(w, http.StatusCreated, newAPIPerson(u, nil, false))
		return nil
	}
}

// reasonRequest is the body of the support actions.
type reasonRequest struct {
	Reason string `json:"reason"`
}

// supportAction makes the handler of a support action on one account:
// it reads the reason, runs do (whose use case refuses staff accounts)
// and replies with the account's new state.
func supportAction(d Deps, do func(ctx context.Context, by account.Actor, username, reason string) error) Func {
	return countedAction(d, func(ctx context.Context, by account.Actor, username, reason string) (int, error) {
		return 0, do(ctx, by, username, reason)
	}, func(p apiPerson, _ int) any { return p })
}

// countedAction is supportAction for an action that counts what it did:
// reply makes the answer from the person's new state and the count.
func countedAction(d Deps, do func(ctx context.Context, by account.Actor, username, reason string) (int, error),
	reply func(p apiPerson, n int) any) Func {
	return func(w http.ResponseWriter, r *http.Request, tok *mfagate.Token) error {
		var req reasonRequest
		if err := decodeBody(w, r, &req); err != nil {
			return err
		}
		if err := checkReason(req.Reason); err != nil {
			return err
		}
		u, err := d.Accounts.User(r.Context(), r.PathValue("username"))
		if err != nil {
			return err
		}
		n, err := do(r.Context(), actorOf(d.Site, r, tok), u.Username, req.Reason)
		if err != nil {
			return err
		}
		p, err := personReply(r.Context(), d.Accounts, u.Username)
		if err != nil {
			return err
		}
		site.WriteJSON(w, http.StatusOK, reply(p, n))
		return nil
	}
}

// Disable disables an account (POST /api/v1/people/{username}/disable).
func Disable(d Deps) Func {
	return supportAction(d, func(ctx context.Context, by account.Actor, username, reason string) error {
		return d.Accounts.SetDisabled(ctx, by, username, true, reason)
	})
}

// rolesRequest is the body of POST /api/v1/people/{username}/roles.
type rolesRequest struct {
	Roles  []string `json:"roles"`
	Reason string   `json:"reason"`
}

// SetRoles gives a person other roles from the installation's list (POST
// /api/v1/people/{username}/roles); never operator or support, and never
// a staff account's (the use case refuses both, audited).
func SetRoles(d Deps) Func {
	return personChange(d, func(req *rolesRequest) error {
		if len(req.Roles) == 0 {
			return mfagate.Errorf(mfagate.EINVALID, `Give "roles": the person's roles from now on, such as ["admin", "user"]`)
		}
		return checkReason(req.Reason)
	}, func(ctx context.Context, by account.Actor, username string, req *rolesRequest) error {
		return d.Accounts.SetRoles(ctx, by, username, req.Roles, req.Reason)
	})
}

type emailRequest struct {
	Email  string `json:"email"`
	Reason string `json:"reason"`
}

// SetEmail gives a person another email address (POST
// /api/v1/people/{username}/email), which they confirm at their next
// sign-in; never a staff account's (the use case refuses it, audited).
func SetEmail(d Deps) Func {
	return personChange(d, func(req *emailRequest) error {
		if req.Email == "" {
			return mfagate.Errorf(mfagate.EINVALID, `Give "email": the person's new address`)
		}
		return checkReason(req.Reason)
	}, func(ctx context.Context, by account.Actor, username string, req *emailRequest) error {
		return d.Accounts.ChangeEmail(ctx, by, username, req.Email, req.Reason)
	})
}

// personChange makes the handler of a change to one person that a body
// of type B describes: it reads the body, checks it, runs do on the
// person the path names and replies with their new state.
func personChange[B any](d Deps, check func(*B) error, do func(ctx context.Context, by account.Actor, username string, req *B) error) Func {
	return func(w http.ResponseWriter, r *http.Request, tok *mfagate.Token) error {
		var req B
		if err := decodeBody(w, r, &req); err != nil {
			return err
		}
		if err := check(&req); err != nil {
			return err
		}
		u, err := d.Accounts.User(r.Context(), r.PathValue("username"))
		if err != nil {
			return err
		}
		if err := do(r.Context(), actorOf(d.Site, r, tok), u.Username, &req); err != nil {
			return err
		}
		p, err := personReply(r.Context(), d.Accounts, u.Username)
		if err != nil {
			return err
		}
		site.WriteJSON(w, http.StatusOK, p)
		return nil
	}
}

// ResetMFA removes a person's factors and recovery codes (POST
// /api/v1/people/{username}/reset-mfa).
func ResetMFA(d Deps) Func { return supportAction(d, d.Accounts.ResetMFA) }

// Unlock lifts a lock (POST /api/v1/people/{username}/unlock).
func Unlock(d Deps) Func { return supportAction(d, d.Accounts.Unlock) }

// Reinvite sends a new invitation, voiding the old link (POST
// /api/v1/people/{username}/invite).
func Reinvite(d Deps) Func { return supportAction(d, d.Accounts.Reinvite) }

// RevokeInvite withdraws an invitation (POST
// /api/v1/people/{username}/invite/revoke).
func RevokeInvite(d Deps) Func { return supportAction(d, d.Accounts.RevokeInvite) }

// addressFixedReply is the person's new state and how many of their
// emails were queued again.
type addressFixedReply struct {
	apiPerson
	Resent int `json:"resent"`
}

// AddressFixed marks a refused address as fixed and sends the
// person's failed emails again. Like the other support actions it takes
// a reason and replies with the person, with the count added.
func AddressFixed(d Deps) Func {
	return countedAction(d, d.Accounts.MarkAddressFixed,
		func(p apiPerson, n int) any { return addressFixedReply{apiPerson: p, Resent: n} })
}

// apiFactor is one confirmed factor, without its secret.
type apiFactor struct {
	Method     string  `json:"method"`
	AddedAt    *string `json:"added_at"`
	LastUsedAt *string `json:"last_used_at"`
}

// apiDecision is what happens to a person after their password at a time.
type apiDecision struct {
	At            *string  `json:"at"`
	Next          string   `json:"next"`    // done, challenge, offer_setup or require_setup (apiNext)
	Methods       []string `json:"methods"` // factors to challenge, or methods offered for setup
	DefaultMethod string   `json:"default_method,omitempty"`
	Phase         string   `json:"phase,omitempty"` // the phase in force for them
	ExtendedUntil *string  `json:"extended_until"`
}

func newAPIDecision(d account.Decision, at time.Time) apiDecision {
	methods := d.Methods
	if methods == nil {
		methods = []string{}
	}
	return apiDecision{At: apiTime(at), Next: apiNext[d.Outcome], Methods: methods, DefaultMethod: d.DefaultMethod,
		Phase: d.Phase, ExtendedUntil: apiTime(d.ExtendedUntil)}
}

// apiNext are the API's names of the rollout's outcomes, which its
// clients already read: they predate the rollout's own words.
var apiNext = map[rollout.Outcome]string{
	rollout.Allow: "done", rollout.Challenge: "challenge",
	rollout.OfferEnrollment: "offer_setup", rollout.RequireEnrollment: "require_setup",
}

// apiNextPhase is the next phase that changes things for a person, and
// what would happen to them then with the factors they have now.
type apiNextPhase struct {
	Name     string      `json:"name"`
	Starts   *string     `json:"starts"`
	Required bool        `json:"required"`
	Decision apiDecision `json:"decision"`
}

type mfaReply struct {
	Username          string        `json:"username"`
	Disabled          bool          `json:"disabled"`
	Factors           []apiFactor   `json:"factors"`
	RecoveryCodesLeft int           `json:"recovery_codes_left"`
	Locked            bool          `json:"locked"`
	HardLocked        bool          `json:"hard_locked"` // locked until support unlocks
	Now               apiDecision   `json:"now"`
	NextPhase         *apiNextPhase `json:"next_phase"`
}

// PersonMFA is a person's factors and what the rollout does to them now
// and at the next phase (GET /api/v1/people/{username}/mfa).
func PersonMFA(d Deps) Func {
	return func(w http.ResponseWriter, r *http.Request, _ *mfagate.Token) error {
		if _, err := readQuery(r); err != nil {
			return err
		}
		ctx := r.Context()
		u, err := d.Accounts.User(ctx, r.PathValue("username"))
		if err != nil {
			return err
		}
		factors, err := d.Accounts.Factors(ctx, u.ID)
		if err != nil {
			return err
		}
		left, err := d.Accounts.RecoveryCodesLeft(ctx, u.ID)
		if err != nil {
			return err
		}
		locked, hard, err := d.Accounts.Locked(ctx, u.Username)
		if err != nil {
			return err
		}
		now := d.Accounts.RolloutNow()
		dec := d.Accounts.DecideAt(u, factors, now)
		reply := mfaReply{Username: u.Username, Disabled: u.Disabled, Factors: []apiFactor{},
			RecoveryCodesLeft: left, Locked: locked, HardLocked: hard, Now: newAPIDecision(dec, now)}
		for _, f := range factors {
			reply.Factors = append(reply.Factors, apiFactor{Method: f.Method, AddedAt: apiTime(f.CreatedAt), LastUsedAt: apiTime(f.LastUsedAt)})
		}
		if n := dec.NextPhase; n != nil {
			reply.NextPhase = &apiNextPhase{Name: n.Name, Starts: apiTime(n.Start), Required: n.Required,
				Decision: newAPIDecision(d.Accounts.DecideAt(u, factors, n.Start), n.Start)}
		}
		site.WriteJSON(w, http.StatusOK, reply)
		return nil
	}
}
