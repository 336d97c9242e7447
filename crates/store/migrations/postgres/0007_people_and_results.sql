-- Projects: the people they serve. People: titles and languages; posts: the languages they work in; postings: the group-style
-- medical team they belong to. Institution pairs under the county pairs, local staff trained,
-- and the dated steps of each project's life.
ALTER TABLE people ADD COLUMN title TEXT;
ALTER TABLE people ADD COLUMN languages TEXT;
ALTER TABLE posts ADD COLUMN languages TEXT;
ALTER TABLE postings ADD COLUMN team TEXT;
ALTER TABLE projects ADD COLUMN beneficiaries BIGINT CHECK (beneficiaries >= 0);
CREATE INDEX postings_team ON postings (team);

CREATE TABLE institution_pairs (
    id                   TEXT PRIMARY KEY,
    provider             TEXT NOT NULL REFERENCES regions (code),
    provider_institution TEXT NOT NULL,
    recipient            TEXT NOT NULL REFERENCES regions (code),
    host_institution     TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    first_year           BIGINT NOT NULL,
    last_year            BIGINT,
    provenance           TEXT NOT NULL,
    source               TEXT,
    confidence           TEXT
);

CREATE TABLE trainings (
    id               TEXT PRIMARY KEY,
    provider         TEXT NOT NULL REFERENCES regions (code),
    recipient        TEXT NOT NULL REFERENCES regions (code),
    host_institution TEXT NOT NULL,
    specialty        TEXT NOT NULL,
    year             BIGINT NOT NULL,
    trained          BIGINT NOT NULL CHECK (trained >= 0),
    provenance       TEXT NOT NULL,
    source           TEXT,
    confidence       TEXT
);
CREATE INDEX trainings_recipient ON trainings (recipient, year);

-- Append-only: a step once recorded stays; the project's status is its latest step.
CREATE TABLE project_steps (
    project    TEXT NOT NULL REFERENCES projects (id),
    status     TEXT NOT NULL,
    date       TEXT NOT NULL,
    provenance TEXT NOT NULL,
    source     TEXT,
    confidence TEXT,
    PRIMARY KEY (project, status)
);
CREATE TRIGGER project_steps_no_update BEFORE UPDATE OR DELETE ON project_steps
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse('a project step is final');
REVOKE UPDATE, DELETE, TRUNCATE ON project_steps FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'counterpart_writer') THEN
        GRANT SELECT, INSERT ON project_steps, institution_pairs, trainings TO counterpart_writer;
        GRANT UPDATE (status) ON projects TO counterpart_writer;
    END IF;
END
$$;
