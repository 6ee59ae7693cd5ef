-- 0005: the outbox and the call list's attempts.
--
-- outbox: every change meant for the upstream, written in the same transaction as the local
-- change. `id` is this device's sequence; `op_key` a UUIDv7 that travels to the upstream as
-- the change's identifier (idempotency). `base_version` is the upstream version the change
-- was made on (If-Match).
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    op_key       TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL CHECK (kind IN ('appointment_cancel', 'appointment_reschedule',
                     'appointment_arrival', 'call_outcome', 'receipt', 'receipt_void')),
    target_id    TEXT,
    base_version TEXT,
    payload      TEXT NOT NULL,          -- JSON; personal data only inside the encrypted file
    state        TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sending', 'done', 'conflict', 'rejected')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    incident_id  INTEGER REFERENCES incident (id)
) STRICT;

CREATE INDEX outbox_by_state ON outbox (state, id);

-- A drill (訓練): a simulated outage on the real mirror. What is recorded during it carries
-- its id and never reaches the mirror or the outbox.
CREATE TABLE drill (
    id         INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    staff      TEXT
) STRICT;

-- One row per call attempt: history, never updated or deleted.
CREATE TABLE call_attempt (
    id             INTEGER PRIMARY KEY,
    appointment_id TEXT NOT NULL,
    outcome        TEXT NOT NULL CHECK (outcome IN ('cancelled', 'rescheduled', 'coming',
                       'no_answer', 'left_message', 'wrong_number')),
    new_start      TEXT,                 -- rescheduled: the new start (UTC)
    retry_at       TEXT,                 -- no_answer: when to try again (UTC)
    staff          TEXT,
    note           TEXT,
    at             TEXT NOT NULL,
    incident_id    INTEGER REFERENCES incident (id),
    op_key         TEXT,                 -- the outbox entry it wrote (none in a drill)
    drill          INTEGER NOT NULL DEFAULT 0   -- 0: real; else the drill's id
) STRICT;

CREATE INDEX call_attempt_by_appointment ON call_attempt (drill, appointment_id, id);
