//! The fields of the site's HTML forms, as the server reads them. The pages write the same
//! names into their `<input name=…>`; keeping the shapes here, with no server code, also lets
//! the parser be fuzzed on its own (`server/fuzz`). Missing fields read as empty, so that they
//! get the rule's message rather than a bare 422.

use serde::Deserialize;

/// Sign-up and sign-in.
#[derive(Debug, Deserialize)]
pub struct Credentials {
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub password: String,
}

/// Adding or removing a contact.
#[derive(Debug, Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    pub contact_id: String,
}

/// Block or unblock `user_id`, then back to the page the button was on.
#[derive(Debug, Deserialize)]
pub struct BlockForm {
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub back: String,
}

impl BlockForm {
    /// Only our own pages: never a redirect to wherever a form says.
    pub fn back(&self) -> &'static str {
        match self.back.as_str() {
            "/history" => "/history",
            _ => "/",
        }
    }
}

/// The account page's password change.
#[derive(Debug, Deserialize)]
pub struct PasswordChange {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub new_password: String,
}

/// The account page's deletion, confirmed with the password.
#[derive(Debug, Deserialize)]
pub struct Deletion {
    #[serde(default)]
    pub password: String,
}
