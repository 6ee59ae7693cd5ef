-- 0001: the mirror of the upstream's appointments and patients.
-- Timestamps are UTC, RFC 3339 with a trailing Z, seconds precision: text order is time order.

CREATE TABLE mirror_source (
    id           INTEGER PRIMARY KEY CHECK (id = 1),  -- one upstream at a time
    source_key   TEXT NOT NULL,                       -- kind + address of the upstream
    source_kind  TEXT NOT NULL,
    synced_at    TEXT NOT NULL,                       -- when the last complete pull finished
    window_start TEXT NOT NULL,                       -- what that pull covered, [start, end)
    window_end   TEXT NOT NULL
) STRICT;

CREATE TABLE patient (
    source_id      TEXT PRIMARY KEY,
    source_version TEXT,
    name           TEXT NOT NULL,
    kana           TEXT
) STRICT;

CREATE TABLE patient_phone (
    patient_id TEXT NOT NULL REFERENCES patient (source_id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,     -- order to try them in
    display    TEXT NOT NULL,        -- as written (full-width folded)
    e164       TEXT,                 -- NULL when not a valid number
    PRIMARY KEY (patient_id, position)
) STRICT;

-- patient_id is deliberately not a foreign key: an upstream may hand us an appointment
-- whose patient it did not include, and the desk still needs to see the slot.
CREATE TABLE appointment (
    source_id      TEXT PRIMARY KEY,
    source_version TEXT,
    start_at       TEXT,
    end_at         TEXT,
    status         TEXT NOT NULL CHECK (status IN ('proposed', 'pending', 'booked', 'arrived',
                       'fulfilled', 'cancelled', 'noshow', 'entered-in-error', 'checked-in',
                       'waitlist')),
    reason         TEXT,
    patient_id     TEXT
) STRICT;

CREATE INDEX appointment_by_start ON appointment (start_at);
CREATE INDEX appointment_by_patient ON appointment (patient_id);
