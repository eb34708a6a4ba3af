-- Rollout pacing (0011): each person's course through the one phase that
-- paces them, a grace window or capped skips. pace_phase names it ('' for
-- none), pace_shown_at is when its requirement was first shown to them at
-- sign-in, pace_skips and pace_skip_at count their skips under it. A new
-- active phase starts them afresh. Existing accounts start with nothing:
-- their windows open at their next sign-in.
ALTER TABLE users ADD COLUMN pace_phase TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN pace_shown_at BIGINT;
ALTER TABLE users ADD COLUMN pace_skips INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN pace_skip_at BIGINT;
