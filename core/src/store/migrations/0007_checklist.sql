-- 0007: the outage checklist. Each tick (or untick) is a row: who did what, when; the
-- current state of a step is its latest row within the incident (or drill).
CREATE TABLE checklist_tick (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER REFERENCES incident (id),
    drill       INTEGER NOT NULL DEFAULT 0,
    step        INTEGER NOT NULL,            -- position in the configured list
    step_text   TEXT NOT NULL,               -- the step as it read when ticked
    done        INTEGER NOT NULL CHECK (done IN (0, 1)),
    staff       TEXT,
    at          TEXT NOT NULL
) STRICT;

CREATE INDEX checklist_by_incident ON checklist_tick (incident_id, drill, step, id);
