-- The journal keyed by integers: each transfer and each account gets an integer key `n` beside
-- its text id, and a journal entry names its transfer and accounts by those keys, with its
-- hashes as 32-byte blobs instead of 64 hex digits. The journal's own rows shrink from about
-- 200 to about 50 bytes, and its foreign keys are checked by rowid instead of through text
-- indexes: a bulk import's journal and commit were most of its time (bench/bulk-import.sh).
-- Text ids stay the names every reader and writer uses; `n` never leaves the store.
--
-- SQLite cannot add a primary key to a table, so transfers, accounts and journal are rebuilt
-- (rows, indexes and triggers as before). Foreign keys are checked at commit.

PRAGMA defer_foreign_keys = ON;

CREATE TABLE transfers_v2 (
    n           INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    project     TEXT NOT NULL REFERENCES projects (id),
    kind        TEXT NOT NULL,
    amount_fen  INTEGER NOT NULL CHECK (amount_fen >= 0),
    currency    TEXT NOT NULL,
    value_date  TEXT NOT NULL,
    corrects    TEXT REFERENCES transfers_v2 (id),
    -- single, pending (reserved), post or void (resolving pending_of).
    phase       TEXT NOT NULL DEFAULT 'single',
    pending_of  TEXT REFERENCES transfers_v2 (id),
    provenance  TEXT NOT NULL,
    source      TEXT,
    confidence  TEXT
);
INSERT INTO transfers_v2 (id, project, kind, amount_fen, currency, value_date, corrects, phase,
    pending_of, provenance, source, confidence)
    SELECT id, project, kind, amount_fen, currency, value_date, corrects, phase, pending_of,
    provenance, source, confidence FROM transfers ORDER BY rowid;

CREATE TABLE accounts_v2 (
    n               INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    currency        TEXT NOT NULL,
    debits_posted   INTEGER NOT NULL DEFAULT 0,
    credits_posted  INTEGER NOT NULL DEFAULT 0,
    debits_pending  INTEGER NOT NULL DEFAULT 0,
    credits_pending INTEGER NOT NULL DEFAULT 0,
    closed          INTEGER NOT NULL DEFAULT 0
);
INSERT INTO accounts_v2 (id, kind, currency, debits_posted, credits_posted, debits_pending,
    credits_pending, closed)
    SELECT id, kind, currency, debits_posted, credits_posted, debits_pending, credits_pending,
    closed FROM accounts ORDER BY rowid;

CREATE TABLE journal_v2 (
    transfer      INTEGER PRIMARY KEY REFERENCES transfers_v2 (n),
    debit         INTEGER NOT NULL REFERENCES accounts_v2 (n),
    credit        INTEGER NOT NULL REFERENCES accounts_v2 (n),
    corrects_year INTEGER,
    office        TEXT NOT NULL,
    recorded_by   TEXT NOT NULL,
    sequence      INTEGER NOT NULL,
    previous_hash BLOB NOT NULL CHECK (length(previous_hash) = 32),
    hash          BLOB NOT NULL CHECK (length(hash) = 32),
    UNIQUE (office, sequence)
);
INSERT INTO journal_v2 (transfer, debit, credit, corrects_year, office, recorded_by, sequence,
    previous_hash, hash)
    SELECT t.n, d.n, c.n, j.corrects_year, j.office, j.recorded_by, j.sequence,
    unhex(j.previous_hash), unhex(j.hash)
    FROM journal j JOIN transfers_v2 t ON t.id = j.transfer
    JOIN accounts_v2 d ON d.id = j.debit JOIN accounts_v2 c ON c.id = j.credit;

DROP TABLE journal;
DROP TABLE transfers;
DROP TABLE accounts;
ALTER TABLE transfers_v2 RENAME TO transfers;
ALTER TABLE accounts_v2 RENAME TO accounts;
ALTER TABLE journal_v2 RENAME TO journal;

CREATE INDEX transfers_project ON transfers (project);
CREATE INDEX transfers_pending_of ON transfers (pending_of) WHERE pending_of IS NOT NULL;
CREATE INDEX transfers_corrects ON transfers (corrects) WHERE corrects IS NOT NULL;
CREATE INDEX transfers_value_date_id ON transfers (value_date DESC, id);
CREATE INDEX transfers_kind_value_date ON transfers (kind, value_date DESC, id);

CREATE TRIGGER transfers_no_update BEFORE UPDATE ON transfers
BEGIN
    SELECT RAISE(ABORT, 'transfers are immutable: book a reversal or an adjustment');
END;
CREATE TRIGGER transfers_no_delete BEFORE DELETE ON transfers
BEGIN
    SELECT RAISE(ABORT, 'transfers are immutable: book a reversal or an adjustment');
END;
CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts
BEGIN
    SELECT RAISE(ABORT, 'accounts are closed, never deleted');
END;
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN
    SELECT RAISE(ABORT, 'the journal is immutable');
END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN
    SELECT RAISE(ABORT, 'the journal is immutable');
END;
