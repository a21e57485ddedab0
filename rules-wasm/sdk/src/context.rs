//! Why and how the rule is being run, with typed access to its parameters.

use std::fmt::Display;
use std::str::FromStr;

use serde_json::value::RawValue;

use crate::net::PortList;
use crate::raw::{self, Trigger};
use crate::Item;

/// The context of one evaluation: rule name, trigger, parameters, previous version.
///
/// Parameters are AWS-style strings (`{"blockedPort1": "22"}`); numbers and booleans given
/// as JSON are read as their text, `null` as absent. Getters that parse return
/// `Err("parameter NAME: ...")`, ready to be returned from `evaluate` with `?`.
#[derive(Debug, Clone)]
pub struct Context {
    rule_name: String,
    trigger: Trigger,
    parameters_json: String,
    params: Vec<(String, String)>,
    previous: Option<Item>,
}

impl Context {
    /// Wraps the record the host passed. Fails when `parameters` is not a JSON object.
    pub fn from_raw(raw: raw::Context) -> Result<Context, String> {
        let params = parse_parameters(&raw.parameters)?;
        Ok(Context {
            rule_name: raw.rule_name,
            trigger: raw.trigger,
            parameters_json: raw.parameters,
            params,
            previous: raw.previous.map(Item::from_raw),
        })
    }

    /// A context for tests: no parameters, no previous version.
    pub fn new(rule_name: &str, trigger: Trigger) -> Context {
        Context {
            rule_name: rule_name.to_string(),
            trigger,
            parameters_json: "{}".to_string(),
            params: Vec::new(),
            previous: None,
        }
    }

    /// Adds (or replaces) a parameter; for tests.
    pub fn with_param(mut self, name: &str, value: &str) -> Context {
        self.params.retain(|(n, _)| n != name);
        self.params.push((name.to_string(), value.to_string()));
        let map: serde_json::Map<String, serde_json::Value> = self
            .params
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone())))
            .collect();
        self.parameters_json = serde_json::Value::Object(map).to_string();
        self
    }

    /// Sets the previous version; for tests.
    pub fn with_previous(mut self, previous: Item) -> Context {
        self.previous = Some(previous);
        self
    }

    /// The name the rule is registered under.
    pub fn rule_name(&self) -> &str {
        &self.rule_name
    }

    /// What caused this evaluation.
    pub fn trigger(&self) -> Trigger {
        self.trigger
    }

    /// The version before this one (change triggers of rules whose metadata asks for it).
    pub fn previous(&self) -> Option<&Item> {
        self.previous.as_ref()
    }

    /// The parameters as the host passed them (a JSON object).
    pub fn parameters_json(&self) -> &str {
        &self.parameters_json
    }

    /// All parameters, in the order given.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The value of a parameter as given (not trimmed); `None` when absent or null.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The trimmed value of a parameter, or `default` when it is absent or blank.
    pub fn param_or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.param_nonempty(name).unwrap_or(default)
    }

    /// The trimmed value of a parameter; `None` when absent, null or blank.
    pub fn param_nonempty(&self, name: &str) -> Option<&str> {
        self.param(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// The comma-separated values of a parameter, trimmed, blanks skipped (empty when absent).
    pub fn param_csv(&self, name: &str) -> Vec<&str> {
        self.param(name)
            .map(|v| crate::net::csv(v).collect())
            .unwrap_or_default()
    }

    /// A parameter parsed with `FromStr`; `Ok(None)` when absent or blank.
    pub fn param_parse<T>(&self, name: &str) -> Result<Option<T>, String>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.param_nonempty(name) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|e| format!("parameter {name}: {e} (got {v:?})")),
        }
    }

    /// A boolean parameter (`true` / `false`, case-insensitive); `Ok(None)` when absent or blank.
    pub fn param_bool(&self, name: &str) -> Result<Option<bool>, String> {
        match self.param_nonempty(name) {
            None => Ok(None),
            Some(v) => crate::json::parse_bool(v)
                .map(Some)
                .ok_or_else(|| format!("parameter {name}: expected true or false, got {v:?}")),
        }
    }

    /// A port number (0-65535); `Ok(None)` when absent or blank.
    pub fn param_port(&self, name: &str) -> Result<Option<u16>, String> {
        match self.param_nonempty(name) {
            None => Ok(None),
            Some(v) => crate::net::parse_port(v)
                .map(Some)
                .map_err(|e| format!("parameter {name}: {e}")),
        }
    }

    /// A list of ports and ranges (`"443,1020-1025"`); `Ok(None)` when absent or blank.
    pub fn param_ports(&self, name: &str) -> Result<Option<PortList>, String> {
        match self.param_nonempty(name) {
            None => Ok(None),
            Some(v) => PortList::parse(v)
                .map(Some)
                .map_err(|e| format!("parameter {name}: {e}")),
        }
    }
}

