//! Account and contact rules, and the errors users see when a form breaks one.
//!
//! Forms post to the server, which redirects back with `?error=<code>`; the page turns the code
//! into the message with [`FormError::from_code`]. Keeping codes and messages in one enum means
//! the server never invents text the page cannot show.

use std::fmt;

/// The longest user ID the spec allows.
pub const USER_ID_MAX: usize = 32;
/// The shortest password accepted.
pub const PASSWORD_MIN: usize = 8;
/// The longest password accepted; bounds the work a single sign-in can ask for.
pub const PASSWORD_MAX: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormError {
    UserIdEmpty,
    UserIdTooLong,
    UserIdChars,
    PasswordShort,
    PasswordLong,
    UserIdTaken,
    BadCredentials,
    /// The password given to confirm an account change is not the account's.
    WrongPassword,
    NoSuchUser,
    ContactSelf,
    ContactDuplicate,
    /// One of the two has blocked the other.
    ContactBlocked,
    ContactsFull,
    /// Answering a contact request that is not there (withdrawn, or answered already).
    NoContactRequest,
    BlockSelf,
    BlockedTooMany,
    /// Too many failed sign-ins from here or for this account.
    Throttled,
    /// Too many sign-ins at once.
    Busy,
    RegistrationClosed,
    Internal,
}

const ALL: [FormError; 20] = [
    FormError::UserIdEmpty,
    FormError::UserIdTooLong,
    FormError::UserIdChars,
    FormError::PasswordShort,
    FormError::PasswordLong,
    FormError::UserIdTaken,
    FormError::BadCredentials,
    FormError::WrongPassword,
    FormError::NoSuchUser,
    FormError::ContactSelf,
    FormError::ContactDuplicate,
    FormError::ContactBlocked,
    FormError::ContactsFull,
    FormError::NoContactRequest,
    FormError::BlockSelf,
    FormError::BlockedTooMany,
    FormError::Throttled,
    FormError::Busy,
    FormError::RegistrationClosed,
    FormError::Internal,
];

impl FormError {
    /// The short, stable code carried in the redirect's query string.
    pub fn code(self) -> &'static str {
        match self {
            Self::UserIdEmpty => "user_id_empty",
            Self::UserIdTooLong => "user_id_too_long",
            Self::UserIdChars => "user_id_chars",
            Self::PasswordShort => "password_short",
            Self::PasswordLong => "password_long",
            Self::UserIdTaken => "user_id_taken",
            Self::BadCredentials => "bad_credentials",
            Self::WrongPassword => "wrong_password",
            Self::NoSuchUser => "no_such_user",
            Self::ContactSelf => "contact_self",
            Self::ContactDuplicate => "contact_duplicate",
            Self::ContactBlocked => "contact_blocked",
            Self::ContactsFull => "contacts_full",
            Self::NoContactRequest => "no_contact_request",
            Self::BlockSelf => "block_self",
            Self::BlockedTooMany => "blocked_too_many",
            Self::Throttled => "throttled",
            Self::Busy => "busy",
            Self::RegistrationClosed => "registration_closed",
            Self::Internal => "internal",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        ALL.into_iter().find(|e| e.code() == code)
    }
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UserIdEmpty => "Enter a user ID.",
            Self::UserIdTooLong => "A user ID has at most 32 characters.",
            Self::UserIdChars => {
                "A user ID may contain only letters (a-z, A-Z), digits, hyphens (-) and underscores (_)."
            }
            Self::PasswordShort => "A password needs at least 8 characters.",
            Self::PasswordLong => "A password has at most 256 characters.",
            Self::UserIdTaken => "That user ID is taken. Please choose another.",
            // The same words for an unknown user and a wrong password, so the form does not tell
            // strangers which user IDs exist.
            Self::BadCredentials => "Wrong user ID or password.",
            Self::WrongPassword => "That is not your current password.",
            Self::NoSuchUser => "There is no user with that ID.",
            Self::ContactSelf => "You cannot add yourself as a contact.",
            Self::ContactDuplicate => "That user is already one of your contacts.",
            // The same words whichever side blocked: a blocked user learns nothing.
            Self::ContactBlocked => {
                "That user cannot be added. If you blocked them, unblock them first."
            }
            Self::ContactsFull => "You have as many contacts as you can have (1000). Remove some first.",
            Self::NoContactRequest => "That request is no longer waiting for an answer.",
            Self::BlockSelf => "You cannot block yourself.",
            Self::BlockedTooMany => "You have blocked as many users as you can. Unblock some first.",
            Self::Throttled => {
                "Too many failed sign-ins. Please wait a minute before trying again."
            }
            Self::Busy => "Too many people are signing in right now. Please try again in a moment.",
            Self::RegistrationClosed => {
                "This site does not take new sign-ups. Ask its operator for an account."
            }
            Self::Internal => "Something went wrong on our side. Please try again.",
        })
    }
}

