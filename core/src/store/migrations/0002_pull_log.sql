-- 0002: every pull attempt, successful or not, so status can say when the mirror was last
-- refreshed and why the last attempt failed.

CREATE TABLE pull_log (
    id           INTEGER PRIMARY KEY,
    started_at   TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    source_kind  TEXT NOT NULL,
    ok           INTEGER NOT NULL CHECK (ok IN (0, 1)),
    error_code   TEXT,           -- CoreError::code() when ok = 0
    error_text   TEXT,           -- its message (never personal data)
    appointments INTEGER,        -- rows in the pulled window when ok = 1
    patients     INTEGER
) STRICT;
