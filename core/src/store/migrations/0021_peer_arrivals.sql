-- 0021: check-ins (受付) made at the other desks (issue 16), shown on this desk's call list
-- as arrived there, as their calls are (0019). Their changes for the upstream stay with the
-- desk that recorded them.
CREATE TABLE peer_arrival (
    desk           TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    hlc            INTEGER NOT NULL,
    appointment_id TEXT NOT NULL,
    staff          TEXT,
    at             TEXT NOT NULL,
    withdrawn_at   TEXT,
    PRIMARY KEY (desk, seq)
) STRICT;

CREATE INDEX peer_arrival_by_appointment ON peer_arrival (appointment_id, hlc);

ALTER TABLE arrival ADD COLUMN record_seq INTEGER;
