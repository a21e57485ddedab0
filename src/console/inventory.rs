//! The inventory: recorded resources filtered by type, account, region, compliance, rule, tag
//! and text, paged on the server; each row links to the resource's page.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use serde::Deserialize;

use super::format::{given, query_string, resource_link, Badge, Time};
use super::page::{render, Layout};
use super::{blocking, ConsoleState, PageError, Viewer};
use crate::app::overview::{InventoryPage, InventoryQuery, INVENTORY_SCAN_BUDGET};
use crate::evaluator::SummaryState;

/// Rows per page.
const PAGE_ROWS: usize = 50;

/// The filters, as the form and links spell them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct Filters {
    #[serde(rename = "type")]
    resource_type: String,
    account: String,
    region: String,
    compliance: String,
    rule: String,
    tag: String,
    text: String,
    deleted: Option<String>,
    after: String,
}

impl Filters {
    fn query(&self) -> Result<InventoryQuery, PageError> {
        let compliance = given(&self.compliance)
            .map(|c| {
                SummaryState::parse(&c).ok_or_else(|| {
                    PageError::bad_request(format!(
                        "compliance: {c:?} is not NON_COMPLIANT, COMPLIANT, NOT_APPLICABLE or INSUFFICIENT_DATA"
                    ))
                })
            })
            .transpose()?;
        Ok(InventoryQuery {
            resource_type: given(&self.resource_type),
            account: given(&self.account),
            region: given(&self.region),
            compliance,
            rule: given(&self.rule),
            tag: given(&self.tag),
            text: given(&self.text),
            deleted: self.deleted.is_some(),
            after: given(&self.after),
            limit: PAGE_ROWS,
        })
    }

    /// The query string of these filters with another page token.
    fn with_after(&self, after: &str) -> String {
        query_string([
            ("type", self.resource_type.as_str()),
            ("account", &self.account),
            ("region", &self.region),
            ("compliance", &self.compliance),
            ("rule", &self.rule),
            ("tag", &self.tag),
            ("text", &self.text),
            ("deleted", self.deleted.as_deref().unwrap_or("")),
            ("after", after),
        ])
    }
}

struct Row {
    link: String,
    resource_type: String,
    resource_id: String,
    name: String,
    account: String,
    region: String,
    badge: Badge,
    failing: String,
    status: String,
    captured: Time,
    versions: u64,
}

#[derive(Template)]
#[template(path = "inventory.html")]
struct Page {
    layout: Layout,
    filters: Filters,
    types: Vec<String>,
    rules: Vec<String>,
    states: Vec<(&'static str, &'static str)>,
    rows: Vec<Row>,
    next: Option<String>,
    first: Option<String>,
    budget_spent: bool,
    budget: usize,
}

fn rows(page: InventoryPage) -> Vec<Row> {
    page.rows
        .into_iter()
        .map(|r| {
            let e = r.entry;
            Row {
                link: resource_link(
                    &e.resource_type,
                    &e.resource_id,
                    &e.account_id,
                    &e.aws_region,
                ),
                name: e.resource_name.clone().unwrap_or_default(),
                badge: Badge::compliance(r.compliance.as_str()),
                failing: r.non_compliant_rules.join(", "),
                status: e.configuration_item_status.clone(),
                captured: Time::text(&e.configuration_item_capture_time),
                versions: e.version_count,
                resource_type: e.resource_type,
                resource_id: e.resource_id,
                account: e.account_id,
                region: e.aws_region,
            }
        })
        .collect()
}

/// `GET /inventory`.
pub(super) async fn page(
    State(state): State<Arc<ConsoleState>>,
    viewer: Viewer,
    Query(filters): Query<Filters>,
) -> Result<Html<String>, PageError> {
    blocking(move || {
        let app = &state.app;
        let page = app.inventory(&filters.query()?)?;
        let next = page.next.as_deref().map(|n| filters.with_after(n));
        let first = given(&filters.after).map(|_| filters.with_after(""));
        let budget_spent = page.budget_spent;
        render(&Page {
            layout: Layout::new("Inventory", &viewer, "inventory"),
            types: app.recorded_types()?,
            rules: app.rules()?.into_iter().map(|r| r.name).collect(),
            states: vec![
                ("NON_COMPLIANT", "Non-compliant"),
                ("COMPLIANT", "Compliant"),
                ("NOT_APPLICABLE", "Not applicable"),
                ("INSUFFICIENT_DATA", "No verdict"),
            ],
            rows: rows(page),
            next,
            first,
            budget_spent,
            budget: INVENTORY_SCAN_BUDGET,
            filters,
        })
    })
    .await
}
