//! The console's sessions: a bearer token exchanged at sign-in for a random session id, sent
//! back as an HttpOnly, SameSite=Strict cookie that expires. Sessions live in memory (a restart
//! signs everyone out) and are kept only as SHA-256 hashes of their ids, like tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::Role;

/// The session cookie's name.
pub const COOKIE: &str = "conftrail_session";

/// How long a session lasts after sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// Sessions kept at most; signing in beyond that ends the oldest (bounds memory).
const MAX_SESSIONS: usize = 10_000;

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The token's name (as the audit trail records it).
    pub name: String,
    /// The token's role.
    pub role: Role,
    /// The secret every write form and request of this session must carry (CSRF).
    pub csrf: String,
    /// When it ends.
    pub expires: Instant,
}

/// The live sessions.
#[derive(Debug, Default)]
pub struct Sessions {
    live: Mutex<HashMap<[u8; 32], Session>>,
}

/// Random bytes failed (the operating system's generator is unavailable).
#[derive(Debug, thiserror::Error)]
#[error("cannot draw random bytes for a session: {0}")]
pub struct RandomUnavailable(String);

/// 32 random bytes as hex.
pub fn random_hex() -> Result<String, RandomUnavailable> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| RandomUnavailable(e.to_string()))?;
    Ok(hex::encode(bytes))
}

fn hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    /// Starts a session for a token; the cookie value (the session id) and the session.
    pub fn start(&self, name: &str, role: Role) -> Result<(String, Session), RandomUnavailable> {
        let id = random_hex()?;
        let session = Session {
            name: name.to_string(),
            role,
            csrf: random_hex()?,
            expires: Instant::now() + SESSION_TTL,
        };
        let mut live = self.lock();
        let now = Instant::now();
        live.retain(|_, s| s.expires > now);
        if live.len() >= MAX_SESSIONS {
            if let Some(oldest) = live.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| *k) {
                live.remove(&oldest);
            }
        }
        live.insert(hash(&id), session.clone());
        Ok((id, session))
    }

    /// The live session a cookie value names, if any.
    pub fn get(&self, id: &str) -> Option<Session> {
        let key = hash(id);
        let mut live = self.lock();
        match live.get(&key) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                live.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Ends a session (sign-out).
    pub fn end(&self, id: &str) {
        self.lock().remove(&hash(id));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        // A panic while holding the map leaves it consistent (every change is one call).
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The session id in a `Cookie` header, if it carries ours.
pub fn session_cookie(cookie_header: &str) -> Option<&str> {
    cookie_header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
}

/// The `Set-Cookie` value that stores a session id in the browser.
pub fn set_cookie(id: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_TTL.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes it.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_by_its_id_until_it_ends() {
        let sessions = Sessions::default();
        let (id, session) = sessions.start("ops", Role::Admin).expect("random");
        assert_eq!(sessions.get(&id), Some(session.clone()));
        assert_eq!(session.csrf.len(), 64);
        assert_ne!(session.csrf, id);
        assert_eq!(sessions.get("not-a-session"), None);
        sessions.end(&id);
        assert_eq!(sessions.get(&id), None);
    }

    #[test]
    fn expired_sessions_are_refused() {
        let sessions = Sessions::default();
        let (id, _) = sessions.start("ops", Role::Read).expect("random");
        sessions
            .lock()
            .values_mut()
            .for_each(|s| s.expires = Instant::now() - Duration::from_secs(1));
        assert_eq!(sessions.get(&id), None);
    }

    #[test]
    fn the_cookie_is_read_among_others() {
        assert_eq!(
            session_cookie("a=1; conftrail_session=abc ; b=2"),
            Some("abc")
        );
        assert_eq!(session_cookie("a=1"), None);
        assert!(set_cookie("x", false).contains("HttpOnly; SameSite=Strict"));
    }
}
