//! Groups: named sets of users, created by a member and visible to members only.

use std::collections::HashSet;

use app::{
    protocol::{GroupInfo, GroupMsg, Outcome, Refusal, ServerMsg},
    rules::check_user_id,
};
use sqlx::SqlitePool;

use super::switchboard::Group;

/// Most members a group may have; a call still holds at most `CALLING_MAX_CALL_SIZE`.
pub const MAX_MEMBERS: usize = 200;
pub const MAX_NAME: usize = 64;
/// Groups one user may create.
pub const MAX_OWNED: i64 = 100;
/// Groups a listing returns at most: others can add anyone to theirs, so how many groups a
/// user is in is not theirs to bound.
pub const MAX_LISTED: i64 = 100;

/// A database failure, logged here and told to the client only as a server error.
fn storage(e: sqlx::Error) -> Refusal {
    tracing::error!("groups: {e}");
    Refusal::GroupStorage
}

/// Answers a group request with its `result` or `error` frame.
pub async fn answer(db: &SqlitePool, user: &str, msg: GroupMsg, now: i64) -> ServerMsg {
    let req = msg.req();
    let outcome = match msg {
        GroupMsg::CreateGroup { name, user_ids, .. } => {
            let group_id = format!("g{:016x}", super::rand_u64());
            create(db, user, &name, &user_ids, &group_id, now)
                .await
                .map(|group_id| Outcome {
                    group_id: Some(group_id),
                    ..Outcome::default()
                })
        }
        GroupMsg::ListGroups { .. } => list(db, user).await.map(|groups| Outcome {
            groups: Some(groups),
            ..Outcome::default()
        }),
    };
    match outcome {
        Ok(outcome) => ServerMsg::Result { req, outcome },
        Err(refusal) => refusal.frame(Some(req)),
    }
}

/// Creates a group of `owner` and `members`; returns its ID.
pub async fn create(
    db: &SqlitePool,
    owner: &str,
    name: &str,
    members: &[String],
    group_id: &str,
    now: i64,
) -> Result<String, Refusal> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(Refusal::InvalidGroupName);
    }
    // Refused before any work when longer than a group can be; then linear, not quadratic.
    if members.len() > 2 * MAX_MEMBERS {
        return Err(Refusal::GroupTooLarge);
    }
    let mut all: Vec<&str> = vec![owner];
    let mut seen: std::collections::HashSet<&str> = all.iter().copied().collect();
    for m in members {
        check_user_id(m).map_err(|_| Refusal::InvalidUserId)?;
        if seen.insert(m.as_str()) {
            all.push(m);
        }
    }
    if all.len() > MAX_MEMBERS {
        return Err(Refusal::GroupTooLarge);
    }
    let owned: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM call_groups WHERE owner_id = ?")
        .bind(owner)
        .fetch_one(db)
        .await
        .map_err(storage)?;
    if owned >= MAX_OWNED {
        return Err(Refusal::TooManyGroups);
    }
    insert(db, owner, name, &all, group_id, now)
        .await
        .map_err(storage)?;
    Ok(group_id.to_owned())
}

async fn insert(
    db: &SqlitePool,
    owner: &str,
    name: &str,
    members: &[&str],
    group_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO call_groups (group_id, name, owner_id, created_at) VALUES (?, ?, ?, ?)",
    )
    .bind(group_id)
    .bind(name)
    .bind(owner)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for m in members {
        sqlx::query("INSERT INTO call_group_members (group_id, user_id) VALUES (?, ?)")
            .bind(group_id)
            .bind(m)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// The groups `user` is a member of, with their members.
pub async fn list(db: &SqlitePool, user: &str) -> Result<Vec<GroupInfo>, Refusal> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT g.group_id, g.name, m.user_id
         FROM call_groups g
         JOIN (SELECT group_id FROM call_group_members WHERE user_id = ?1 LIMIT ?2) mine
           ON mine.group_id = g.group_id
         JOIN call_group_members m ON m.group_id = g.group_id
         ORDER BY g.name COLLATE NOCASE, g.group_id, m.user_id",
    )
    .bind(user)
    .bind(MAX_LISTED)
    .fetch_all(db)
    .await
    .map_err(storage)?;
    let mut groups: Vec<GroupInfo> = Vec::new();
    for (group_id, name, member) in rows {
        match groups.last_mut() {
            Some(g) if g.group_id == group_id => g.user_ids.push(member),
            _ => groups.push(GroupInfo {
                group_id,
                name,
                user_ids: vec![member],
            }),
        }
    }
    Ok(groups)
}

/// The group's members, for a call through it; only a member may use it.
pub async fn resolve(db: &SqlitePool, user: &str, group_id: &str) -> Result<Group, Refusal> {
    let members: Vec<String> =
        sqlx::query_scalar("SELECT user_id FROM call_group_members WHERE group_id = ?")
            .bind(group_id)
            .fetch_all(db)
            .await
            .map_err(storage)?;
    if members.is_empty() {
        return Err(Refusal::NoSuchGroup);
    }
    let members: HashSet<String> = members.into_iter().collect();
    if !members.contains(user) {
        return Err(Refusal::NotGroupMember);
    }
    Ok(Group {
        id: group_id.to_owned(),
        members,
    })
}
