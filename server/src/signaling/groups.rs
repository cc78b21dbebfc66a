//! Groups: named sets of users, created by a member and visible to members only.

use std::{collections::HashSet, fmt};

use app::{protocol::GroupInfo, rules::check_user_id};
use sqlx::SqlitePool;

use super::switchboard::Group;

/// Most members a group may have; a call still holds at most `CALLING_MAX_CALL_SIZE`.
pub const MAX_MEMBERS: usize = 200;
pub const MAX_NAME: usize = 64;

#[derive(Debug)]
pub enum GroupError {
    InvalidName,
    InvalidMember,
    TooLarge,
    NotFound,
    NotMember,
    Storage(sqlx::Error),
}

impl fmt::Display for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidName => "a group name has 1 to 64 characters",
            Self::InvalidMember => "userIDList holds an invalid user ID",
            Self::TooLarge => "a group has at most 200 members",
            Self::NotFound => "there is no such group",
            Self::NotMember => "you are not a member of that group",
            Self::Storage(_) => "the group could not be read or saved",
        })
    }
}

impl From<sqlx::Error> for GroupError {
    fn from(e: sqlx::Error) -> Self {
        Self::Storage(e)
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
) -> Result<String, GroupError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(GroupError::InvalidName);
    }
    let mut all: Vec<&str> = vec![owner];
    for m in members {
        check_user_id(m).map_err(|_| GroupError::InvalidMember)?;
        if !all.contains(&m.as_str()) {
            all.push(m);
        }
    }
    if all.len() > MAX_MEMBERS {
        return Err(GroupError::TooLarge);
    }
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
    for m in all {
        sqlx::query("INSERT INTO call_group_members (group_id, user_id) VALUES (?, ?)")
            .bind(group_id)
            .bind(m)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(group_id.to_owned())
}

/// The groups `user` is a member of, with their members.
pub async fn list(db: &SqlitePool, user: &str) -> Result<Vec<GroupInfo>, GroupError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT g.group_id, g.name, m.user_id
         FROM call_groups g
         JOIN call_group_members mine ON mine.group_id = g.group_id AND mine.user_id = ?
         JOIN call_group_members m ON m.group_id = g.group_id
         ORDER BY g.name COLLATE NOCASE, g.group_id, m.user_id",
    )
    .bind(user)
    .fetch_all(db)
    .await?;
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
pub async fn resolve(db: &SqlitePool, user: &str, group_id: &str) -> Result<Group, GroupError> {
    let members: Vec<String> =
        sqlx::query_scalar("SELECT user_id FROM call_group_members WHERE group_id = ?")
            .bind(group_id)
            .fetch_all(db)
            .await?;
    if members.is_empty() {
        return Err(GroupError::NotFound);
    }
    let members: HashSet<String> = members.into_iter().collect();
    if !members.contains(user) {
        return Err(GroupError::NotMember);
    }
    Ok(Group {
        id: group_id.to_owned(),
        members,
    })
}
