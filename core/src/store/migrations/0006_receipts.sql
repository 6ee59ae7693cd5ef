-- 0006: the receipt ledger. Append-only: a receipt is never edited or deleted; a void is a
-- later entry pointing at it. Numbers are unique across desks: device prefix + clinic date
-- + this desk's sequence for that day (a drill's receipts count apart, marked T).
CREATE TABLE receipt (
    id           INTEGER PRIMARY KEY,
    number       TEXT NOT NULL UNIQUE,
    day          TEXT NOT NULL,               -- the clinic date, YYYY-MM-DD
    seq          INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('payment', 'void')),
    voids        TEXT REFERENCES receipt (number),
    patient_id   TEXT,
    patient_name TEXT,
    amount       INTEGER NOT NULL,            -- yen: > 0 for a payment, the negative for a void
    method       TEXT NOT NULL CHECK (method IN ('cash', 'card', 'qr', 'deferred')),
    memo         TEXT,
    staff        TEXT,
    reason       TEXT,                        -- a void's reason
    at           TEXT NOT NULL,
    incident_id  INTEGER REFERENCES incident (id),
    op_key       TEXT,                        -- its outbox entry (none in a drill)
    drill        INTEGER NOT NULL DEFAULT 0,  -- 0: real; else the drill's id
    UNIQUE (day, drill, seq),
    CHECK ((kind = 'payment' AND amount > 0 AND voids IS NULL)
        OR (kind = 'void' AND amount < 0 AND voids IS NOT NULL AND reason IS NOT NULL))
) STRICT;

CREATE UNIQUE INDEX receipt_voided_once ON receipt (voids) WHERE voids IS NOT NULL;

CREATE TRIGGER receipt_never_edited BEFORE UPDATE ON receipt
BEGIN
    SELECT RAISE(ABORT, 'receipts are never edited; void and record again');
END;

CREATE TRIGGER receipt_never_deleted BEFORE DELETE ON receipt
BEGIN
    SELECT RAISE(ABORT, 'receipts are never deleted; void them');
END;

-- Receipts entered into the billing system by hand (a fact recorded later, not an edit).
CREATE TABLE receipt_entered (
    number TEXT PRIMARY KEY REFERENCES receipt (number),
    at     TEXT NOT NULL,
    staff  TEXT
) STRICT;
