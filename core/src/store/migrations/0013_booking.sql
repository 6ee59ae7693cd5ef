-- 0013: web booking is stopped and reopened from the desk (issue 17; docs/booking.md).
--
-- Two op kinds join the outbox. SQLite cannot widen a CHECK in place, so the table is
-- rebuilt with the same columns and rows; ids are kept (they are this desk's sequence
-- numbers, and the order ops are sent in). Nothing refers to the outbox by key.
CREATE TABLE outbox_0013 (
    id             INTEGER PRIMARY KEY,
    op_key         TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL CHECK (kind IN ('appointment_cancel', 'appointment_reschedule',
                       'appointment_arrival', 'call_outcome', 'receipt', 'receipt_void',
                       'booking_pause', 'booking_resume')),
    target_id      TEXT,
    base_version   TEXT,
    payload        TEXT NOT NULL,        -- JSON; personal data only inside the encrypted file
    state          TEXT NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'sending', 'done', 'conflict', 'rejected')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    incident_id    INTEGER REFERENCES incident (id),
    chain          TEXT,
    last_code      TEXT,
    last_status    INTEGER,
    last_error     TEXT,
    server_version TEXT,
    server_state   TEXT,
    upstream_ref   TEXT,
    done_at        TEXT,
    resolution     TEXT CHECK (resolution IN ('kept_mine', 'took_server', 'discarded')),
    resolved_by    TEXT,
    resolved_at    TEXT,
    upstream       TEXT,
    base_state     TEXT,
    withdrawn      INTEGER NOT NULL DEFAULT 0 CHECK (withdrawn IN (0, 1))
) STRICT;

INSERT INTO outbox_0013 (id, op_key, kind, target_id, base_version, payload, state, attempts,
    created_at, incident_id, chain, last_code, last_status, last_error, server_version,
    server_state, upstream_ref, done_at, resolution, resolved_by, resolved_at, upstream,
    base_state, withdrawn)
SELECT id, op_key, kind, target_id, base_version, payload, state, attempts,
    created_at, incident_id, chain, last_code, last_status, last_error, server_version,
    server_state, upstream_ref, done_at, resolution, resolved_by, resolved_at, upstream,
    base_state, withdrawn
FROM outbox;

DROP TABLE outbox;
ALTER TABLE outbox_0013 RENAME TO outbox;
CREATE INDEX outbox_by_state ON outbox (state, id);
CREATE INDEX outbox_by_chain ON outbox (chain, id) WHERE chain IS NOT NULL;
CREATE INDEX outbox_by_upstream ON outbox (upstream, state, id);

-- The Slots a pause closed on the server, and what became of each. A row is written before
-- its request leaves ('pausing'), so a crash or a lost answer is settled on the next
-- attempt from the server's own copy, never guessed. No personal data: a Slot is a time.
CREATE TABLE booking_slot (
    pause_id       TEXT NOT NULL,        -- the pause op's key
    slot_id        TEXT NOT NULL,
    start          TEXT,                 -- UTC
    paused_version TEXT,                 -- the version the pause wrote
    state          TEXT NOT NULL
                       CHECK (state IN ('pausing', 'paused', 'refused', 'resumed', 'left')),
    server_said    TEXT,                 -- refused / left: the server's status or words
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (pause_id, slot_id)
) STRICT;
