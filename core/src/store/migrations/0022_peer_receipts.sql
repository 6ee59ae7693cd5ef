-- 0022: receipts and voids issued at the other desks (issue 16). Each desk keeps its own
-- numbers (its device prefix) and its own drawer; the others keep a copy of its ledger
-- here, to show every desk's money on the drawer summary and in the outage report. The
-- receipt's op stays with the desk that issued it, which sends it. A drill's receipts are
-- practice and stay on their desk.
CREATE TABLE peer_receipt (
    desk         TEXT NOT NULL,
    seq          INTEGER NOT NULL,         -- its record's name in that desk's log
    hlc          INTEGER NOT NULL,
    number       TEXT NOT NULL,
    day          TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('payment', 'void')),
    voids        TEXT,
    patient_id   TEXT,
    patient_name TEXT,
    amount       INTEGER NOT NULL,
    method       TEXT NOT NULL CHECK (method IN ('cash', 'card', 'qr', 'deferred')),
    memo         TEXT,
    staff        TEXT,
    reason       TEXT,
    at           TEXT NOT NULL,
    incident_id  INTEGER REFERENCES incident (id),
    PRIMARY KEY (desk, seq)
) STRICT;

CREATE INDEX peer_receipt_by_day ON peer_receipt (day);
CREATE INDEX peer_receipt_by_incident ON peer_receipt (incident_id);
