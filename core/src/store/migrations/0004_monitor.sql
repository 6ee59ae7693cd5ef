-- 0004: the monitor's record. An incident is one outage (from the first failing round to
-- the first good one); every transition of the line's state is kept with what the probes
-- found. Runs tell a clean stop from a crash or power loss. Times: UTC, RFC 3339 with
-- milliseconds and a trailing Z (one fixed width: text order is time order).

CREATE TABLE incident (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,           -- the first failing round
    declared_at TEXT NOT NULL,           -- when the monitor declared it
    ended_at    TEXT,                    -- the first good round of the recovery; NULL: open
    cause       TEXT NOT NULL,           -- the first cause named
    worst_state TEXT NOT NULL CHECK (worst_state IN ('degraded', 'offline')),
    ended_by    TEXT CHECK (ended_by IN ('recovery', 'shutdown'))
) STRICT;

CREATE INDEX incident_by_start ON incident (started_at);

CREATE TABLE line_transition (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER REFERENCES incident (id),
    at          TEXT NOT NULL,
    since       TEXT NOT NULL,
    from_state  TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('online', 'degraded', 'offline')),
    cause       TEXT,
    probes      TEXT NOT NULL,           -- JSON: what each probe found (targets, no personal data)
    gateway     TEXT,
    local_address TEXT
) STRICT;

CREATE TABLE app_run (
    id         INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    alive_at   TEXT NOT NULL,            -- last sign of life
    ended_at   TEXT                      -- NULL: did not stop cleanly (or still running)
) STRICT;

-- Signals (overnight outages, unclean stops) up to this time have been seen at the desk.
CREATE TABLE signal_seen (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    seen_to TEXT NOT NULL
) STRICT;
