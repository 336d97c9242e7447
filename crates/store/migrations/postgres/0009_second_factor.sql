-- Second factors: an account's TOTP secret (RFC 6238, base32) and the last time step whose code
-- it accepted, so that each code signs in once.
CREATE TABLE user_totp (
    user_name TEXT PRIMARY KEY REFERENCES users (name),
    secret    TEXT NOT NULL,
    last_step BIGINT NOT NULL DEFAULT 0
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'counterpart_writer') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON user_totp TO counterpart_writer;
    END IF;
END
$$;