/// `{"name": "value", ...}` → pairs. Non-string values keep their JSON text; null is dropped.
fn parse_parameters(json: &str) -> Result<Vec<(String, String)>, String> {
    let t = json.trim();
    if t.is_empty() || t == "{}" || t == "null" {
        return Ok(Vec::new());
    }
    let map: Vec<(String, &RawValue)> = serde_json::from_str::<crate::json::RawEntries>(t)
        .map_err(|e| format!("parameters: not a JSON object ({e})"))?
        .0;
    let mut out = Vec::with_capacity(map.len());
    for (name, value) in map {
        let text = value.get().trim();
        if text == "null" {
            continue;
        }
        let value = if text.starts_with('"') {
            serde_json::from_str::<String>(text).map_err(|e| format!("parameter {name}: {e}"))?
        } else {
            text.to_string()
        };
        out.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(params: &str) -> Result<Context, String> {
        Context::from_raw(raw::Context {
            rule_name: "r".into(),
            parameters: params.into(),
            trigger: Trigger::Manual,
            previous: None,
        })
    }

    #[test]
    fn parameters_are_read_as_aws_strings() {
        let c = ctx(r#"{"a":"22","b":443,"c":true,"d":null,"e":"  ","f":" x "}"#).unwrap();
        assert_eq!(c.param("a"), Some("22"));
        assert_eq!(c.param("b"), Some("443"));
        assert_eq!(c.param("c"), Some("true"));
        assert_eq!(c.param("d"), None);
        assert_eq!(c.param("e"), Some("  "));
        assert_eq!(c.param_nonempty("e"), None);
        assert_eq!(c.param_or("e", "dflt"), "dflt");
        assert_eq!(c.param_or("f", "dflt"), "x");
        assert_eq!(c.param_or("zz", "dflt"), "dflt");
        assert_eq!(c.param_port("b").unwrap(), Some(443));
        assert_eq!(c.param_bool("c").unwrap(), Some(true));
        assert_eq!(c.param_parse::<u32>("a").unwrap(), Some(22));
        assert_eq!(c.param_parse::<u32>("missing").unwrap(), None);
        assert!(c
            .param_parse::<u32>("f")
            .unwrap_err()
            .starts_with("parameter f: "));
        assert_eq!(
            c.param_bool("f").unwrap_err(),
            "parameter f: expected true or false, got \"x\""
        );
        assert_eq!(c.params().count(), 5);
    }

    #[test]
    fn empty_and_bad_parameters() {
        assert_eq!(ctx("").unwrap().params().count(), 0);
        assert_eq!(ctx("{}").unwrap().params().count(), 0);
        assert_eq!(ctx("null").unwrap().params().count(), 0);
        assert!(ctx("[1]")
            .unwrap_err()
            .starts_with("parameters: not a JSON object"));
        assert!(ctx("{").is_err());
    }

    #[test]
    fn ports_parameters() {
        let c = ctx(r#"{"p":"443, 1020-1025","bad":"22,abc","port":"70000"}"#).unwrap();
        assert_eq!(
            c.param_ports("p").unwrap().unwrap().to_string(),
            "443,1020-1025"
        );
        assert_eq!(
            c.param_ports("bad").unwrap_err(),
            "parameter bad: \"abc\" is not a port number (0-65535)"
        );
        assert_eq!(
            c.param_port("port").unwrap_err(),
            "parameter port: \"70000\" is not a port number (0-65535)"
        );
        assert_eq!(c.param_csv("p"), vec!["443", "1020-1025"]);
    }

    #[test]
    fn test_builders() {
        let c = Context::new("x", Trigger::Change)
            .with_param("a", "1")
            .with_param("a", "2")
            .with_param("b", "q\"");
        assert_eq!(c.param("a"), Some("2"));
        assert_eq!(c.parameters_json(), r#"{"a":"2","b":"q\""}"#);
    }
}
