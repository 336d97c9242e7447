-- Tags on regions for the pairing model: expertise, needs, shared attributes such as climate.
CREATE TABLE region_tags (
    region     TEXT NOT NULL REFERENCES regions (code),
    tag        TEXT NOT NULL,
    provenance TEXT NOT NULL,
    source     TEXT,
    confidence TEXT,
    PRIMARY KEY (region, tag)
);
