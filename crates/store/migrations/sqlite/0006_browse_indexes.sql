-- The orders the web application's lists read in: projects newest year first, then by id;
-- transfers latest value date first, then by id (and of one kind).
CREATE INDEX projects_year_id ON projects (year DESC, id);
CREATE INDEX transfers_value_date_id ON transfers (value_date DESC, id);
CREATE INDEX transfers_kind_value_date ON transfers (kind, value_date DESC, id);
