-- 0023: the other desks' ops for the upstream (issue 16). An op queued at a desk travels in
-- its log; every other desk keeps a copy here, so that when that desk is off while the
-- line is back, another desk can send it (a takeover). The op key keeps a second sending
-- harmless. `settled`: the op's desk (or the desk that took it over) said it reached the
-- server (`done`) or a person gave it up there (the resolution's code).
CREATE TABLE peer_op (
    op_key       TEXT PRIMARY KEY,
    desk         TEXT NOT NULL,            -- the desk that queued it
    seq          INTEGER NOT NULL,         -- its record's name in that desk's log
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    upstream     TEXT NOT NULL,
    base_version TEXT,
    base_state   TEXT,
    created_at   TEXT NOT NULL,
    settled      TEXT,
    upstream_ref TEXT,
    taken_by     TEXT,                     -- the desk that took it over, when one did
    taken_at     TEXT
) STRICT;

CREATE INDEX peer_op_open ON peer_op (upstream, desk, seq) WHERE settled IS NULL;

-- A call being made at another desk (「受付2で通話中」): the latest claim of each desk on
-- each appointment. It holds for a short while after it arrived here (by this desk's
-- clock, so the desks' clocks need not agree) and ends with that desk's call or check-in,
-- so a desk that vanishes blocks nothing.
CREATE TABLE peer_claim (
    desk           TEXT NOT NULL,
    appointment_id TEXT NOT NULL,
    staff          TEXT,
    hlc            INTEGER NOT NULL,
    received_at    TEXT NOT NULL,
    PRIMARY KEY (desk, appointment_id)
) STRICT;

-- An op this desk took over from the desk that queued it (NULL: its own).
ALTER TABLE outbox ADD COLUMN taken_from TEXT;
-- This desk's own op, taken over by another desk (it was gone while the line was up): that
-- desk may have sent it already, so it can no longer be taken back here.
ALTER TABLE outbox ADD COLUMN taken_by TEXT;
-- Whether the other desks were told this op is settled (a record of this desk's log). The
-- ops settled before 0023 were never told as ops at all.
ALTER TABLE outbox ADD COLUMN settle_told INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET settle_told = 1 WHERE state = 'done';
