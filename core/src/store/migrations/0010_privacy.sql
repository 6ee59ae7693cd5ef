-- Issue 7: the audit trail, the staff picked at the desk, and retention.

-- Who did or saw what, when. Append-only: each row's hash covers its contents and the hash
-- of the row before it, so an edited, reordered or deleted row breaks the chain;
-- `audit_head` holds the last link, so rows cut off the end are seen too.
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,      -- 1, 2, 3, … without gaps
    at        TEXT NOT NULL,            -- UTC
    staff     TEXT NOT NULL,            -- '' : done by Tsunagi itself (a schedule)
    action    TEXT NOT NULL,            -- e.g. calls.view, receipt.add
    records   TEXT NOT NULL,            -- JSON array of "kind:id" (ids, never names)
    detail    TEXT NOT NULL,            -- JSON object of codes and counts
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
) STRICT;

CREATE TRIGGER audit_never_edited BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

CREATE TRIGGER audit_never_deleted BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;

-- The names offered by the desk's quick switcher; the last picked is at the desk after a
-- restart.
CREATE TABLE staff_member (
    name      TEXT PRIMARY KEY,
    added_at  TEXT NOT NULL,
    picked_at TEXT
) STRICT;

-- Receipts are never deleted by a person; only retention removes reconciled ones, inside
-- its own transaction while this table holds its one row.
CREATE TABLE purge_permit (
    id INTEGER PRIMARY KEY CHECK (id = 1)
) STRICT;

DROP TRIGGER receipt_never_deleted;

CREATE TRIGGER receipt_never_deleted BEFORE DELETE ON receipt
WHEN NOT EXISTS (SELECT 1 FROM purge_permit)
BEGIN
    SELECT RAISE(ABORT, 'receipts are never deleted; void them');
END;
