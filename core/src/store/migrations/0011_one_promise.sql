-- 0011: what the desk records is never lost, sent twice or sent where it should not go.

-- Each mirror row remembers the upstream that issued its id (a change to it goes there and
-- nowhere else), and the appointment keeps the server's own state beside what the desk
-- shows: the shown state is always the server's plus the changes still meant for it.
ALTER TABLE appointment ADD COLUMN source_key TEXT;
ALTER TABLE appointment ADD COLUMN server_status TEXT CHECK (server_status IN ('proposed',
    'pending', 'booked', 'arrived', 'fulfilled', 'cancelled', 'noshow', 'entered-in-error',
    'checked-in', 'waitlist'));
ALTER TABLE appointment ADD COLUMN server_start_at TEXT;
ALTER TABLE appointment ADD COLUMN server_end_at TEXT;
UPDATE appointment SET source_key = (SELECT source_key FROM mirror_source WHERE id = 1),
    server_status = status, server_start_at = start_at, server_end_at = end_at;
ALTER TABLE patient ADD COLUMN source_key TEXT;
UPDATE patient SET source_key = (SELECT source_key FROM mirror_source WHERE id = 1);
CREATE INDEX appointment_by_source ON appointment (source_key);

-- The upstream a change belongs to (the source key it was made against): it waits for that
-- upstream whatever the source is now. Until now the mirror had one upstream at a time.
ALTER TABLE outbox ADD COLUMN upstream TEXT;
UPDATE outbox SET upstream = coalesce((SELECT source_key FROM mirror_source WHERE id = 1),
    'demo');
-- The server's appointment (status, start, end as JSON) the change was made on: with a
-- server that keeps no versions, the only way to tell someone else's edit.
ALTER TABLE outbox ADD COLUMN base_state TEXT;
CREATE INDEX outbox_by_upstream ON outbox (upstream, state, id);

-- A drill ends by a person, by a real outage (the monitor declared the line down), or by
-- itself at the end of the clinic day it started on.
ALTER TABLE drill ADD COLUMN ends_at TEXT;
ALTER TABLE drill ADD COLUMN ended_by TEXT CHECK (ended_by IN ('staff', 'outage', 'day_end'));
ALTER TABLE drill ADD COLUMN ended_incident INTEGER REFERENCES incident (id);
UPDATE drill SET ended_by = 'staff' WHERE ended_at IS NOT NULL;
UPDATE drill SET ends_at = strftime('%Y-%m-%dT%H:%M:%SZ', started_at, '+1 day')
    WHERE ended_at IS NULL;

-- Bumped whenever the desk learns what the server holds outside a pull (a delivery, a
-- person taking the server's version): a pull fetched before it must not be written after.
CREATE TABLE sync_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    deliveries INTEGER NOT NULL
) STRICT;
INSERT INTO sync_state (id, deliveries) VALUES (1, 0);
