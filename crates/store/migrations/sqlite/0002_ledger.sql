-- The double-entry ledger over the transfers: accounts with cached balances, and a journal
-- entry per transfer with its accounts, phase and place in its office's hash chain.

CREATE TABLE accounts (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    currency        TEXT NOT NULL,
    debits_posted   INTEGER NOT NULL DEFAULT 0,
    credits_posted  INTEGER NOT NULL DEFAULT 0,
    debits_pending  INTEGER NOT NULL DEFAULT 0,
    credits_pending INTEGER NOT NULL DEFAULT 0,
    closed          INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE journal (
    transfer      TEXT PRIMARY KEY REFERENCES transfers (id),
    debit         TEXT NOT NULL REFERENCES accounts (id),
    credit        TEXT NOT NULL REFERENCES accounts (id),
    corrects_year INTEGER,
    office        TEXT NOT NULL,
    recorded_by   TEXT NOT NULL,
    sequence      INTEGER NOT NULL,
    previous_hash TEXT NOT NULL,
    hash          TEXT NOT NULL,
    UNIQUE (office, sequence)
);

CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN
    SELECT RAISE(ABORT, 'the journal is immutable');
END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN
    SELECT RAISE(ABORT, 'the journal is immutable');
END;

-- The last link of each office's chain: locked by a posting, so an office's entries are
-- numbered one at a time.
CREATE TABLE chain_heads (
    office   TEXT PRIMARY KEY,
    sequence INTEGER NOT NULL,
    hash     TEXT NOT NULL
);

CREATE TABLE closed_years (
    year INTEGER PRIMARY KEY
);
