-- 0014: bookings made upstream during an outage (issue 17). The first pull after an outage
-- marks the appointments the clinic's system booked ('new') or changed ('changed') since
-- the desk last saw it; they go to the top of the call list: those patients booked a
-- morning that may not happen.
ALTER TABLE appointment ADD COLUMN upstream_news TEXT CHECK (upstream_news IN ('new', 'changed'));
-- When that first pull after the outage was made (NULL: not yet).
ALTER TABLE incident ADD COLUMN news_checked_at TEXT;
UPDATE incident SET news_checked_at = ended_at WHERE ended_at IS NOT NULL;
