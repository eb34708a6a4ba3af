package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

// Run runs the whole suite. newStore must return a new, empty store with
// its schema in place, and close it when t ends.
func Run(t *testing.T, newStore func(t *testing.T) mfagate.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, func(*testing.T) mfagate.Store)
	}{
		{"CreateUser", testCreateUser},
		{"Pace", testPace},
		{"SkipCapConcurrently", func(t *testing.T, newStore func(*testing.T) mfagate.Store) {
			s := newStore(t)
			SkipCapConcurrently(t, s, s)
		}},
		{"UsernameConflict", testUsernameConflict},
		{"ConflictKeepsTransaction", testConflictKeepsTransaction},
		{"UserNotFound", testUserNotFound},
		{"UpdateUser", testUpdateUser},
		{"UserTimes", testUserTimes},
		{"Users", testUsers},
		{"UsersByEmail", testUsersByEmail},
		{"Rollback", testRollback},
		{"CanceledContext", testCanceledContext},
		{"BadText", testBadText},
		{"RecordSignIn", testRecordSignIn},
		{"Sessions", testSessions},
		{"UserSessions", testUserSessions},
		{"DeleteUserSessions", testDeleteUserSessions},
		{"DeleteStaleSessions", testDeleteStaleSessions},
		{"SessionPending", testSessionPending},
		{"SessionAndUser", testSessionAndUser},
		{"TouchSessions", testTouchSessions},
		{"CreateFactor", testCreateFactor},
		{"UseFactorTOTP", testUseFactorTOTP},
		{"UseFactorEmail", testUseFactorEmail},
		{"UseFactorConcurrently", testUseFactorConcurrently},
		{"DeleteFactor", testDeleteFactor},
		{"DeleteUserFactors", testDeleteUserFactors},
		{"RecoveryCodes", testRecoveryCodes},
		{"UseRecoveryCodeConcurrently", testUseRecoveryCodeConcurrently},
		{"EmailCodes", testEmailCodes},
		{"EmailCodesSince", testEmailCodesSince},
		{"LastEmailCodeAt", testLastEmailCodeAt},
		{"EmailCodeFailuresConcurrently", testEmailCodeFailuresConcurrently},
		{"Throttles", testThrottles},
		{"HoldThrottleConcurrently", func(t *testing.T, newStore func(*testing.T) mfagate.Store) {
			s := newStore(t)
			HoldConcurrently(t, s, s)
		}},
		{"ClearThrottleIf", testClearThrottleIf},
		{"StartThrottle", testStartThrottle},
		{"DeleteIdleThrottles", testDeleteIdleThrottles},
		{"Notices", testNotices},
		{"NoticesDue", testNoticesDue},
		{"ClaimJob", testClaimJob},
		{"ClaimJobConcurrently", func(t *testing.T, newStore func(*testing.T) mfagate.Store) {
			s := newStore(t)
			ClaimJobConcurrently(t, s, s)
		}},
		{"SecretMail", testSecretMail},
		{"ExpireSecretMail", testExpireSecretMail},
		{"DeleteOldMail", testDeleteOldMail},
		{"DeleteOldEmailCodes", testDeleteOldEmailCodes},
		{"AppendAudit", testAppendAudit},
		{"AuditEvents", testAuditEvents},
		{"EnqueueMail", testEnqueueMail},
		{"ClaimMail", testClaimMail},
		{"ClaimMailLease", testClaimMailLease},
		{"ClaimMailPriority", testClaimMailPriority},
		{"ClaimMailExpired", testClaimMailExpired},
		{"HoldMail", testHoldMail},
		{"RenewAndReleaseMail", testRenewAndReleaseMail},
		{"StaleBatchLeavesMailAlone", testStaleBatchLeavesMailAlone},
		{"RetryMail", testRetryMail},
		{"FailMail", testFailMail},
		{"MarkMailSent", testMarkMailSent},
		{"ClaimMailConcurrently", func(t *testing.T, newStore func(*testing.T) mfagate.Store) {
			s := newStore(t)
			ClaimConcurrently(t, s, s)
		}},
		{"UserExtension", testUserExtension},
		{"RecordSkip", testRecordSkip},
		{"People", testPeople},
		{"PeopleStopsOnError", testPeopleStopsOnError},
		{"EnqueueMailCampaign", testEnqueueMailCampaign},
		{"CheckupFactors", testCheckupFactors},
		{"CampaignRecipients", testCampaignRecipients},
		{"CampaignRecipientsPaging", testCampaignRecipientsPaging},
		{"MarkCampaignSent", testMarkCampaignSent},
		{"MarkCampaignSentConcurrently", func(t *testing.T, newStore func(*testing.T) mfagate.Store) {
			s := newStore(t)
			MarkConcurrently(t, s, s)
		}},
		{"CampaignStats", testCampaignStats},
		{"Tokens", testTokens},
		{"Links", testLinks},
		{"TokenErrors", testTokenErrors},
		{"SearchPeople", testSearchPeople},
		{"SearchPeopleLargePage", testSearchPeopleLargePage},
		{"MarkUnreached", testMarkUnreached},
		{"ClearUnreached", testClearUnreached},
		{"UpdateUserUnreached", testUpdateUserUnreached},
		{"UnconfirmedAddress", testUnconfirmedAddress},
		{"EmailInUse", testEmailInUse},
		{"RequeueFailedMail", testRequeueFailedMail},
		{"MailQueue", testMailQueue},
		{"UnreachedByRole", testUnreachedByRole},
		{"PeopleUnreached", testPeopleUnreached},
		{"SearchPeopleUnreached", testSearchPeopleUnreached},
		{"Progress", testProgress},
		{"ProgressConcurrently", func(t *testing.T, newStore func(*testing.T) mfagate.Store) {
			s := newStore(t)
			ProgressConcurrently(t, s, s)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore) })
	}
}

