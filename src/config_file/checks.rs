//! The checks of settings that need more than their types: one place, used by the file's
//! parse and by the conversions that API request bodies and CLI flags go through.

use std::collections::{BTreeMap, HashSet};

use clap::ValueEnum;

use super::{
    ActionKind, AwsOperation, CollectorSettings, NotificationKind, RemediationSettings,
    SubscriptionSettings, TokenEntry, TrailSettings,
};

/// A failed check: dotted key and message.
/// Compliance types a subscription can filter on.
const COMPLIANCE_TYPES: [&str; 4] = [
    "COMPLIANT",
    "NON_COMPLIANT",
    "NOT_APPLICABLE",
    "INSUFFICIENT_DATA",
];

pub(crate) type Problem = (String, String);

/// Each token has one source of its hash, a well-formed hash, and a unique hash and name.
pub(super) fn check_tokens(tokens: &[TokenEntry]) -> Result<(), Problem> {
    let mut hashes = HashSet::new();
    let mut names = HashSet::new();
    for (i, token) in tokens.iter().enumerate() {
        let at = format!("tokens[{i}]");
        match (&token.sha256, &token.secret_env) {
            (Some(_), Some(_)) => {
                return Err((at, "set only one of sha256 and secret_env".into()));
            }
            (None, None) => {
                return Err((at, "set one of sha256 and secret_env".into()));
            }
            (Some(hash), None) => {
                if hex::decode_to_slice(hash, &mut [0u8; 32]).is_err() {
                    return Err((
                        format!("{at}.sha256"),
                        "must be 64 hex digits (the SHA-256 of the secret)".into(),
                    ));
                }
                if hash.eq_ignore_ascii_case(crate::model::EMPTY_SHA256) {
                    return Err((
                        format!("{at}.sha256"),
                        "is the SHA-256 of an empty secret; hash a long random secret".into(),
                    ));
                }
                // One secret with two roles would make the role depend on entry order.
                if !hashes.insert(hash.to_ascii_lowercase()) {
                    return Err((
                        format!("{at}.sha256"),
                        "the same hash is given for an earlier token".into(),
                    ));
                }
            }
            (None, Some(var)) => {
                if var.trim().is_empty() || var.contains('=') || var.contains('\0') {
                    return Err((
                        format!("{at}.secret_env"),
                        "is not an environment variable name".into(),
                    ));
                }
            }
        }
        if let Some(name) = &token.name {
            if name.trim().is_empty() {
                return Err((format!("{at}.name"), "is empty".into()));
            }
            // The name stands for the token in logs, so two tokens must not share one.
            if !names.insert(name.as_str()) {
                return Err((
                    format!("{at}.name"),
                    format!("{name:?} is used by an earlier token"),
                ));
            }
        }
    }
    Ok(())
}

