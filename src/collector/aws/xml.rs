//! AWS XML responses → JSON in boto3's output shape, read with the service's own model.
//!
//! EC2, IAM, STS and S3 answer in XML whose element names are the model's `locationName`s
//! (`securityGroupInfo`, `ipPermissions`, …), lists as `<item>` or `<member>` elements (or
//! flattened, repeated), and every scalar as text. The describe mappings in `ingest::describe`
//! read boto3's shape (member names, numbers as numbers), the same shape the AWS CLI writes to
//! files; decoding with the model's shapes turns one into the other, so a collected resource
//! and a described file go through one mapping.

use super::model::{MemberRef, ScalarKind, ServiceModel, Shape};
use serde_json::{Map, Number, Value};

/// Deepest element nesting read: AWS responses stay far below it, and a hostile body cannot
/// recurse without bound.
const MAX_DEPTH: usize = 64;

/// Why a response could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// Not well-formed XML.
    #[error("malformed XML at byte {position}: {reason}")]
    Malformed {
        /// Where the reader stopped.
        position: u64,
        /// What the reader said.
        reason: String,
    },
    /// No root element.
    #[error("empty XML document")]
    Empty,
    /// Nested deeper than [`MAX_DEPTH`].
    #[error("XML nested deeper than {MAX_DEPTH} elements")]
    TooDeep,
    /// A scalar's text does not fit its type in the model.
    #[error("{path}: expected {expected}, found {found:?}")]
    WrongType {
        /// Path of the value in the response (`SecurityGroups[0].IpPermissions[1].FromPort`).
        path: String,
        /// The model's type.
        expected: &'static str,
        /// The text found.
        found: String,
    },
    /// The model does not have a shape it refers to.
    #[error("the {service} model has no shape {shape}")]
    UnknownShape {
        /// The service.
        service: String,
        /// The missing shape.
        shape: String,
    },
}

/// One XML element: its local name (namespace prefix dropped), attributes, text and child
/// elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Local name.
    pub name: String,
    /// Attributes by local name (`xsi:type` is `type`), namespace declarations left out.
    pub attributes: Vec<(String, String)>,
    /// Its text, entities resolved (empty for an element with children only).
    pub text: String,
    /// Child elements in order.
    pub children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The first element named `name` at any depth below this one, breadth first.
    pub fn find(&self, name: &str) -> Option<&Element> {
        let mut level: Vec<&Element> = vec![self];
        while !level.is_empty() {
            if let Some(found) = level
                .iter()
                .flat_map(|e| e.children.iter())
                .find(|c| c.name == name)
            {
                return Some(found);
            }
            level = level.iter().flat_map(|e| e.children.iter()).collect();
        }
        None
    }

    /// The value of the attribute whose local name is `name`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The text of the first element named `name` below this one.
    pub fn find_text(&self, name: &str) -> Option<&str> {
        self.find(name).map(|e| e.text.as_str())
    }
}

/// Parses a whole document into its root element.
pub fn parse(body: &[u8]) -> Result<Element, XmlError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut buf = Vec::new();
    let malformed = |reader: &quick_xml::Reader<&[u8]>, reason: String| XmlError::Malformed {
        position: reader.buffer_position(),
        reason,
    };
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| malformed(&reader, e.to_string()))?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(Element {
                    name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
                    attributes: attributes(&start).map_err(|e| malformed(&reader, e))?,
                    ..Element::default()
                });
            }
            Event::Empty(empty) => {
                let element = Element {
                    name: String::from_utf8_lossy(empty.local_name().as_ref()).into_owned(),
                    attributes: attributes(&empty).map_err(|e| malformed(&reader, e))?,
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(malformed(&reader, "unexpected end tag".to_string()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(trimmed(done)),
                }
            }
            Event::Text(text) => {
                if let Some(current) = stack.last_mut() {
                    let text = text
                        .xml_content()
                        .map_err(|e| malformed(&reader, e.to_string()))?;
                    current.text.push_str(&text);
                }
            }
            Event::CData(data) => {
                if let Some(current) = stack.last_mut() {
                    current
                        .text
                        .push_str(&String::from_utf8_lossy(&data.into_inner()));
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(current) = stack.last_mut() {
                    let name = reference
                        .decode()
                        .map_err(|e| malformed(&reader, e.to_string()))?;
                    let entity = format!("&{name};");
                    let resolved = quick_xml::escape::unescape(&entity)
                        .map_err(|e| malformed(&reader, e.to_string()))?;
                    current.text.push_str(&resolved);
                }
            }
            Event::Eof => {
                return Err(if stack.is_empty() {
                    XmlError::Empty
                } else {
                    malformed(&reader, "document ends inside an element".to_string())
                })
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
        buf.clear();
    }
}

/// An element's attributes by local name, values unescaped; `xmlns` declarations are not
/// attributes of the answer.
fn attributes(start: &quick_xml::events::BytesStart) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let key = attribute.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let value = attribute.unescape_value().map_err(|e| e.to_string())?;
        out.push((
            String::from_utf8_lossy(key.local_name().as_ref()).into_owned(),
            value.into_owned(),
        ));
    }
    Ok(out)
}