// base is the suite's "now": a fixed instant, so times compare exactly.
var base = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

// errBoom is returned from a transaction to roll it back.
var errBoom = errors.New("boom")

func mustUpdate(tb testing.TB, s mfagate.Store, fn func(mfagate.Tx) error) {
	tb.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		tb.Fatalf("Update: %v", err)
	}
}

func mustView(tb testing.TB, s mfagate.Store, fn func(mfagate.Tx) error) {
	tb.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		tb.Fatalf("View: %v", err)
	}
}

// update runs fn in Update and returns its error, for tests of failures.
func update(s mfagate.Store, fn func(mfagate.Tx) error) error {
	return s.Update(context.Background(), fn)
}

// view runs fn in View and returns its error.
func view(s mfagate.Store, fn func(mfagate.Tx) error) error {
	return s.View(context.Background(), fn)
}

// mustCreateUser creates a user with the given username and roles, created
// at base, and returns it with its ID set.
func mustCreateUser(tb testing.TB, s mfagate.Store, username string, roles ...string) *mfagate.User {
	tb.Helper()
	u := &mfagate.User{
		Username:  username,
		Email:     username + "@example.com",
		Name:      "Person " + username,
		Roles:     roles,
		CreatedAt: base,
	}
	mustUpdate(tb, s, func(tx mfagate.Tx) error { return tx.CreateUser(u) })
	if u.ID == 0 {
		tb.Fatalf("CreateUser(%q) left ID 0", username)
	}
	return u
}

func mustGetUser(tb testing.TB, s mfagate.Store, id int64) *mfagate.User {
	tb.Helper()
	var u *mfagate.User
	mustView(tb, s, func(tx mfagate.Tx) (err error) {
		u, err = tx.UserByID(id)
		return err
	})
	return u
}

// wantCode fails unless err carries the mfagate error code want.
func wantCode(tb testing.TB, what string, err error, want string) {
	tb.Helper()
	if got := mfagate.ErrorCode(err); got != want {
		tb.Errorf("%s: got code %q (%v), want %q", what, got, err, want)
	}
}

// checkUser fails unless got equals want, counting nil and empty role
// lists as equal.
func checkUser(tb testing.TB, got, want *mfagate.User) {
	tb.Helper()
	if got == nil {
		tb.Fatalf("got nil user, want %+v", want)
	}
	g, w := *got, *want
	if len(g.Roles) == 0 {
		g.Roles = nil
	}
	if len(w.Roles) == 0 {
		w.Roles = nil
	}
	if !reflect.DeepEqual(g, w) {
		tb.Errorf("got user %+v, want %+v", g, w)
	}
	checkUTC(tb, "CreatedAt", got.CreatedAt)
	checkUTC(tb, "LastSignInAt", got.LastSignInAt)
	checkUTC(tb, "ExtendedUntil", got.ExtendedUntil)
	checkUTC(tb, "LastSkipAt", got.LastSkipAt)
}

// checkUTC fails unless t is zero or in UTC.
func checkUTC(tb testing.TB, what string, t time.Time) {
	tb.Helper()
	if !t.IsZero() && t.Location() != time.UTC {
		tb.Errorf("%s: got location %v, want UTC", what, t.Location())
	}
}

// stored is t as a store keeps it: millisecond precision, UTC.
func stored(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Millisecond).UTC()
}

// userIDs returns the IDs of users, in order.
func userIDs(users []*mfagate.User) []int64 {
	ids := []int64{}
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	return ids
}
