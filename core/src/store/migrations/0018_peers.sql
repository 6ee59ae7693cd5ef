-- 0018: this desk's key for the other desks, and the desks it is paired with (issue 16).
--
-- desk_self.tls_key / tls_cert: this desk's private key (PKCS#8) and self-signed
-- certificate, made once (in one transaction, so the app and the CLI never make two) and
-- kept in the encrypted file with the desk id they belong to.
ALTER TABLE desk_self ADD COLUMN tls_key BLOB;
ALTER TABLE desk_self ADD COLUMN tls_cert BLOB;

-- peer: the desks this one is paired with. Their certificates' pins live in the
-- OS keychain (`peer-pin/<this desk>/<that desk>`); this table says who they are, where
-- they were last seen and how far behind this desk's log they were.
CREATE TABLE peer (
    desk        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    address     TEXT NOT NULL,          -- host:port it listens on for paired desks
    paired_at   TEXT NOT NULL,
    unpaired_at TEXT,                   -- set: never accepted again
    last_seen   TEXT,                   -- the last message from it
    behind      INTEGER                 -- records this desk held that it lacked, then
) STRICT;
