//! Which resource a link or a form names: type and id, with account and region when several
//! accounts or regions have that id.

use serde::Deserialize;

use super::format::resource_link;
use super::PageError;
use crate::query::ResourceSelector;

/// A resource as links and forms spell it (`type`, `id`, `account`, `region`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Which {
    /// Resource type.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Resource id.
    pub id: String,
    /// Account (optional).
    pub account: String,
    /// Region (optional).
    pub region: String,
}

impl Which {
    /// The selector: type and id required (the error names the missing one), account and
    /// region optional.
    pub fn selector(&self) -> Result<ResourceSelector, PageError> {
        let resource_type = self.resource_type.trim();
        let id = self.id.trim();
        if resource_type.is_empty() {
            return Err(PageError::bad_request(
                "type: give the resource type, e.g. AWS::EC2::SecurityGroup",
            ));
        }
        if id.is_empty() {
            return Err(PageError::bad_request("id: give the resource id"));
        }
        let optional = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        Ok(ResourceSelector {
            resource_type: resource_type.to_string(),
            resource_id: id.to_string(),
            account_id: optional(&self.account),
            region: optional(&self.region),
        })
    }

    /// The link to its page.
    pub fn link(&self) -> String {
        resource_link(&self.resource_type, &self.id, &self.account, &self.region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: PageError) -> String {
        match e {
            PageError::Status(_, message) => message,
            PageError::SignIn(_) => String::new(),
        }
    }

    #[test]
    fn a_selector_is_trimmed_and_names_what_is_missing() {
        let which = Which {
            resource_type: " AWS::EC2::SecurityGroup ".into(),
            id: "sg-1".into(),
            account: String::new(),
            region: "eu-west-1".into(),
        };
        let sel = which.selector().expect("selector");
        assert_eq!(sel.resource_type, "AWS::EC2::SecurityGroup");
        assert_eq!(sel.account_id, None);
        assert_eq!(sel.region.as_deref(), Some("eu-west-1"));
        let no_id = Which {
            id: " ".into(),
            ..which
        };
        assert!(message(no_id.selector().unwrap_err()).starts_with("id:"));
        assert!(message(Which::default().selector().unwrap_err()).starts_with("type:"));
    }
}