impl std::error::Error for FormError {}

/// A user ID as the spec defines it: 1 to 32 of `a-z`, `A-Z`, `0-9`, `-`, `_`.
pub fn check_user_id(id: &str) -> Result<(), FormError> {
    if id.is_empty() {
        return Err(FormError::UserIdEmpty);
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(FormError::UserIdChars);
    }
    if id.len() > USER_ID_MAX {
        return Err(FormError::UserIdTooLong);
    }
    Ok(())
}

/// Password length in characters, not bytes, so that non-ASCII passwords are judged fairly.
pub fn check_password(password: &str) -> Result<(), FormError> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN {
        return Err(FormError::PasswordShort);
    }
    if chars > PASSWORD_MAX {
        return Err(FormError::PasswordLong);
    }
    Ok(())
}

/// Checks a contact request made by `owner`; existence and duplicates are the store's to judge.
pub fn check_contact(owner: &str, contact: &str) -> Result<(), FormError> {
    check_user_id(contact)?;
    if owner == contact {
        return Err(FormError::ContactSelf);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_follow_the_spec() {
        assert_eq!(check_user_id("alice"), Ok(()));
        assert_eq!(check_user_id("A-b_9"), Ok(()));
        assert_eq!(check_user_id(&"x".repeat(32)), Ok(()));
        assert_eq!(check_user_id(""), Err(FormError::UserIdEmpty));
        assert_eq!(
            check_user_id(&"x".repeat(33)),
            Err(FormError::UserIdTooLong)
        );
        for bad in ["a b", "a.b", "a@b", "é", "a/b", "日本"] {
            assert_eq!(check_user_id(bad), Err(FormError::UserIdChars), "{bad}");
        }
    }

    #[test]
    fn passwords_are_counted_in_characters() {
        assert_eq!(check_password("1234567"), Err(FormError::PasswordShort));
        assert_eq!(check_password("12345678"), Ok(()));
        // Eight characters, sixteen bytes.
        assert_eq!(check_password("éééééééé"), Ok(()));
        assert_eq!(check_password("ééééééé"), Err(FormError::PasswordShort));
        assert_eq!(
            check_password(&"p".repeat(257)),
            Err(FormError::PasswordLong)
        );
    }

    #[test]
    fn contacts_refuse_self_and_bad_ids() {
        assert_eq!(check_contact("alice", "bob"), Ok(()));
        assert_eq!(check_contact("alice", "alice"), Err(FormError::ContactSelf));
        // User IDs are case-sensitive, so this is someone else.
        assert_eq!(check_contact("alice", "Alice"), Ok(()));
        assert_eq!(check_contact("alice", "bob!"), Err(FormError::UserIdChars));
    }

    #[test]
    fn every_code_round_trips_and_is_unique() {
        for e in ALL {
            assert_eq!(FormError::from_code(e.code()), Some(e));
            assert!(!e.to_string().is_empty());
        }
        let mut codes: Vec<_> = ALL.iter().map(|e| e.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), ALL.len());
        assert_eq!(FormError::from_code("nonsense"), None);
    }
}
