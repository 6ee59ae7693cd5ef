-- 0024: how far each paired desk's clock is from this desk's (issue 16, clock skew). Taken
-- when two desks meet (each link's hello carries the sender's clock): their clock minus
-- ours, in milliseconds. A record from that desk is filed under this desk's outage by its
-- time on this desk's clock, so a desk whose clock is slow still ticks the same outage.
ALTER TABLE peer ADD COLUMN clock_offset_ms INTEGER NOT NULL DEFAULT 0;
