//! Who may do what, for every front end: the API's bearer tokens and the console's sessions
//! (a token exchanged for a cookie at sign-in).

pub mod sessions;
pub mod tokens;

pub use sessions::{Session, Sessions};
pub use tokens::{Denied, Role, Tokens, OPEN_ACCESS};
