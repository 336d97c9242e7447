-- Tags on regions for the pairing model: expertise, needs, shared attributes such as climate.
CREATE TABLE region_tags (
    region     TEXT NOT NULL REFERENCES regions (code),
    tag        TEXT NOT NULL,
    provenance TEXT NOT NULL,
    source     TEXT,
    confidence TEXT,
    PRIMARY KEY (region, tag)
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'counterpart_writer') THEN
        GRANT SELECT, INSERT ON region_tags TO counterpart_writer;
    END IF;
END
$$;
