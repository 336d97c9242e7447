-- Second factors: an account's TOTP secret (RFC 6238, base32) and the last time step whose code
-- it accepted, so that each code signs in once.
CREATE TABLE user_totp (
    user_name TEXT PRIMARY KEY REFERENCES users (name),
    secret    TEXT NOT NULL,
    last_step INTEGER NOT NULL DEFAULT 0
);
