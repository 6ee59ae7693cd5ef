-- 0016: web booking stopped and reopened by hand on the booking service's own site, for a
-- source Tsunagi cannot stop it through (CSV, the demo, a vendor with no API). Who said so
-- and when; a stop stays in effect until a person says it was reopened (or stays closed,
-- which ends the reminder to reopen it).
CREATE TABLE booking_by_hand (
    id             INTEGER PRIMARY KEY,
    -- The outage it was stopped in (its report lists it); NULL once retention removed it.
    incident_id    INTEGER REFERENCES incident(id) ON DELETE SET NULL,
    stopped_at     TEXT NOT NULL,       -- UTC
    stopped_by     TEXT,
    reopened_at    TEXT,
    reopened_by    TEXT,
    kept_closed_at TEXT,
    kept_closed_by TEXT
) STRICT;
