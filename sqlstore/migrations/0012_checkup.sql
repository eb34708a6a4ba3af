-- The check-up of new factors (0012): the reminder job looks factors up
-- by when they were added, a few days' worth each pass.
CREATE INDEX factors_created ON factors (created_at);
