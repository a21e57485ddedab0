//! The OpenAPI document: each operation is declared once, by its handler's `#[utoipa::path]`
//! (path, parameters, body and answer types, summary from the doc comment); the router is built
//! from the same declarations (see [`super::routes`]), so the document cannot drift from the
//! routes. What every operation shares (who may call it, the error answers) is added here.

use serde::Serialize;
use utoipa::openapi::path::{Operation, Paths};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, Content, InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, Response,
};
use utoipa::{PartialSchema, ToSchema};

use crate::auth::Role;

/// Every error answer: `{error, message}` with the status that says what went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, as a code: badRequest, unauthorized, forbidden, notFound, conflict,
    /// methodNotAllowed, tooLarge, invalidRule, cloudError (a cloud API failed), internal.
    pub error: String,
    /// What went wrong, for a person, naming the field or value at fault.
    pub message: String,
}

/// Raw bytes in a request body: a `.wasm` component, a gzip file.
pub struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for Binary {}

/// Name of the shared error answer under `components.responses`.
const ERROR: &str = "Error";

/// The document's frame: title, version, bearer security scheme and the error answer.
pub fn frame() -> OpenApi {
    let error = Response::builder()
        .description("error: `error` is a code, `message` names what is at fault")
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("conftrail")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Configuration history, API-call attribution, WebAssembly rules and \
                     durable remediation. Send `Authorization: Bearer TOKEN`; each operation \
                     names the role it needs in `x-conftrail-role`.",
                ))
                .build(),
        )
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme(
                    "bearer",
                    SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
                )
                .schema("ErrorBody", ErrorBody::schema())
                .response(ERROR, error)
                .build(),
        ))
        .build()
}

/// Adds to every operation of `paths` who may call it and the error answers it can give.
pub fn describe_access(paths: &mut Paths, role: Option<Role>) {
    for (path, item) in paths.paths.iter_mut() {
        if let Some(read) = &mut item.get {
            // A resource named by type and id alone can exist in several accounts or regions.
            let ambiguous: &[&str] = if path.starts_with("/v1/resources/{type}/{id}") {
                &["409"]
            } else {
                &[]
            };
            describe_operation(read, role, ambiguous);
        }
        let writes = [
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        // A sweep depends on the cloud's APIs, which may fail.
        let write_errors: &[&str] = if path.starts_with("/v1/collector") {
            &["409", "422", "502"]
        } else {
            &["409", "422"]
        };
        for write in writes.into_iter().flatten() {
            // A write can conflict with what is stored (a managed rule, a disabled one) or be
            // refused as unusable (a rule that is not a component).
            describe_operation(write, role, write_errors);
        }
    }
}

/// Adds the role and error answers to one operation, with the `extra` ones it may give.
fn describe_operation(operation: &mut Operation, role: Option<Role>, extra: &[&'static str]) {
    let mut errors = vec!["400", "404", "500"];
    if let Some(role) = role {
        operation.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        let extensions = operation.extensions.get_or_insert_with(Default::default);
        extensions.insert(
            "x-conftrail-role".to_string(),
            serde_json::Value::String(role.as_str().to_string()),
        );
        errors.extend(["401", "403"]);
    }
    errors.extend(extra);
    if operation.request_body.is_some() {
        errors.push("413");
    }
    for status in errors {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::Ref(Ref::new(format!("#/components/responses/{ERROR}"))));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_operation_names_its_role_and_errors() {
        let document = super::super::document();
        let json = serde_json::to_value(&document).unwrap_or_default();
        let paths = json["paths"].as_object().cloned().unwrap_or_default();
        let mut operations = 0;
        for (path, item) in &paths {
            for (method, operation) in item.as_object().into_iter().flatten() {
                operations += 1;
                let at = format!("{method} {path}");
                assert!(operation["summary"].is_string(), "{at}: no summary");
                assert!(operation["responses"]["400"].is_object(), "{at}: no 400");
                let open = path == "/healthz" || path == "/v1/openapi.json";
                assert_eq!(operation["x-conftrail-role"].is_string(), !open, "{at}");
                if !open {
                    assert!(operation["responses"]["401"].is_object(), "{at}: no 401");
                }
                let success = operation["responses"]
                    .as_object()
                    .map(|r| r.keys().any(|k| k.starts_with('2')))
                    .unwrap_or(false);
                assert!(success, "{at}: no success answer");
                if path.starts_with("/v1/resources/{type}/{id}") {
                    // The id alone may name copies in several accounts or regions.
                    assert!(operation["responses"]["409"].is_object(), "{at}: no 409");
                }
            }
        }
        assert_eq!(operations, super::super::routes().len());
    }
}
