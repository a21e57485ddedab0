//! The trimmed botocore models the collector decodes responses with (`models/*.json`, written
//! by `scripts/aws-models.py`): for each operation called, its output shape, and each shape
//! reachable from it.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// A reference from a structure member or list to a shape.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberRef {
    /// The shape's name.
    pub shape: String,
    /// Its XML element name, when it is not the member's name.
    #[serde(default)]
    pub location_name: Option<String>,
    /// A list whose items repeat in place, without a wrapping element.
    #[serde(default)]
    pub flattened: bool,
    /// An attribute of the structure's element (`xsi:type`), not a child element.
    #[serde(default)]
    pub xml_attribute: bool,
}

/// The scalar types of the models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    /// `string`, `blob`.
    Text,
    /// `timestamp`: kept as the service's text in XML (ISO 8601, as the CLI shows it); the JSON
    /// protocol's epoch seconds are turned into that text.
    Time,
    /// `integer`, `long`.
    Integer,
    /// `float`, `double`.
    Float,
    /// `boolean`.
    Boolean,
}

/// A shape, as decoding needs it.
#[derive(Debug, Clone)]
pub enum Shape {
    /// Named members, in the model's order.
    Structure {
        /// Member name → its shape.
        members: Vec<(String, MemberRef)>,
    },
    /// A list.
    List {
        /// The items' shape and element name.
        member: MemberRef,
        /// Items repeat without a wrapper.
        flattened: bool,
    },
    /// A map of `entry` elements.
    Map {
        /// The keys' shape.
        key: MemberRef,
        /// The values' shape.
        value: MemberRef,
    },
    /// Text, number or boolean.
    Scalar(ScalarKind),
}

#[derive(Deserialize)]
struct RawShape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    members: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    member: Option<MemberRef>,
    #[serde(default)]
    key: Option<MemberRef>,
    #[serde(default)]
    value: Option<MemberRef>,
    #[serde(default)]
    flattened: bool,
}

/// One operation's output.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// The output shape.
    pub output: Option<String>,
    /// The element the query protocol wraps the output in (`GetCallerIdentityResult`).
    #[serde(default)]
    pub result_wrapper: Option<String>,
    /// rest-xml: the output member the whole body is (`Policy`, `PublicAccessBlockConfiguration`):
    /// the root element is that member's shape, or the body is its text (a string or blob).
    /// Without one, the root element is the output shape itself.
    #[serde(default)]
    pub payload: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawModel {
    operations: BTreeMap<String, Operation>,
    shapes: BTreeMap<String, RawShape>,
}

/// A service's trimmed model.
#[derive(Debug)]
pub struct ServiceModel {
    /// The service (`ec2`).
    pub service: String,
    operations: HashMap<String, Operation>,
    shapes: HashMap<String, Shape>,
}

/// Why an embedded model could not be read (a build defect, caught by the tests).
#[derive(Debug, Clone, thiserror::Error)]
#[error("embedded {service} model: {reason}")]
pub struct ModelError {
    service: String,
    reason: String,
}

impl ServiceModel {
    /// Reads a model from its JSON.
    pub fn from_json(service: &str, json: &str) -> Result<ServiceModel, ModelError> {
        let error = |reason: String| ModelError {
            service: service.to_string(),
            reason,
        };
        let raw: RawModel = serde_json::from_str(json).map_err(|e| error(e.to_string()))?;
        let mut shapes = HashMap::with_capacity(raw.shapes.len());
        for (name, shape) in raw.shapes {
            let missing = |part: &str| error(format!("shape {name} has no {part}"));
            let decoded = match shape.kind.as_str() {
                "structure" => {
                    let mut members = Vec::new();
                    for (member, reference) in shape.members.unwrap_or_default() {
                        let reference: MemberRef = serde_json::from_value(reference)
                            .map_err(|e| error(format!("{name}.{member}: {e}")))?;
                        members.push((member, reference));
                    }
                    Shape::Structure { members }
                }
                "list" => Shape::List {
                    member: shape.member.ok_or_else(|| missing("member"))?,
                    flattened: shape.flattened,
                },
                "map" => Shape::Map {
                    key: shape.key.ok_or_else(|| missing("key"))?,
                    value: shape.value.ok_or_else(|| missing("value"))?,
                },
                "integer" | "long" => Shape::Scalar(ScalarKind::Integer),
                "float" | "double" => Shape::Scalar(ScalarKind::Float),
                "boolean" => Shape::Scalar(ScalarKind::Boolean),
                "string" | "blob" => Shape::Scalar(ScalarKind::Text),
                "timestamp" => Shape::Scalar(ScalarKind::Time),
                other => return Err(error(format!("shape {name} has unknown type {other}"))),
            };
            shapes.insert(name, decoded);
        }
        Ok(ServiceModel {
            service: service.to_string(),
            operations: raw.operations.into_iter().collect(),
            shapes,
        })
    }

