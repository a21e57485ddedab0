//! Who may do what, for every front end: the API's bearer tokens and the console's sessions
//! (a token exchanged for a cookie at sign-in), and the audit of refused authentications.

pub mod refusals;
pub mod sessions;
pub mod tokens;

pub use refusals::Refusals;
pub use sessions::{Session, Sessions};
pub use tokens::{Denied, Role, Tokens, OPEN_ACCESS};
