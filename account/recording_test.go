package account_test

import (
	"context"
	"sync"
	"time"

	"github.com/mfagate/mfagate"
)

// recordingStore records the name of every Tx method its transactions
// call, in order, with "Update" and "View" where each transaction begins:
// what work a use case did, for tests that two answers cost the same. Every
// method of Tx is listed below (a method added to Tx later reaches the
// embedded Tx unrecorded until it is added here).
type recordingStore struct {
	mfagate.Store
	mu    sync.Mutex
	calls []string
}

func (r *recordingStore) record(name string) {
	r.mu.Lock()
	r.calls = append(r.calls, name)
	r.mu.Unlock()
}

// take returns the calls recorded since the last take.
func (r *recordingStore) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

func (r *recordingStore) Update(ctx context.Context, fn func(mfagate.Tx) error) error {
	r.record("Update")
	return r.Store.Update(ctx, func(tx mfagate.Tx) error { return fn(recordingTx{tx, r}) })
}

func (r *recordingStore) View(ctx context.Context, fn func(mfagate.Tx) error) error {
	r.record("View")
	return r.Store.View(ctx, func(tx mfagate.Tx) error { return fn(recordingTx{tx, r}) })
}

type recordingTx struct {
	mfagate.Tx
	r *recordingStore
}

func (t recordingTx) AnnounceEnded(a0 [][]byte, a1 []int64) error {
	t.r.record("AnnounceEnded")
	return t.Tx.AnnounceEnded(a0, a1)
}

func (t recordingTx) AppendAudit(a0 *mfagate.AuditEvent) error {
	t.r.record("AppendAudit")
	return t.Tx.AppendAudit(a0)
}

func (t recordingTx) AuditEvents(a0 mfagate.AuditFilter) ([]*mfagate.AuditEvent, error) {
	t.r.record("AuditEvents")
	return t.Tx.AuditEvents(a0)
}

func (t recordingTx) CampaignRecipients(a0 string, a1 []string, a2 bool, a3 []string, a4 int64, a5 int) ([]*mfagate.User, error) {
	t.r.record("CampaignRecipients")
	return t.Tx.CampaignRecipients(a0, a1, a2, a3, a4, a5)
}

func (t recordingTx) CampaignStats() ([]mfagate.CampaignStat, error) {
	t.r.record("CampaignStats")
	return t.Tx.CampaignStats()
}

func (t recordingTx) ClaimJob(a0 string, a1 time.Time, a2 time.Time) (bool, error) {
	t.r.record("ClaimJob")
	return t.Tx.ClaimJob(a0, a1, a2)
}

func (t recordingTx) ClaimMail(a0 mfagate.MailClaim) ([]*mfagate.Message, error) {
	t.r.record("ClaimMail")
	return t.Tx.ClaimMail(a0)
}

func (t recordingTx) ClearThrottle(a0 string) error {
	t.r.record("ClearThrottle")
	return t.Tx.ClearThrottle(a0)
}

func (t recordingTx) ClearThrottleIf(a0 string, a1 int64, a2 int, a3 bool, a4 time.Time) (bool, error) {
	t.r.record("ClearThrottleIf")
	return t.Tx.ClearThrottleIf(a0, a1, a2, a3, a4)
}

func (t recordingTx) ClearUnreached(a0 int64) error {
	t.r.record("ClearUnreached")
	return t.Tx.ClearUnreached(a0)
}

func (t recordingTx) CreateEmailCode(a0 *mfagate.EmailCode) error {
	t.r.record("CreateEmailCode")
	return t.Tx.CreateEmailCode(a0)
}

func (t recordingTx) CreateFactor(a0 *mfagate.Factor) error {
	t.r.record("CreateFactor")
	return t.Tx.CreateFactor(a0)
}

func (t recordingTx) CreateLink(a0 *mfagate.Link) error {
	t.r.record("CreateLink")
	return t.Tx.CreateLink(a0)
}

func (t recordingTx) CreateSession(a0 *mfagate.Session) error {
	t.r.record("CreateSession")
	return t.Tx.CreateSession(a0)
}

func (t recordingTx) CreateToken(a0 *mfagate.Token) error {
	t.r.record("CreateToken")
	return t.Tx.CreateToken(a0)
}

func (t recordingTx) CreateUser(a0 *mfagate.User) error {
	t.r.record("CreateUser")
	return t.Tx.CreateUser(a0)
}