/// Whitespace around an element with children is layout, not text.
fn trimmed(mut element: Element) -> Element {
    if !element.children.is_empty() {
        element.text.clear();
    }
    element.children = element.children.into_iter().map(trimmed).collect();
    element
}

/// Decodes `element` as the model's shape `shape`, into boto3's JSON shape.
pub fn decode(model: &ServiceModel, element: &Element, shape: &str) -> Result<Value, XmlError> {
    Decoder { model }.value(element, shape, "")
}

struct Decoder<'m> {
    model: &'m ServiceModel,
}

impl Decoder<'_> {
    fn shape(&self, name: &str) -> Result<&Shape, XmlError> {
        self.model
            .shape(name)
            .ok_or_else(|| XmlError::UnknownShape {
                service: self.model.service.clone(),
                shape: name.to_string(),
            })
    }

    fn value(&self, element: &Element, shape_name: &str, path: &str) -> Result<Value, XmlError> {
        match self.shape(shape_name)? {
            Shape::Structure { members } => {
                let mut out = Map::new();
                for (name, member) in members {
                    let child_path = join(path, name);
                    let xml_name = member.location_name.as_deref().unwrap_or(name);
                    if member.xml_attribute {
                        // `xsi:type`: matched by its local name, as elements are.
                        let local = xml_name.rsplit(':').next().unwrap_or(xml_name);
                        if let Some(text) = element.attribute(local) {
                            let Shape::Scalar(kind) = self.shape(&member.shape)? else {
                                return Err(XmlError::WrongType {
                                    path: child_path,
                                    expected: "a scalar (an attribute)",
                                    found: text.to_string(),
                                });
                            };
                            out.insert(name.clone(), scalar(*kind, text, &child_path)?);
                        }
                    } else if self.is_flattened(member)? {
                        let items: Vec<&Element> = element
                            .children
                            .iter()
                            .filter(|c| c.name == xml_name)
                            .collect();
                        if !items.is_empty() {
                            out.insert(name.clone(), self.list_items(&items, member, &child_path)?);
                        }
                    } else if let Some(child) = element.child(xml_name) {
                        out.insert(name.clone(), self.value(child, &member.shape, &child_path)?);
                    }
                }
                Ok(Value::Object(out))
            }
            Shape::List {
                member, flattened, ..
            } => {
                if *flattened {
                    // Reached only through a member, which handles flattened lists itself.
                    return self.list_items(&[element], member, path);
                }
                let item_name = member.location_name.as_deref().unwrap_or("member");
                let items: Vec<&Element> = element
                    .children
                    .iter()
                    .filter(|c| c.name == item_name)
                    .collect();
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.value(item, &member.shape, &format!("{path}[{i}]"))?);
                }
                Ok(Value::Array(out))
            }
            Shape::Map { key, value, .. } => {
                let mut out = Map::new();
                for entry in element.children.iter().filter(|c| c.name == "entry") {
                    let key_name = key.location_name.as_deref().unwrap_or("key");
                    let value_name = value.location_name.as_deref().unwrap_or("value");
                    let k = entry
                        .child(key_name)
                        .map(|e| e.text.clone())
                        .unwrap_or_default();
                    if let Some(v) = entry.child(value_name) {
                        let v = self.value(v, &value.shape, &join(path, &k))?;
                        out.insert(k, v);
                    }
                }
                Ok(Value::Object(out))
            }
            Shape::Scalar(kind) => scalar(*kind, &element.text, path),
        }
    }

    fn is_flattened(&self, member: &MemberRef) -> Result<bool, XmlError> {
        Ok(member.flattened
            || matches!(
                self.shape(&member.shape)?,
                Shape::List {
                    flattened: true,
                    ..
                }
            ))
    }

    /// The elements of a flattened list: each is one item.
    fn list_items(
        &self,
        items: &[&Element],
        member: &MemberRef,
        path: &str,
    ) -> Result<Value, XmlError> {
        let item_shape = match self.shape(&member.shape)? {
            Shape::List { member, .. } => member.shape.clone(),
            _ => member.shape.clone(),
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.value(item, &item_shape, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
    }
}

fn scalar(kind: ScalarKind, text: &str, path: &str) -> Result<Value, XmlError> {
    let wrong = |expected| XmlError::WrongType {
        path: path.to_string(),
        expected,
        found: text.chars().take(64).collect(),
    };
    let text_trimmed = text.trim();
    Ok(match kind {
        ScalarKind::Text | ScalarKind::Time => Value::String(text.to_string()),
        ScalarKind::Integer => Value::Number(
            text_trimmed
                .parse::<i64>()
                .map_err(|_| wrong("an integer"))?
                .into(),
        ),
        ScalarKind::Float => text_trimmed
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| wrong("a number"))?,
        ScalarKind::Boolean => match text_trimmed {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(wrong("true or false")),
        },
    })
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

#[cfg(test)]
mod tests;
