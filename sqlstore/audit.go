package sqlstore

import (
	"database/sql"
	"fmt"

	"github.com/mfagate/mfagate"
)

var _ mfagate.Auditor = (*tx)(nil)

// AppendAudit adds e to the audit log and sets e.ID; see mfagate.Auditor.
func (t *tx) AppendAudit(e *mfagate.AuditEvent) error {
	id, _, err := t.insertID(`INSERT INTO audit_events
		(at, kind, outcome, actor, subject, client_addr, reason, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`,
		millis(e.At), e.Kind, e.Outcome, e.Actor, e.Subject, e.ClientAddr, e.Reason, e.Detail)
	if err != nil {
		return fmt.Errorf("append audit event: %w", err)
	}
	e.ID = id
	return nil
}

// AuditEvents lists audit events, newest first; see mfagate.Auditor. Since is
// inclusive and Until exclusive, so consecutive windows do not overlap.
func (t *tx) AuditEvents(f mfagate.AuditFilter) ([]*mfagate.AuditEvent, error) {
	var (
		conds []string
		args  []any
	)
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if f.Subject != "" {
		add(`subject = ?`, f.Subject)
	}
	if f.Actor != "" {
		add(`actor = ?`, f.Actor)
	}
	if f.Kind != "" {
		add(`kind = ?`, f.Kind)
	}
	if !f.Since.IsZero() {
		add(`at >= ?`, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		add(`at < ?`, f.Until.UnixMilli())
	}
	if f.BeforeID > 0 {
		add(`id < ?`, f.BeforeID)
	}
	limit, args := limitClause(f.Limit, args)
	// Newest first by ID: IDs grow with every append, and BeforeID pages
	// through the same order.
	rows, err := t.query(`SELECT id, at, kind, outcome, actor, subject, client_addr, reason, detail
		FROM audit_events`+whereClause(conds)+` ORDER BY id DESC`+limit, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	var events []*mfagate.AuditEvent
	for rows.Next() {
		var (
			e  mfagate.AuditEvent
			at sql.NullInt64
		)
		if err := rows.Scan(&e.ID, &at, &e.Kind, &e.Outcome, &e.Actor, &e.Subject, &e.ClientAddr, &e.Reason, &e.Detail); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list audit events: %w", err)
		}
		e.At = fromMillis(at)
		events = append(events, &e)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return events, nil
}