func (t recordingTx) DeleteFactor(a0 int64, a1 int64) error {
	t.r.record("DeleteFactor")
	return t.Tx.DeleteFactor(a0, a1)
}

func (t recordingTx) DeleteIdleThrottles(a0 time.Time, a1 time.Time) (int, error) {
	t.r.record("DeleteIdleThrottles")
	return t.Tx.DeleteIdleThrottles(a0, a1)
}

func (t recordingTx) DeleteLinks(a0 int64, a1 string) (int, error) {
	t.r.record("DeleteLinks")
	return t.Tx.DeleteLinks(a0, a1)
}

func (t recordingTx) DeleteOldEmailCodes(a0 time.Time, a1 time.Time) (int, error) {
	t.r.record("DeleteOldEmailCodes")
	return t.Tx.DeleteOldEmailCodes(a0, a1)
}

func (t recordingTx) DeleteOldLinks(a0 time.Time) (int, error) {
	t.r.record("DeleteOldLinks")
	return t.Tx.DeleteOldLinks(a0)
}

func (t recordingTx) DeleteOldMail(a0 time.Time, a1 int) (int, error) {
	t.r.record("DeleteOldMail")
	return t.Tx.DeleteOldMail(a0, a1)
}

func (t recordingTx) DeleteSession(a0 []byte) error {
	t.r.record("DeleteSession")
	return t.Tx.DeleteSession(a0)
}

func (t recordingTx) DeleteStaleSessions(a0 time.Time, a1 time.Time) (int, error) {
	t.r.record("DeleteStaleSessions")
	return t.Tx.DeleteStaleSessions(a0, a1)
}

func (t recordingTx) DeleteUserFactors(a0 int64) (int, error) {
	t.r.record("DeleteUserFactors")
	return t.Tx.DeleteUserFactors(a0)
}

func (t recordingTx) DeleteUserSessions(a0 int64, a1 []byte) (int, error) {
	t.r.record("DeleteUserSessions")
	return t.Tx.DeleteUserSessions(a0, a1)
}

func (t recordingTx) EmailCodeTimesSince(a0 int64, a1 time.Time) ([]time.Time, error) {
	t.r.record("EmailCodeTimesSince")
	return t.Tx.EmailCodeTimesSince(a0, a1)
}

func (t recordingTx) EmailCodesSince(a0 int64, a1 time.Time) (int, error) {
	t.r.record("EmailCodesSince")
	return t.Tx.EmailCodesSince(a0, a1)
}

func (t recordingTx) EnqueueMail(a0 *mfagate.Message) error {
	t.r.record("EnqueueMail")
	return t.Tx.EnqueueMail(a0)
}

func (t recordingTx) ExpireSecretMail(a0 time.Time, a1 time.Time) (int, error) {
	t.r.record("ExpireSecretMail")
	return t.Tx.ExpireSecretMail(a0, a1)
}

func (t recordingTx) FailMail(a0 int64, a1 int64, a2 string) error {
	t.r.record("FailMail")
	return t.Tx.FailMail(a0, a1, a2)
}

func (t recordingTx) Groups(a0 time.Time) ([]*mfagate.Group, []*mfagate.Person, error) {
	t.r.record("Groups")
	return t.Tx.Groups(a0)
}

func (t recordingTx) HoldMail(a0 int64, a1 int64, a2 time.Time, a3 time.Duration) (bool, error) {
	t.r.record("HoldMail")
	return t.Tx.HoldMail(a0, a1, a2, a3)
}

func (t recordingTx) HoldNotice(a0 int64, a1 string) (*mfagate.NoticeState, error) {
	t.r.record("HoldNotice")
	return t.Tx.HoldNotice(a0, a1)
}

func (t recordingTx) HoldThrottle(a0 string) (*mfagate.Throttle, error) {
	t.r.record("HoldThrottle")
	return t.Tx.HoldThrottle(a0)
}

func (t recordingTx) LastEmailCodeAt(a0 int64, a1 string) (time.Time, error) {
	t.r.record("LastEmailCodeAt")
	return t.Tx.LastEmailCodeAt(a0, a1)
}

func (t recordingTx) LatestEmailCode(a0 []byte, a1 string) (*mfagate.EmailCode, error) {
	t.r.record("LatestEmailCode")
	return t.Tx.LatestEmailCode(a0, a1)
}

