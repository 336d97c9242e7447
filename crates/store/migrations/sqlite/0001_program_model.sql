-- The program model. Every table that holds figures keeps their provenance:
-- provenance in ('published','recorded','simulated'), with source and confidence when published.

CREATE TABLE program (
    code                   TEXT PRIMARY KEY,
    name_en                TEXT NOT NULL,
    name_zh                TEXT NOT NULL,
    currency               TEXT NOT NULL,
    first_year             INTEGER NOT NULL,
    last_year              INTEGER NOT NULL,
    livelihood_share_min   TEXT NOT NULL,
    county_level_share_min TEXT NOT NULL,
    rules_source           TEXT NOT NULL
);

CREATE TABLE quota_periods (
    first_year   INTEGER PRIMARY KEY,
    last_year    INTEGER NOT NULL,
    indicator    TEXT NOT NULL,
    base_year    INTEGER,
    growth       TEXT NOT NULL,
    growth_years INTEGER NOT NULL,
    rate_min     TEXT NOT NULL,
    rate_max     TEXT NOT NULL,
    provenance   TEXT NOT NULL,
    source       TEXT,
    confidence   TEXT
);

CREATE TABLE regions (
    code       TEXT PRIMARY KEY,
    parent     TEXT REFERENCES regions (code),
    kind       TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    name_zh    TEXT NOT NULL,
    admin_code TEXT
);
CREATE INDEX regions_parent ON regions (parent);

CREATE TABLE provider_rates (
    provider          TEXT NOT NULL REFERENCES regions (code),
    period_first_year INTEGER NOT NULL REFERENCES quota_periods (first_year),
    rate              TEXT NOT NULL,
    provenance        TEXT NOT NULL,
    source            TEXT,
    confidence        TEXT,
    PRIMARY KEY (provider, period_first_year)
);

CREATE TABLE pairs (
    provider   TEXT NOT NULL REFERENCES regions (code),
    recipient  TEXT NOT NULL REFERENCES regions (code),
    first_year INTEGER NOT NULL,
    last_year  INTEGER,
    provenance TEXT NOT NULL,
    source     TEXT,
    confidence TEXT,
    note       TEXT NOT NULL,
    PRIMARY KEY (provider, recipient, first_year)
);

CREATE TABLE indicators (
    region     TEXT NOT NULL REFERENCES regions (code),
    indicator  TEXT NOT NULL,
    year       INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    value      INTEGER NOT NULL,
    provenance TEXT NOT NULL,
    source     TEXT,
    confidence TEXT,
    PRIMARY KEY (region, indicator, year, version)
);

CREATE TABLE facts (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    unit       TEXT NOT NULL,
    period     TEXT NOT NULL,
    confidence TEXT NOT NULL,
    source     TEXT NOT NULL,
    note       TEXT NOT NULL
);

CREATE TABLE projects (
    id             TEXT PRIMARY KEY,
    provider       TEXT NOT NULL REFERENCES regions (code),
    recipient      TEXT NOT NULL REFERENCES regions (code),
    category       TEXT NOT NULL,
    status         TEXT NOT NULL,
    title_en       TEXT NOT NULL,
    title_zh       TEXT NOT NULL,
    year           INTEGER NOT NULL,
    budget_fen     INTEGER NOT NULL CHECK (budget_fen >= 0),
    housing_units  INTEGER NOT NULL,
    school_places  INTEGER NOT NULL,
    hospital_beds  INTEGER NOT NULL,
    jobs           INTEGER NOT NULL,
    people_trained INTEGER NOT NULL,
    provenance     TEXT NOT NULL,
    source         TEXT,
    confidence     TEXT
);
CREATE INDEX projects_provider_year ON projects (provider, year);
CREATE INDEX projects_recipient ON projects (recipient);

-- Money movements: append-only. The ledger issue adds accounts and balances on this shape.
CREATE TABLE transfers (
    id          TEXT PRIMARY KEY,
    project     TEXT NOT NULL REFERENCES projects (id),
    kind        TEXT NOT NULL,
    amount_fen  INTEGER NOT NULL CHECK (amount_fen >= 0),
    currency    TEXT NOT NULL,
    value_date  TEXT NOT NULL,
    corrects    TEXT REFERENCES transfers (id),
    -- single, pending (reserved), post or void (resolving pending_of).
    phase       TEXT NOT NULL DEFAULT 'single',
    pending_of  TEXT REFERENCES transfers (id),
    provenance  TEXT NOT NULL,
    source      TEXT,
    confidence  TEXT
);
CREATE INDEX transfers_project ON transfers (project);

CREATE TRIGGER transfers_no_update BEFORE UPDATE ON transfers
BEGIN
    SELECT RAISE(ABORT, 'transfers are immutable: book a reversal or an adjustment');
END;
CREATE TRIGGER transfers_no_delete BEFORE DELETE ON transfers
BEGIN
    SELECT RAISE(ABORT, 'transfers are immutable: book a reversal or an adjustment');
END;

CREATE TABLE people (
    id               TEXT PRIMARY KEY,
    provider         TEXT NOT NULL REFERENCES regions (code),
    home_institution TEXT NOT NULL,
    specialty        TEXT NOT NULL,
    provenance       TEXT NOT NULL,
    source           TEXT,
    confidence       TEXT
);

CREATE TABLE posts (
    id               TEXT PRIMARY KEY,
    recipient        TEXT NOT NULL REFERENCES regions (code),
    host_institution TEXT NOT NULL,
    specialty        TEXT NOT NULL,
    seats            INTEGER NOT NULL CHECK (seats > 0),
    provenance       TEXT NOT NULL,
    source           TEXT,
    confidence       TEXT
);

CREATE TABLE postings (
    id         TEXT PRIMARY KEY,
    person     TEXT NOT NULL REFERENCES people (id),
    post       TEXT NOT NULL REFERENCES posts (id),
    role       TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date   TEXT NOT NULL,
    batch      INTEGER,
    provenance TEXT NOT NULL,
    source     TEXT,
    confidence TEXT,
    CHECK (end_date >= start_date)
);
CREATE INDEX postings_person ON postings (person);
CREATE INDEX postings_post ON postings (post);

CREATE TABLE targets (
    id         TEXT PRIMARY KEY,
    region     TEXT NOT NULL REFERENCES regions (code),
    indicator  TEXT NOT NULL,
    value      INTEGER NOT NULL,
    deadline   TEXT NOT NULL,
    provenance TEXT NOT NULL,
    source     TEXT,
    confidence TEXT
);

CREATE TABLE purchases (
    id         TEXT PRIMARY KEY,
    provider   TEXT NOT NULL REFERENCES regions (code),
    recipient  TEXT NOT NULL REFERENCES regions (code),
    year       INTEGER NOT NULL,
    product    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    value_fen  INTEGER NOT NULL CHECK (value_fen >= 0),
    provenance TEXT NOT NULL,
    source     TEXT,
    confidence TEXT
);

CREATE TABLE exchanges (
    id         TEXT PRIMARY KEY,
    recipient  TEXT NOT NULL REFERENCES regions (code),
    provider   TEXT NOT NULL REFERENCES regions (code),
    year       INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    people     INTEGER NOT NULL CHECK (people >= 0),
    provenance TEXT NOT NULL,
    source     TEXT,
    confidence TEXT
);
