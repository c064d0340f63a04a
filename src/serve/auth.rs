//! Bearer keys: who is asking, what they may see, and how fast they may ask. A failure is
//! logged as a warning (with the client's address, never the token) and counted.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use secrecy::SecretString;

use super::ClientAddr;
use super::api::ApiError;
use super::state::State;
use crate::audit::Caller as AuditCaller;
use crate::registry::keys::ApiKey;

/// An authenticated request: its key and where it came from.
pub struct Caller {
    pub key: ApiKey,
    pub client: String,
}

impl Caller {
    /// How the audit log names this caller.
    pub fn audit(&self) -> AuditCaller {
        AuditCaller {
            api_key: self.key.prefix.clone(),
            client: self.client.clone(),
        }
    }

    /// Register, edit and delete are for admin keys only.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.key.admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "key {} may not register, edit or delete sources: make one with `tdb key create NAME --admin`",
                self.key.prefix
            )))
        }
    }
}

impl FromRequestParts<Arc<State>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &Arc<State>) -> Result<Self, ApiError> {
        let client = parts
            .extensions
            .get::<ClientAddr>()
            .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string());
        let refuse = |why: &str| {
            st.metrics.auth_failed();
            tracing::warn!(%client, path = %parts.uri.path(), "refused: {why}");
            ApiError::Unauthorized(why.to_string())
        };
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(refuse(
                "missing API key: send `Authorization: Bearer tdbk_…`",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| SecretString::from(t.trim().to_string()));
        let Some(token) = token else {
            return Err(refuse(
                "malformed Authorization header: send `Authorization: Bearer tdbk_…`",
            ));
        };
        let found = st.keys()?.authenticate(&token)?;
        let Some(key) = found else {
            return Err(refuse("invalid or revoked API key"));
        };
        if let Err(retry_after_s) = st.limits.admit(&key) {
            st.metrics.rate_limited();
            tracing::warn!(%client, key = %key.prefix, "rate limit exceeded");
            return Err(ApiError::RateLimited { retry_after_s });
        }
        if st.limits.due_for_touch(&key.id)
            && let Err(e) = st.keys()?.touch_key(&key.id)
        {
            tracing::warn!(key = %key.prefix, "cannot record the key's last use: {e}");
        }
        Ok(Caller { key, client })
    }
}
