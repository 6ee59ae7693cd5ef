-- 0019: calls recorded on the other desks (issue 16). A call outcome at one desk is a
-- record of its log; the other desks keep it here, to show on their call list who reached
-- whom (a patient is not called twice). Their changes for the upstream stay with the desk
-- that recorded them, which sends them.
CREATE TABLE peer_call (
    desk           TEXT NOT NULL,
    seq            INTEGER NOT NULL,         -- its record's name in that desk's log
    hlc            INTEGER NOT NULL,
    appointment_id TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    new_start      TEXT,
    staff          TEXT,
    at             TEXT NOT NULL,
    incident_id    INTEGER REFERENCES incident (id),
    withdrawn_at   TEXT,                     -- taken back at its desk (元に戻す)
    PRIMARY KEY (desk, seq)
) STRICT;

CREATE INDEX peer_call_by_appointment ON peer_call (appointment_id, hlc);

-- A call's record in this desk's log (NULL: before 0019, or in a drill), so taking the call
-- back tells the other desks which one.
ALTER TABLE call_attempt ADD COLUMN record_seq INTEGER;
