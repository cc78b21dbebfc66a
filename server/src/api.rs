//! JSON endpoints for scripts and pages: UserSigs for the signed-in user, and a checker for
//! UserSigs made elsewhere (for example by a customer's backend with Tencent's libraries).

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_sessions::Session;

use crate::{db::unix_now, sessions, state::AppState, usersig};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/usersig", get(get_usersig))
        .route("/api/usersig/verify", post(verify_usersig))
}

/// The one error shape of the JSON API.
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": self.code, "message": self.message })),
        )
            .into_response()
    }
}

impl From<usersig::UserSigError> for ApiError {
    fn from(e: usersig::UserSigError) -> Self {
        use usersig::UserSigError as E;
        let code = match e {
            E::Expired => "usersig_expired",
            E::BadSignature => "usersig_bad_signature",
            E::IdentifierMismatch => "usersig_other_user",
            E::SdkAppIdMismatch => "usersig_other_sdkappid",
            _ => "usersig_malformed",
        };
        Self {
            status: StatusCode::UNAUTHORIZED,
            code,
            message: e.to_string(),
        }
    }
}

#[derive(Serialize)]
struct UserSigResponse {
    #[serde(rename = "SDKAppID")]
    sdk_app_id: u64,
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(rename = "userSig")]
    user_sig: String,
    /// Unix seconds after which the sig is refused; a page fetches a new one before then.
    #[serde(rename = "expiresAt")]
    expires_at: i64,
}

/// A sig is a credential: `no-store`, so that no cache, shared or the browser's own, keeps it.
async fn get_usersig(
    State(state): State<AppState>,
    session: Session,
) -> Result<
    (
        [(header::HeaderName, &'static str); 1],
        Json<UserSigResponse>,
    ),
    ApiError,
> {
    let Some(user_id) = sessions::current_user(&session, &state.db).await else {
        return Err(ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "not_signed_in",
            message: "Sign in to get a UserSig.".into(),
        });
    };
    // After a revocation the sig's time is the floor (at most a second ahead), so that it
    // logs in where the older ones no longer do.
    let floor = crate::self_service::sig_floor(&state.db, &user_id)
        .await
        .map_err(|e| {
            tracing::error!("reading the sig floor: {e}");
            ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: "internal",
                message: "Something went wrong on our side. Please try again.".into(),
            }
        })?;
    let now = crate::self_service::mint_time(unix_now(), floor);
    let sigs = &state.sigs;
    let body = Json(UserSigResponse {
        sdk_app_id: sigs.sdk_app_id,
        user_sig: usersig::mint(&sigs.key, sigs.sdk_app_id, &user_id, now, sigs.ttl, None),
        user_id,
        expires_at: now + sigs.ttl,
    });
    Ok(([(header::CACHE_CONTROL, "no-store")], body))
}

#[derive(Deserialize)]
struct VerifyRequest {
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(rename = "userSig")]
    user_sig: String,
}

async fn verify_usersig(
    State(state): State<AppState>,
    Json(request): Json<VerifyRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let sigs = &state.sigs;
    let sig = usersig::verify(
        &sigs.key,
        sigs.sdk_app_id,
        &request.user_id,
        &request.user_sig,
        unix_now(),
    )?;
    Ok(Json(json!({
        "valid": true,
        "userID": sig.identifier,
        "SDKAppID": sig.sdk_app_id,
        "expiresAt": sig.expires_at(),
    })))
}
