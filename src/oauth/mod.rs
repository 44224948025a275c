//! The OAuth 2.0 vocabulary of the authorization code grant as Marketing Cloud speaks it:
//! building the authorize URL, the token requests, their responses and error codes, and PKCE.

pub mod authorize;
pub mod encoding;
pub mod entropy;
pub mod error;
pub mod pkce;
pub mod token;

pub use authorize::{AuthorizationResponse, AuthorizeRequest};
pub use error::OAuthErrorCode;
pub use pkce::Pkce;
pub use token::{GrantType, TokenRequest, TokenResponse};
