-- 0020: an unpairing reaches every desk (issue 16). A desk unpaired at one desk (lost,
-- stolen, replaced) is unpaired at all of them, and what it records after that point is
-- refused everywhere, whichever desk would pass it on. after_seq: the last of its records
-- the unpairing desk had taken; the ones before were made while it was trusted.
CREATE TABLE desk_revoked (
    desk       TEXT PRIMARY KEY,
    after_seq  INTEGER NOT NULL,
    revoked_at TEXT NOT NULL
) STRICT;
