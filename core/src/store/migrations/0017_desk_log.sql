-- 0017: the desk's shared log (issue 16: several desks, one front desk).
--
-- desk_self: this database's desk id, made once (a database is one desk: a copied file is
-- the same desk, a new install a new one).
CREATE TABLE desk_self (
    one  INTEGER PRIMARY KEY CHECK (one = 1),
    desk TEXT NOT NULL
) STRICT;

INSERT INTO desk_self (one, desk) VALUES (1, lower(hex(randomblob(16))));

-- desk_record: what each desk recorded that the others must know, one append-only log per
-- desk. (desk, seq) names a record for ever: seq counts from 1 with no gap, so a desk's
-- log is held up to some seq and the highest seq of each desk says all a desk holds. hlc is
-- a hybrid logical clock (milliseconds * 65536 + a counter): later than every record this
-- desk had seen when it wrote, so "latest" means the same on every desk whatever their
-- clocks say. body is the record as JSON (personal data only inside the encrypted file).
-- applied: 0 for a kind this build does not know (kept and passed on, applied by a newer
-- build).
CREATE TABLE desk_record (
    desk        TEXT NOT NULL,
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    hlc         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at TEXT,                    -- NULL: written by this desk
    applied     INTEGER NOT NULL DEFAULT 1 CHECK (applied IN (0, 1)),
    PRIMARY KEY (desk, seq)
) STRICT, WITHOUT ROWID;

CREATE INDEX desk_record_by_hlc ON desk_record (hlc);

-- A checklist tick says which desk made it and when in the desks' shared order (NULL on
-- ticks from before this migration, and in drills, which stay on their desk).
ALTER TABLE checklist_tick ADD COLUMN desk TEXT;
ALTER TABLE checklist_tick ADD COLUMN hlc INTEGER;
