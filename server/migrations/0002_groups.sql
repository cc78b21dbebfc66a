-- Named sets of users for groupCall's groupID. Members need not have an account here: a
-- customer's backend may mint UserSigs for users this site never saw sign up.

CREATE TABLE call_groups (
    group_id   TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    owner_id   TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE call_group_members (
    group_id TEXT NOT NULL REFERENCES call_groups (group_id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX call_group_members_by_user ON call_group_members (user_id);