func (t recordingTx) LatestLink(a0 int64, a1 string) (*mfagate.Link, error) {
	t.r.record("LatestLink")
	return t.Tx.LatestLink(a0, a1)
}

func (t recordingTx) LinkByHash(a0 []byte) (*mfagate.Link, error) {
	t.r.record("LinkByHash")
	return t.Tx.LinkByHash(a0)
}

func (t recordingTx) Mail(a0 int) ([]*mfagate.Message, error) {
	t.r.record("Mail")
	return t.Tx.Mail(a0)
}

func (t recordingTx) MailQueue(a0 time.Time) ([]mfagate.MailQueueLane, error) {
	t.r.record("MailQueue")
	return t.Tx.MailQueue(a0)
}

func (t recordingTx) MarkCampaignSent(a0 string, a1 int64, a2 time.Time) (bool, error) {
	t.r.record("MarkCampaignSent")
	return t.Tx.MarkCampaignSent(a0, a1, a2)
}

func (t recordingTx) MarkMailSent(a0 int64, a1 time.Time) error {
	t.r.record("MarkMailSent")
	return t.Tx.MarkMailSent(a0, a1)
}

func (t recordingTx) MarkUnreached(a0 int64, a1 string, a2 string, a3 time.Time) (bool, error) {
	t.r.record("MarkUnreached")
	return t.Tx.MarkUnreached(a0, a1, a2, a3)
}

func (t recordingTx) NoticesDue(a0 time.Time, a1 int) ([]*mfagate.NoticeState, error) {
	t.r.record("NoticesDue")
	return t.Tx.NoticesDue(a0, a1)
}

func (t recordingTx) People(a0 func(*mfagate.Person) error) error {
	t.r.record("People")
	return t.Tx.People(a0)
}

func (t recordingTx) Progress() ([]*mfagate.ProgressRow, error) {
	t.r.record("Progress")
	return t.Tx.Progress()
}

func (t recordingTx) RecordSignIn(a0 int64, a1 time.Time, a2 string) error {
	t.r.record("RecordSignIn")
	return t.Tx.RecordSignIn(a0, a1, a2)
}

func (t recordingTx) RecordSkip(a0 int64, a1 time.Time) error {
	t.r.record("RecordSkip")
	return t.Tx.RecordSkip(a0, a1)
}

func (t recordingTx) RecountGroups(a0 bool) ([]*mfagate.GroupMismatch, error) {
	t.r.record("RecountGroups")
	return t.Tx.RecountGroups(a0)
}

func (t recordingTx) ReleaseMail(a0 int64, a1 []int64) (int, error) {
	t.r.record("ReleaseMail")
	return t.Tx.ReleaseMail(a0, a1)
}

func (t recordingTx) RenewMail(a0 int64, a1 time.Duration) (int, error) {
	t.r.record("RenewMail")
	return t.Tx.RenewMail(a0, a1)
}

func (t recordingTx) ReplaceRecoveryCodes(a0 int64, a1 []*mfagate.RecoveryCode) error {
	t.r.record("ReplaceRecoveryCodes")
	return t.Tx.ReplaceRecoveryCodes(a0, a1)
}

func (t recordingTx) RequeueFailedMail(a0 int64, a1 string, a2 time.Time, a3 time.Time) (int, error) {
	t.r.record("RequeueFailedMail")
	return t.Tx.RequeueFailedMail(a0, a1, a2, a3)
}

func (t recordingTx) RetryMail(a0 int64, a1 int64, a2 string, a3 time.Time) error {
	t.r.record("RetryMail")
	return t.Tx.RetryMail(a0, a1, a2, a3)
}

func (t recordingTx) RevokeToken(a0 string, a1 time.Time) error {
	t.r.record("RevokeToken")
	return t.Tx.RevokeToken(a0, a1)
}

func (t recordingTx) SaveNotice(a0 *mfagate.NoticeState) error {
	t.r.record("SaveNotice")
	return t.Tx.SaveNotice(a0)
}

func (t recordingTx) SaveThrottle(a0 *mfagate.Throttle) error {
	t.r.record("SaveThrottle")
	return t.Tx.SaveThrottle(a0)
}

func (t recordingTx) SearchPeople(a0 mfagate.PeopleFilter) ([]*mfagate.PersonSummary, error) {
	t.r.record("SearchPeople")
	return t.Tx.SearchPeople(a0)
}

func (t recordingTx) SessionAndUser(a0 []byte) (*mfagate.Session, *mfagate.User, error) {
	t.r.record("SessionAndUser")
	return t.Tx.SessionAndUser(a0)
}

