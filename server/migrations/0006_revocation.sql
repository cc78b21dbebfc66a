-- Revoking what a user was given: sessions signed in before `sessions_valid_from` (Unix
-- milliseconds) are signed out, by a password change or "sign out everywhere".
ALTER TABLE users ADD COLUMN sessions_valid_from INTEGER NOT NULL DEFAULT 0;

-- UserSigs made before `valid_from` (Unix seconds, the sig's own TLS.time) no longer log in.
-- Apart from `users` so that it outlives a deleted account: its ID may be registered again,
-- and the old sigs must not work for the new owner.
CREATE TABLE sig_floors (
    user_id    TEXT PRIMARY KEY NOT NULL,
    valid_from INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