/// Keys fit the action kind; counts are at least 1. The one check of a rule's remediation,
/// whether it comes from this file, an API request body or the CLI's flags.
pub(crate) fn check_remediation(at: &str, settings: &RemediationSettings) -> Result<(), Problem> {
    let key = |name: &str| format!("{at}.{name}");
    let webhook_keys = [
        ("url", settings.url.is_some()),
        ("headers", !settings.headers.is_empty()),
        ("header_env", !settings.header_env.is_empty()),
        ("header_file", !settings.header_file.is_empty()),
        ("signing_secret", settings.signing_secret.is_some()),
        ("signing_secret_env", settings.signing_secret_env.is_some()),
        (
            "signing_secret_file",
            settings.signing_secret_file.is_some(),
        ),
    ];
    let command_keys = [
        ("command", settings.command.is_some()),
        (
            "no_retry_exit_codes",
            !settings.no_retry_exit_codes.is_empty(),
        ),
    ];
    let aws_keys = [("operation", settings.operation.is_some())];
    let families = [
        (ActionKind::Webhook, "webhook", &webhook_keys[..]),
        (ActionKind::Command, "command", &command_keys[..]),
        (ActionKind::Aws, "aws", &aws_keys[..]),
    ];
    for (kind, name, keys) in families {
        if kind == settings.action {
            continue;
        }
        if let Some((given, _)) = keys.iter().find(|(_, given)| *given) {
            return Err((key(given), format!("is for {name} actions only")));
        }
    }
    match settings.action {
        ActionKind::Webhook => {
            let Some(url) = &settings.url else {
                return Err((key("url"), "is required for a webhook action".into()));
            };
            check_url(url).map_err(|m| (key("url"), m))?;
            check_headers(&settings.headers).map_err(|m| (key("headers"), m))?;
        }
        ActionKind::Command => match settings.command.as_deref().map(<[String]>::first) {
            None => return Err((key("command"), "is required for a command action".into())),
            Some(None) => return Err((key("command"), "is empty".into())),
            Some(Some(program)) if program.trim().is_empty() => {
                return Err((key("command"), "the program name is empty".into()));
            }
            Some(Some(_)) => {}
        },
        ActionKind::Aws => {
            if settings.operation.is_none() {
                let known: Vec<&str> = AwsOperation::value_variants()
                    .iter()
                    .map(|o| o.as_str())
                    .collect();
                return Err((
                    key("operation"),
                    format!(
                        "is required for an aws action (one of {})",
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    if settings.max_attempts == Some(0) {
        return Err((key("max_attempts"), "must be at least 1".into()));
    }
    if settings.concurrency == Some(0) {
        return Err((key("concurrency"), "must be at least 1".into()));
    }
    Ok(())
}

/// Names unique in the file, and each subscription checked.
pub(super) fn check_subscriptions(subscriptions: &[SubscriptionSettings]) -> Result<(), Problem> {
    let mut names = HashSet::new();
    for (i, sub) in subscriptions.iter().enumerate() {
        let at = format!("subscriptions[{i}]");
        check_subscription(&at, sub)?;
        if !names.insert(sub.name.as_str()) {
            return Err((
                format!("{at}.name"),
                format!("{:?} is used by an earlier subscription", sub.name),
            ));
        }
    }
    Ok(())
}

/// URL http(s), filters non-empty and known, API event patterns present where needed. The
/// one check of a subscription, whether it comes from this file or an API request body.
pub(crate) fn check_subscription(at: &str, sub: &SubscriptionSettings) -> Result<(), Problem> {
    let key = |name: &str| format!("{at}.{name}");
    if sub.name.trim().is_empty() {
        return Err((key("name"), "is empty".into()));
    }
    check_url(&sub.url).map_err(|m| (key("url"), m))?;
    check_headers(&sub.headers).map_err(|m| (key("headers"), m))?;
    if sub.kinds.is_empty() {
        return Err((key("kinds"), "is empty, so nothing would be sent".into()));
    }
    // An empty filter list would match nothing; leaving the key out is how to match all.
    for (name, list) in [
        ("resource_types", &sub.resource_types),
        ("rules", &sub.rules),
        ("compliance", &sub.compliance),
    ] {
        if list.as_ref().is_some_and(Vec::is_empty) {
            return Err((
                key(name),
                "is empty, so nothing would match; leave it out to match all".into(),
            ));
        }
    }
    if let Some(bad) = sub
        .compliance
        .iter()
        .flatten()
        .find(|c| !COMPLIANCE_TYPES.contains(&c.as_str()))
    {
        return Err((
            key("compliance"),
            format!("{bad:?} is not one of {}", COMPLIANCE_TYPES.join(", ")),
        ));
    }
    if sub.max_attempts == Some(0) {
        return Err((key("max_attempts"), "must be at least 1".into()));
    }
    let wants_api_events = sub.kinds.contains(&NotificationKind::ApiEvent);
    match &sub.api_events {
        None if wants_api_events => {
            return Err((
                key("api_events"),
                "is required when kinds has \"api-event\"".into(),
            ));
        }
        // Otherwise the pattern would be ignored, which is never what its author meant.
        Some(_) if !wants_api_events => {
            return Err((
                key("kinds"),
                "does not have \"api-event\", so api_events would be ignored".into(),
            ));
        }
        // An empty pattern would send every CloudTrail call, which is more likely a mistake
        // than a wish.
        Some(pattern) if pattern.is_empty() => {
            return Err((
                key("api_events"),
                "needs at least one of event_sources, event_names, users".into(),
            ));
        }
        _ => {}
    }
    Ok(())
}

/// Shortest time between sweeps of an account.
pub const MIN_SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// A sweep interval: a duration such as `15m`, at least [`MIN_SWEEP_INTERVAL`].
pub fn parse_sweep_interval(text: &str) -> Result<std::time::Duration, String> {
    let interval = humantime::parse_duration(text)
        .map_err(|e| format!("{text:?} is not a duration such as \"15m\": {e}"))?;
    if interval < MIN_SWEEP_INTERVAL {
        return Err(format!("{text:?} is shorter than the minimum, 1m"));
    }
    Ok(interval)
}

/// Names unique and present, intervals durations of a minute or more, endpoints URLs,
/// an external id only with a role, regions spelt as regions.
pub(super) fn check_collector(collector: &CollectorSettings) -> Result<(), Problem> {
    if let Some(interval) = &collector.interval {
        parse_sweep_interval(interval).map_err(|m| ("collector.interval".to_string(), m))?;
    }
    if let Some(url) = &collector.endpoint_url {
        check_url(url).map_err(|m| ("collector.endpoint_url".to_string(), m))?;
    }
    let mut names = HashSet::new();
    for (i, account) in collector.accounts.iter().enumerate() {
        let key = |name: &str| format!("collector.accounts[{i}].{name}");
        if account.name.trim().is_empty() {
            return Err((key("name"), "is empty".into()));
        }
        if !names.insert(account.name.as_str()) {
            return Err((
                key("name"),
                format!("{:?} is used by an earlier account", account.name),
            ));
        }
        if let Some(interval) = &account.interval {
            parse_sweep_interval(interval).map_err(|m| (key("interval"), m))?;
        }
        if let Some(url) = &account.endpoint_url {
            check_url(url).map_err(|m| (key("endpoint_url"), m))?;
        }
        if account.external_id.is_some() && account.role_arn.is_none() {
            return Err((
                key("external_id"),
                "is only used to assume a role: set role_arn too".into(),
            ));
        }
        if let Some(role) = &account.role_arn {
            if !(role.starts_with("arn:") && role.contains(":iam::") && role.contains(":role/")) {
                return Err((
                    key("role_arn"),
                    format!("{role:?} is not a role ARN such as arn:aws:iam::111122223333:role/conftrail"),
                ));
            }
        }
        for (r, region) in account.regions.iter().enumerate() {
            if !crate::model::looks_like_region(region) {
                return Err((
                    format!("collector.accounts[{i}].regions[{r}]"),
                    format!("{region:?} is not a region such as \"us-east-1\""),
                ));
            }
        }
        if let Some(trail) = &account.trail {
            check_trail(trail).map_err(|(name, m)| (key(&format!("trail.{name}")), m))?;
        }
    }
    Ok(())
}

/// A bucket named, durations and URLs as such, a region spelt as one.
fn check_trail(trail: &TrailSettings) -> Result<(), (&'static str, String)> {
    if trail.bucket.trim().is_empty() {
        return Err(("bucket", "is empty".into()));
    }
    if let Some(poll) = &trail.poll {
        parse_trail_poll(poll).map_err(|m| ("poll", m))?;
    }
    if let Some(region) = &trail.region {
        if !crate::model::looks_like_region(region) {
            return Err((
                "region",
                format!("{region:?} is not a region such as \"us-east-1\""),
            ));
        }
    }
    if let Some(url) = &trail.queue_url {
        check_url(url).map_err(|m| ("queue_url", m))?;
    }
    Ok(())
}

/// The time between looks for new trail files: a duration of at least a second.
pub fn parse_trail_poll(text: &str) -> Result<std::time::Duration, String> {
    let poll = humantime::parse_duration(text)
        .map_err(|e| format!("{text:?} is not a duration such as \"1m\": {e}"))?;
    if poll < std::time::Duration::from_secs(1) {
        return Err(format!("{text:?} is shorter than the minimum, 1s"));
    }
    Ok(poll)
}

/// An http:// or https:// URL with something after the scheme.
fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(()),
        Some(_) => Err(format!("{url:?} has no host")),
        None => Err(format!("{url:?} does not start with http:// or https://")),
    }
}

/// Header names are HTTP tokens and values hold no line breaks, so a header cannot smuggle
/// another one; caught here rather than at the first delivery.
fn check_headers(headers: &BTreeMap<String, String>) -> Result<(), String> {
    for (name, value) in headers {
        let token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if name.is_empty() || !name.chars().all(token_char) {
            return Err(format!("{name:?} is not a header name"));
        }
        if value.contains(['\r', '\n', '\0']) {
            return Err(format!("the value of {name:?} contains a line break"));
        }
    }
    Ok(())
}
