-- When the user last looked at their call history: calls missed after it are flagged.
ALTER TABLE users ADD COLUMN history_seen_at INTEGER NOT NULL DEFAULT 0;
