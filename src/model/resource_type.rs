//! Resource types: AWS Config's list of them, and the check that catches a mistyped one.

use std::sync::OnceLock;

/// The longest resource type accepted (AWS Config's `PutResourceConfig` limit).
pub const MAX_RESOURCE_TYPE_CHARS: usize = 196;

/// AWS Config's resource types, sorted (see the provenance in the file).
pub fn aws_resource_types() -> &'static [&'static str] {
    static TYPES: OnceLock<Vec<&'static str>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let mut types: Vec<&str> = include_str!("aws_resource_types.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        types.sort_unstable();
        types
    })
}

/// Whether `resource_type` is one of AWS Config's types, spelled exactly.
pub fn is_aws_resource_type(resource_type: &str) -> bool {
    aws_resource_types().binary_search(&resource_type).is_ok()
}

/// A resource type that is neither AWS's nor recorded, with the closest known one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown resource type {given:?}{}", suggestion_text(.suggestion))]
pub struct UnknownResourceType {
    /// The type as given.
    pub given: String,
    /// The closest known type, when one is close enough to be a likely typo.
    pub suggestion: Option<String>,
}

fn suggestion_text(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(": did you mean {s}?"),
        None => " (not an AWS Config type and not recorded here)".to_string(),
    }
}

/// The known spelling of `given`: itself when AWS lists it or it was recorded, the known type
/// it matches ignoring case, or an error naming the closest known type.
pub fn known_resource_type(
    given: &str,
    recorded: &[String],
) -> Result<String, UnknownResourceType> {
    let known = || {
        aws_resource_types()
            .iter()
            .copied()
            .chain(recorded.iter().map(String::as_str))
    };
    if known().any(|t| t == given) {
        return Ok(given.to_string());
    }
    if let Some(t) = known().find(|t| t.eq_ignore_ascii_case(given)) {
        return Ok(t.to_string());
    }
    Err(UnknownResourceType {
        given: given.to_string(),
        suggestion: closest_resource_type(given, known()),
    })
}

/// The candidate nearest to `given` by edit distance (ignoring case), if near enough to be a
/// typo; a bare last part (`SecurityGroup`) matches the type that ends with it.
pub fn closest_resource_type<'a>(
    given: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<String> {
    let given_lower = given.to_ascii_lowercase();
    let tolerance = 2 + given.chars().count() / 8;
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let lower = candidate.to_ascii_lowercase();
        let last = lower.rsplit("::").next().unwrap_or(&lower);
        let distance = if given_lower.contains("::") {
            strsim::levenshtein(&given_lower, &lower)
        } else {
            strsim::levenshtein(&given_lower, last)
        };
        if distance <= tolerance && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, t)| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_aws_configs() {
        let types = aws_resource_types();
        assert!(types.len() > 500, "{}", types.len());
        for t in [
            "AWS::EC2::SecurityGroup",
            "AWS::S3::Bucket",
            "AWS::IAM::User",
            "AWS::S3::AccountPublicAccessBlock",
        ] {
            assert!(is_aws_resource_type(t), "{t}");
        }
        assert!(!is_aws_resource_type("AWS::EC2::SecurityGrop"));
        assert!(types
            .iter()
            .all(|t| t.split("::").count() == 3 && t.len() <= MAX_RESOURCE_TYPE_CHARS));
    }

    #[test]
    fn typos_get_the_closest_type() {
        let cases = [
            ("AWS::EC2::SecurityGrop", Some("AWS::EC2::SecurityGroup")),
            ("AWS::S3::Buckett", Some("AWS::S3::Bucket")),
            ("aws::ec2::securitygrp", Some("AWS::EC2::SecurityGroup")),
            ("SecurityGroup", Some("AWS::EC2::SecurityGroup")),
            ("Nothing::Like::This::At::All", None),
        ];
        for (given, want) in cases {
            let err = known_resource_type(given, &[]).unwrap_err();
            assert_eq!(err.suggestion.as_deref(), want, "{given}");
            assert!(err.to_string().contains(given), "{err}");
        }
        let err = known_resource_type("AWS::EC2::SecurityGrop", &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown resource type \"AWS::EC2::SecurityGrop\": did you mean AWS::EC2::SecurityGroup?"
        );
    }

    #[test]
    fn known_types_keep_or_get_their_spelling() {
        let recorded = vec!["MyCorp::Widget::Gadget".to_string()];
        let ok = |t| known_resource_type(t, &recorded);
        assert_eq!(ok("AWS::S3::Bucket").as_deref(), Ok("AWS::S3::Bucket"));
        assert_eq!(ok("aws::s3::bucket").as_deref(), Ok("AWS::S3::Bucket"));
        assert_eq!(
            ok("MyCorp::Widget::Gadget").as_deref(),
            Ok("MyCorp::Widget::Gadget")
        );
        assert_eq!(
            ok("MyCorp::Widget::Gadgets")
                .unwrap_err()
                .suggestion
                .as_deref(),
            Some("MyCorp::Widget::Gadget")
        );
    }
}
