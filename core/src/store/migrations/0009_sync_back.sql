-- 0009: the sync-back. What the sender learns about each op is kept beside it, so a restart
-- (or a crash between a request and its answer) resumes where it was, and the
-- reconciliation view can show what the server said.

-- Ops that must reach the upstream in order: one appointment's changes, one receipt and
-- its void. NULL: independent of every other op (a call's Communication).
ALTER TABLE outbox ADD COLUMN chain TEXT;
UPDATE outbox SET chain = CASE
    WHEN kind LIKE 'appointment_%' THEN 'appointment:' || target_id
    WHEN kind = 'receipt' THEN 'receipt:' || target_id
    WHEN kind = 'receipt_void' THEN 'receipt:' || json_extract(payload, '$.voids')
    END;
-- The last failure: an error code, the HTTP status and the server's own words (an
-- OperationOutcome's text; it may name a patient, which is why it lives only in here).
ALTER TABLE outbox ADD COLUMN last_code TEXT;
ALTER TABLE outbox ADD COLUMN last_status INTEGER;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
-- A conflict: the server's current version and what it holds (JSON: status, start, end;
-- or deleted), shown beside the desk's change.
ALTER TABLE outbox ADD COLUMN server_version TEXT;
ALTER TABLE outbox ADD COLUMN server_state TEXT;
-- Done: where it landed ("Communication/…", "Appointment/a1/_history/4") and when.
ALTER TABLE outbox ADD COLUMN upstream_ref TEXT;
ALTER TABLE outbox ADD COLUMN done_at TEXT;
-- A person's decision on a conflict or a rejection.
ALTER TABLE outbox ADD COLUMN resolution TEXT
    CHECK (resolution IN ('kept_mine', 'took_server', 'discarded'));
ALTER TABLE outbox ADD COLUMN resolved_by TEXT;
ALTER TABLE outbox ADD COLUMN resolved_at TEXT;

CREATE INDEX outbox_by_chain ON outbox (chain, id) WHERE chain IS NOT NULL;

-- An incident is reconciled once the line is back and none of its ops waits for anything.
ALTER TABLE incident ADD COLUMN reconciled_at TEXT;