    /// A shape by name.
    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }

    /// An operation by name.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }
}

/// The EC2 model.
pub fn ec2() -> Result<&'static ServiceModel, ModelError> {
    embedded(&EC2, "ec2", include_str!("models/ec2.json"))
}

/// The STS model.
pub fn sts() -> Result<&'static ServiceModel, ModelError> {
    embedded(&STS, "sts", include_str!("models/sts.json"))
}

/// The S3 model.
pub fn s3() -> Result<&'static ServiceModel, ModelError> {
    embedded(&S3, "s3", include_str!("models/s3.json"))
}

/// The S3 Control model.
pub fn s3control() -> Result<&'static ServiceModel, ModelError> {
    embedded(
        &S3_CONTROL,
        "s3control",
        include_str!("models/s3control.json"),
    )
}

/// The IAM model.
pub fn iam() -> Result<&'static ServiceModel, ModelError> {
    embedded(&IAM, "iam", include_str!("models/iam.json"))
}

/// The CloudTrail model.
pub fn cloudtrail() -> Result<&'static ServiceModel, ModelError> {
    embedded(
        &CLOUDTRAIL,
        "cloudtrail",
        include_str!("models/cloudtrail.json"),
    )
}

static IAM: OnceLock<Result<ServiceModel, ModelError>> = OnceLock::new();
static CLOUDTRAIL: OnceLock<Result<ServiceModel, ModelError>> = OnceLock::new();
static EC2: OnceLock<Result<ServiceModel, ModelError>> = OnceLock::new();
static STS: OnceLock<Result<ServiceModel, ModelError>> = OnceLock::new();
static S3: OnceLock<Result<ServiceModel, ModelError>> = OnceLock::new();
static S3_CONTROL: OnceLock<Result<ServiceModel, ModelError>> = OnceLock::new();

fn embedded(
    cell: &'static OnceLock<Result<ServiceModel, ModelError>>,
    service: &str,
    json: &str,
) -> Result<&'static ServiceModel, ModelError> {
    cell.get_or_init(|| ServiceModel::from_json(service, json))
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_models_read_and_every_reference_resolves() {
        for model in [
            ec2().unwrap(),
            sts().unwrap(),
            s3().unwrap(),
            s3control().unwrap(),
            iam().unwrap(),
            cloudtrail().unwrap(),
        ] {
            for (name, shape) in &model.shapes {
                let refs: Vec<&MemberRef> = match shape {
                    Shape::Structure { members } => members.iter().map(|(_, r)| r).collect(),
                    Shape::List { member, .. } => vec![member],
                    Shape::Map { key, value } => vec![key, value],
                    Shape::Scalar(_) => vec![],
                };
                for r in refs {
                    assert!(
                        model.shape(&r.shape).is_some(),
                        "{}: {name} refers to missing {}",
                        model.service,
                        r.shape
                    );
                }
            }
            for (name, op) in &model.operations {
                if let Some(output) = &op.output {
                    assert!(model.shape(output).is_some(), "{name} output {output}");
                }
                if let Some(payload) = &op.payload {
                    let members = match op.output.as_deref().and_then(|o| model.shape(o)) {
                        Some(Shape::Structure { members }) => members,
                        other => panic!("{name}: a payload without a structure output: {other:?}"),
                    };
                    assert!(
                        members.iter().any(|(m, _)| m == payload),
                        "{name}: payload {payload} is not an output member"
                    );
                }
            }
        }
    }
}
