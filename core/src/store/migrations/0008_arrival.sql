-- 0008: patients checked in at the desk (受付) while the clinic's system is unreachable. The
-- mirror's appointment becomes 'arrived' and the change is queued, in one transaction; in
-- a drill only this row is kept (under the drill's id).
CREATE TABLE arrival (
    id             INTEGER PRIMARY KEY,
    appointment_id TEXT NOT NULL,
    staff          TEXT,
    at             TEXT NOT NULL,
    incident_id    INTEGER REFERENCES incident (id),
    op_key         TEXT,                 -- its outbox entry (none in a drill)
    drill          INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX arrival_by_appointment ON arrival (drill, appointment_id);
