//! Constructors and helpers on the generated WIT records.

use core::fmt;

use crate::raw::{Compliance, Evaluation, LogLevel, Metadata, Parameter, Trigger};

impl Evaluation {
    /// COMPLIANT, without annotation.
    pub fn compliant() -> Self {
        Evaluation {
            compliance: Compliance::Compliant,
            annotation: None,
        }
    }

    /// COMPLIANT, saying why.
    pub fn compliant_because(annotation: impl Into<String>) -> Self {
        Evaluation {
            compliance: Compliance::Compliant,
            annotation: Some(annotation.into()),
        }
    }

    /// NON_COMPLIANT, saying why (the host keeps the first 256 characters).
    pub fn non_compliant(annotation: impl Into<String>) -> Self {
        Evaluation {
            compliance: Compliance::NonCompliant,
            annotation: Some(annotation.into()),
        }
    }

    /// NOT_APPLICABLE, saying why.
    pub fn not_applicable(annotation: impl Into<String>) -> Self {
        Evaluation {
            compliance: Compliance::NotApplicable,
            annotation: Some(annotation.into()),
        }
    }

    /// Any verdict, with or without annotation.
    pub fn new(compliance: Compliance, annotation: Option<String>) -> Self {
        Evaluation {
            compliance,
            annotation,
        }
    }

    /// The annotation, or "".
    pub fn annotation(&self) -> &str {
        self.annotation.as_deref().unwrap_or("")
    }
}

impl Compliance {
    /// AWS's spelling: `COMPLIANT`, `NON_COMPLIANT`, `NOT_APPLICABLE`.
    pub fn as_aws_str(self) -> &'static str {
        match self {
            Compliance::Compliant => "COMPLIANT",
            Compliance::NonCompliant => "NON_COMPLIANT",
            Compliance::NotApplicable => "NOT_APPLICABLE",
        }
    }

    /// Parses AWS's spelling (case-insensitive, `-` or `_`).
    pub fn from_aws_str(s: &str) -> Option<Self> {
        let norm: String = s
            .trim()
            .chars()
            .map(|c| {
                if c == '-' {
                    '_'
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        match norm.as_str() {
            "COMPLIANT" => Some(Compliance::Compliant),
            "NON_COMPLIANT" => Some(Compliance::NonCompliant),
            "NOT_APPLICABLE" => Some(Compliance::NotApplicable),
            _ => None,
        }
    }
}

impl fmt::Display for Compliance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_aws_str())
    }
}

impl Trigger {
    /// `change`, `schedule` or `manual`, as in the WIT.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Change => "change",
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
        }
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl LogLevel {
    /// `debug`, `info`, `warn` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Metadata {
    /// Metadata with triggers `[change]`, no parameters and `wants-previous = false`.
    /// Resource types come from [`Rule::RESOURCE_TYPES`](crate::Rule::RESOURCE_TYPES).
    pub fn new(name: &str, version: &str, description: &str) -> Self {
        Metadata {
            name: name.to_string(),
            version: version.to_string(),
            description: description.to_string(),
            resource_types: Vec::new(),
            parameters: Vec::new(),
            triggers: vec![Trigger::Change],
            wants_previous: false,
        }
    }

    /// Adds a parameter.
    pub fn parameter(mut self, parameter: Parameter) -> Self {
        self.parameters.push(parameter);
        self
    }

    /// Replaces the default triggers.
    pub fn triggers(mut self, triggers: &[Trigger]) -> Self {
        self.triggers = triggers.to_vec();
        self
    }

    /// Asks the host to fill `context.previous` on change triggers.
    pub fn wants_previous(mut self, yes: bool) -> Self {
        self.wants_previous = yes;
        self
    }
}

impl Parameter {
    /// An optional parameter without default.
    pub fn optional(name: &str, description: &str) -> Self {
        Parameter {
            name: name.to_string(),
            description: description.to_string(),
            default: None,
            required: false,
        }
    }

    /// A required parameter.
    pub fn required(name: &str, description: &str) -> Self {
        Parameter {
            name: name.to_string(),
            description: description.to_string(),
            default: None,
            required: true,
        }
    }

    /// Sets the value used when the rule is registered without one.
    pub fn with_default(mut self, value: &str) -> Self {
        self.default = Some(value.to_string());
        self
    }
}
