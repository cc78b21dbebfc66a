-- Who each user has blocked. The blocked need not have an account here: strangers whose sigs a
-- customer's backend mints can call too.

CREATE TABLE blocks (
    owner_id   TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    blocked_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner_id, blocked_id)
) STRICT, WITHOUT ROWID;

-- Whom a caller is blocked by, looked up at every call.
CREATE INDEX blocks_by_blocked ON blocks (blocked_id);
