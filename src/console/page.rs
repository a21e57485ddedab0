//! What every page shares: the frame (title, navigation, who is signed in) and rendering.

use askama::Template;
use axum::response::Html;

use super::{PageError, Viewer};

/// The frame around a page.
pub struct Layout {
    /// The page's title.
    pub title: String,
    /// Who is looking (none on sign-in and error pages).
    pub viewer: Option<Viewer>,
    /// The navigation entry to mark as current.
    pub active: &'static str,
}

impl Layout {
    /// A page for a viewer, under a navigation entry.
    pub fn new(title: impl Into<String>, viewer: &Viewer, active: &'static str) -> Layout {
        Layout {
            title: title.into(),
            viewer: Some(viewer.clone()),
            active,
        }
    }

    /// A page shown before sign-in.
    pub fn anonymous(title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            viewer: None,
            active: "",
        }
    }

    /// The CSRF secret forms carry (empty before sign-in).
    pub fn csrf(&self) -> &str {
        self.viewer.as_ref().map_or("", |v| v.csrf.as_str())
    }

    /// Whether write controls are offered.
    pub fn admin(&self) -> bool {
        self.viewer.as_ref().is_some_and(Viewer::is_admin)
    }
}

/// Renders a template as an HTML answer.
pub fn render(template: &impl Template) -> Result<Html<String>, PageError> {
    Ok(Html(template.render()?))
}
