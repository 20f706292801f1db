//! API tokens. SKELETON: being written.

use crate::{auth::CurrentUser, error::ApiError};
use app::wire::TokenInfo;
use axum::Json;

pub async fn list(_user: CurrentUser) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    Err(ApiError::NotFound { what: "API route" })
}
pub async fn create(_user: CurrentUser) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    Err(ApiError::NotFound { what: "API route" })
}
pub async fn revoke(_user: CurrentUser) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    Err(ApiError::NotFound { what: "API route" })
}
