-- Accounts, contacts and server settings.
-- User IDs compare case-sensitively (the default BINARY collation), as the spec says.

CREATE TABLE users (
    user_id       TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,           -- argon2id, PHC string
    created_at    INTEGER NOT NULL         -- Unix seconds
) STRICT;

CREATE TABLE contacts (
    owner_id   TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner_id, contact_id)
) STRICT, WITHOUT ROWID;

-- Who has this user as a contact: the audience of their presence.
CREATE INDEX contacts_by_contact ON contacts (contact_id);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
