-- One row per invitee per invitation, written by the server as calls happen.

CREATE TABLE call_history (
    invite_id   TEXT NOT NULL,
    caller_id   TEXT NOT NULL,
    callee_id   TEXT NOT NULL,
    call_type   INTEGER NOT NULL,          -- 1 audio, 2 video
    is_group    INTEGER NOT NULL,          -- 0 or 1
    started_at  INTEGER NOT NULL,          -- Unix seconds
    answered_at INTEGER,
    ended_at    INTEGER,
    -- ringing, answered, declined, busy, no_answer, cancelled
    outcome     TEXT NOT NULL,
    PRIMARY KEY (invite_id, callee_id)
) STRICT;  -- with a rowid: it orders calls placed within the same second

CREATE INDEX call_history_by_caller ON call_history (caller_id, started_at);
CREATE INDEX call_history_by_callee ON call_history (callee_id, started_at);