func (t recordingTx) SessionByHash(a0 []byte) (*mfagate.Session, error) {
	t.r.record("SessionByHash")
	return t.Tx.SessionByHash(a0)
}

func (t recordingTx) StartThrottle(a0 string, a1 int64, a2 time.Time) (bool, error) {
	t.r.record("StartThrottle")
	return t.Tx.StartThrottle(a0, a1, a2)
}

func (t recordingTx) Throttle(a0 string) (*mfagate.Throttle, error) {
	t.r.record("Throttle")
	return t.Tx.Throttle(a0)
}

func (t recordingTx) TokenByHash(a0 []byte) (*mfagate.Token, error) {
	t.r.record("TokenByHash")
	return t.Tx.TokenByHash(a0)
}

func (t recordingTx) Tokens() ([]*mfagate.Token, error) {
	t.r.record("Tokens")
	return t.Tx.Tokens()
}

func (t recordingTx) TouchSession(a0 []byte, a1 time.Time) error {
	t.r.record("TouchSession")
	return t.Tx.TouchSession(a0, a1)
}

func (t recordingTx) TouchSessions(a0 []mfagate.SessionTouch) (int, error) {
	t.r.record("TouchSessions")
	return t.Tx.TouchSessions(a0)
}

func (t recordingTx) TouchToken(a0 int64, a1 time.Time) error {
	t.r.record("TouchToken")
	return t.Tx.TouchToken(a0, a1)
}

func (t recordingTx) UnreachedByRole() (map[string]int, error) {
	t.r.record("UnreachedByRole")
	return t.Tx.UnreachedByRole()
}

func (t recordingTx) UnusedRecoveryCodes(a0 int64) (int, error) {
	t.r.record("UnusedRecoveryCodes")
	return t.Tx.UnusedRecoveryCodes(a0)
}

func (t recordingTx) UpdateEmailCode(a0 *mfagate.EmailCode) error {
	t.r.record("UpdateEmailCode")
	return t.Tx.UpdateEmailCode(a0)
}

func (t recordingTx) UpdateSession(a0 *mfagate.Session) error {
	t.r.record("UpdateSession")
	return t.Tx.UpdateSession(a0)
}

func (t recordingTx) UpdateUser(a0 *mfagate.User) error {
	t.r.record("UpdateUser")
	return t.Tx.UpdateUser(a0)
}

func (t recordingTx) UseFactor(a0 int64, a1 int64, a2 time.Time) error {
	t.r.record("UseFactor")
	return t.Tx.UseFactor(a0, a1, a2)
}

func (t recordingTx) UseLink(a0 int64, a1 time.Time) error {
	t.r.record("UseLink")
	return t.Tx.UseLink(a0, a1)
}

func (t recordingTx) UseRecoveryCode(a0 int64, a1 []byte, a2 time.Time) error {
	t.r.record("UseRecoveryCode")
	return t.Tx.UseRecoveryCode(a0, a1, a2)
}

func (t recordingTx) UserByID(a0 int64) (*mfagate.User, error) {
	t.r.record("UserByID")
	return t.Tx.UserByID(a0)
}

func (t recordingTx) UserByUsername(a0 string) (*mfagate.User, error) {
	t.r.record("UserByUsername")
	return t.Tx.UserByUsername(a0)
}

func (t recordingTx) CheckupFactors(a0, a1 time.Time, a2 string, a3 int64, a4 int) ([]*mfagate.Factor, error) {
	t.r.record("CheckupFactors")
	return t.Tx.CheckupFactors(a0, a1, a2, a3, a4)
}

func (t recordingTx) UserFactors(a0 int64) ([]*mfagate.Factor, error) {
	t.r.record("UserFactors")
	return t.Tx.UserFactors(a0)
}

func (t recordingTx) UserSessions(a0 int64) ([]*mfagate.Session, error) {
	t.r.record("UserSessions")
	return t.Tx.UserSessions(a0)
}

func (t recordingTx) Users(a0 mfagate.UserFilter) ([]*mfagate.User, error) {
	t.r.record("Users")
	return t.Tx.Users(a0)
}

func (t recordingTx) UsersByEmail(a0 string, a1 int) ([]*mfagate.User, error) {
	t.r.record("UsersByEmail")
	return t.Tx.UsersByEmail(a0, a1)
}
