-- 0003: cheap refreshes. `since` is where the next "has anything changed?" check starts
-- (the upstream's own clock at the last full pull); `changed` tells a full replace (1) from
-- a pull that found nothing new (0).

ALTER TABLE mirror_source ADD COLUMN since TEXT;
ALTER TABLE pull_log ADD COLUMN changed INTEGER CHECK (changed IN (0, 1));
