-- 0026: column mappings for vendors' CSV exports (issue 19). Staff say once which column of
-- an export Tsunagi does not know is the date, the name, …; the desk remembers it by the
-- file's header line (`header_key`: the cells NFKC-normalised, trimmed, lower case) and by
-- the name staff gave it (`tsunagi-cli import csv FILE --mapping NAME`, the watched folder).
CREATE TABLE csv_mapping (
    name TEXT PRIMARY KEY NOT NULL,
    header_key TEXT NOT NULL UNIQUE,
    -- The header as the file had it (JSON array of strings), to show.
    header TEXT NOT NULL,
    -- `csv_import::ColumnMapping` as JSON.
    columns TEXT NOT NULL,
    saved_at TEXT NOT NULL
) STRICT;

-- The watched export folder: each file the desk has read there, so a restart does not
-- import it again and the window can say what was imported or refused (with the problems'
-- line numbers). A file is read again only when its content changes (`sha256`).
CREATE TABLE folder_import (
    file_name TEXT PRIMARY KEY NOT NULL,
    sha256 TEXT NOT NULL,
    -- The file's own time (UTC): the data's age.
    modified_at TEXT NOT NULL,
    read_at TEXT NOT NULL,
    -- 'imported' or 'refused'.
    outcome TEXT NOT NULL CHECK (outcome IN ('imported', 'refused')),
    appointments INTEGER,
    -- `csv_import::ImportProblem`s as JSON (line numbers and kinds, no patient data).
    problems TEXT NOT NULL DEFAULT '[]'
) STRICT;

-- A change the upstream has no place for (ORCA keeps no call outcomes, receipts or
-- check-ins from outside): settled on the desk as kept here, never as sent. It stays in
-- the reconciliation view and its CSV. Read as the resolution 'kept_here'.
ALTER TABLE outbox ADD COLUMN kept_here INTEGER NOT NULL DEFAULT 0 CHECK (kept_here IN (0, 1));
