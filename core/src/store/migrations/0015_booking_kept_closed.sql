-- 0015: after the line returns, a person may decide web booking stays stopped (the clinic
-- stays closed today, say): the reminder to reopen it ends. Who decided and when.
CREATE TABLE booking_kept_closed (
    pause_id TEXT PRIMARY KEY,           -- the pause op's key
    at       TEXT NOT NULL,              -- UTC
    staff    TEXT
) STRICT;
