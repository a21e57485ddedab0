//! Overviews for people: the dashboard (compliance at a glance, how it moved, the latest
//! changes and remediation outcomes) and the inventory (recorded resources, filtered and
//! paged, each with its compliance).

use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::Duration;

use super::events::LookupEvent;
use super::{App, AppError};
use crate::evaluator::{ComplianceFilter, ComplianceSummary, Counts, SummaryState};
use crate::model::{now_millis, LatestVerdict, RemediationJob, ResourceKey};
use crate::query::{EventLookup, ResourceEntry};
use crate::store::{day_of, LatestDetails, ResourceSummary};

/// Resources examined at most per inventory request: a filter that matches little answers a
/// partial page and a token to search on, instead of reading the whole store at once.
pub const INVENTORY_SCAN_BUDGET: usize = 15_000;

/// Rows per inventory page at most.
pub const INVENTORY_MAX_PAGE: usize = 500;

/// Compliance at a glance.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// Latest verdicts summarised per rule and resource.
    pub summary: ComplianceSummary,
    /// Resources recorded.
    pub resources_recorded: usize,
    /// Non-compliant (resource, rule) pairs at the end of each of the last days, oldest first.
    pub trend: Vec<TrendPoint>,
    /// The latest calls that changed something (read-only calls left out), newest first.
    pub recent_changes: Vec<LookupEvent>,
    /// The latest remediation jobs, newest first.
    pub recent_jobs: Vec<RemediationJob>,
    /// The latest compliance changes, newest first.
    pub recent_verdicts: Vec<LatestVerdict>,
}

/// One day of the compliance trend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendPoint {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Non-compliant (resource, rule) pairs at the day's end (now, for today).
    pub non_compliant: u64,
    /// Pairs that turned non-compliant that day.
    pub became: u64,
    /// Pairs that stopped being non-compliant that day.
    pub left: u64,
}

/// Which resources the inventory lists.
#[derive(Debug, Clone, Default)]
pub struct InventoryQuery {
    /// Only this resource type.
    pub resource_type: Option<String>,
    /// Only this account.
    pub account: Option<String>,
    /// Only this region.
    pub region: Option<String>,
    /// Only resources in this state (over the rule given, else over every rule).
    pub compliance: Option<SummaryState>,
    /// Only resources this rule judged.
    pub rule: Option<String>,
    /// Only resources with this tag: `key` or `key=value`.
    pub tag: Option<String>,
    /// Only resources whose id, name or ARN contains this (ignoring case).
    pub text: Option<String>,
    /// Deleted resources too.
    pub deleted: bool,
    /// A previous page's token.
    pub after: Option<String>,
    /// Rows per page.
    pub limit: usize,
}

/// One inventory row.
#[derive(Debug, Clone)]
pub struct InventoryRow {
    /// The resource and its latest state.
    pub entry: ResourceEntry,
    /// Its compliance over the rules that judged it (or the rule filtered on).
    pub compliance: SummaryState,
    /// The rules it does not comply with.
    pub non_compliant_rules: Vec<String>,
}

/// One inventory page.
#[derive(Debug, Clone)]
pub struct InventoryPage {
    /// Rows in key order (type, id, account, region).
    pub rows: Vec<InventoryRow>,
    /// Pass as `after` for more; absent when everything was searched.
    pub next: Option<String>,
    /// Whether the page is short because the scan budget ran out (more may match).
    pub budget_spent: bool,
}

/// The latest verdicts per resource, for the rows.
type VerdictsByResource = BTreeMap<ResourceKey, (Counts, Vec<String>)>;

impl App {
    /// Compliance at a glance, with the trend over the last `days` days.
    pub fn dashboard(&self, days: u32) -> Result<Dashboard, AppError> {
        let summary = self.compliance(&ComplianceFilter::default())?;
        let non_compliant_now = summary
            .verdicts
            .iter()
            .filter(|v| v.compliance == crate::model::Compliance::NonCompliant)
            .count() as u64;
        let trend = self.trend(non_compliant_now, days)?;
        let recent_changes = self
            .events(&EventLookup {
                read_only: Some("false".into()),
                limit: Some(10),
                ..EventLookup::default()
            })?
            .events;
        let recent_jobs = self
            .store()
            .jobs()
            .rev()
            .take(10)
            .collect::<Result<Vec<_>, _>>()?;
        let mut recent_verdicts = summary.verdicts.clone();
        recent_verdicts.sort_by_key(|v| std::cmp::Reverse(v.since));
        recent_verdicts.truncate(10);
        Ok(Dashboard {
            resources_recorded: self.store().resource_count()?,
            summary,
            trend,
            recent_changes,
            recent_jobs,
            recent_verdicts,
        })
    }

    /// Non-compliant pairs at the end of each of the last `days` days, walked back from now
    /// with each day's movement.
    fn trend(&self, now: u64, days: u32) -> Result<Vec<TrendPoint>, AppError> {
        let today = now_millis();
        let mut points = Vec::with_capacity(days as usize);
        let mut at_end = now;
        for back in 0..i64::from(days) {
            let day = day_of(&(today - Duration::days(back)));
            let moved = self.store().compliance_day(&day)?;
            points.push(TrendPoint {
                day,
                non_compliant: at_end,
                became: moved.became_non_compliant,
                left: moved.left_non_compliant,
            });
            at_end = (at_end + moved.left_non_compliant).saturating_sub(moved.became_non_compliant);
        }
        points.reverse();
        Ok(points)
    }

    /// One page of the inventory.
    pub fn inventory(&self, query: &InventoryQuery) -> Result<InventoryPage, AppError> {
        let resource_type = self.known_type_filter(query.resource_type.as_deref())?;
        let rules: Vec<String> = match &query.rule {
            Some(rule) => vec![self.rule(rule)?.name],
            None => self.rules()?.into_iter().map(|r| r.name).collect(),
        };
        let after = query.after.as_deref().map(decode_cursor).transpose()?;
        let limit = query.limit.clamp(1, INVENTORY_MAX_PAGE);
        // With a rule or a state that needs verdicts, the verdicts choose the candidates.
        let by_verdicts = query.rule.is_some()
            || query
                .compliance
                .is_some_and(|c| c != SummaryState::InsufficientData);
        let judged = if by_verdicts || query.compliance.is_some() {
            Some(self.verdicts_by_resource(query.rule.as_deref())?)
        } else {
            None
        };
        let mut rows = Vec::new();
        let mut scanned = 0;
        let mut last: Option<ResourceKey> = None;
        let mut exhausted = true;
        let mut consider = |summary: ResourceSummary| -> Result<bool, AppError> {
            scanned += 1;
            last = Some(summary.key.clone());
            if let Some(row) = self.inventory_row(query, &rules, judged.as_ref(), summary)? {
                rows.push(row);
            }
            Ok(rows.len() < limit && scanned < INVENTORY_SCAN_BUDGET)
        };
        match (&judged, by_verdicts) {
            (Some(judged), true) => {
                let start = after
                    .clone()
                    .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
                for key in judged
                    .range((start, std::ops::Bound::Unbounded))
                    .map(|(k, _)| k)
                {
                    if resource_type
                        .as_ref()
                        .is_some_and(|t| *t != key.resource_type)
                    {
                        continue;
                    }
                    let Some(state) = self.store().latest_state(key)? else {
                        continue;
                    };
                    let summary = ResourceSummary {
                        key: key.clone(),
                        state,
                    };
                    if !consider(summary)? {
                        exhausted = false;
                        break;
                    }
                }
            }
            _ => {
                for summary in self
                    .store()
                    .resources_after(resource_type.as_deref(), after.as_ref())
                {
                    if !consider(summary?)? {
                        exhausted = false;
                        break;
                    }
                }
            }
        }
        let budget_spent = !exhausted && rows.len() < limit;
        Ok(InventoryPage {
            rows,
            next: if exhausted {
                None
            } else {
                last.as_ref().map(encode_cursor)
            },
            budget_spent,
        })
    }

    /// Latest verdicts grouped per resource (of one rule, or of all).
    fn verdicts_by_resource(&self, rule: Option<&str>) -> Result<VerdictsByResource, AppError> {
        let mut judged = VerdictsByResource::new();
        for verdict in self.store().latest_verdicts(rule) {
            let verdict = verdict?;
            let (counts, bad) = judged.entry(verdict.resource.key()).or_default();
            counts.add(verdict.compliance);
            if verdict.compliance == crate::model::Compliance::NonCompliant {
                bad.push(verdict.rule_name);
            }
        }
        Ok(judged)
    }

    /// The row of a resource, if it passes the query's filters.
    fn inventory_row(
        &self,
        query: &InventoryQuery,
        rules: &[String],
        judged: Option<&VerdictsByResource>,
        summary: ResourceSummary,
    ) -> Result<Option<InventoryRow>, AppError> {
        let key = &summary.key;
        let deleted = summary.state.status.starts_with("ResourceDeleted");
        if (deleted && !query.deleted)
            || query.account.as_ref().is_some_and(|a| *a != key.account_id)
            || query.region.as_ref().is_some_and(|r| *r != key.region)
        {
            return Ok(None);
        }
        let text = query.text.as_deref().map(str::to_lowercase);
        let cheap_text_match = text.as_deref().is_none_or(|t| {
            key.resource_id.to_lowercase().contains(t)
                || summary
                    .state
                    .resource_name
                    .as_deref()
                    .is_some_and(|n| n.to_lowercase().contains(t))
        });
        if !cheap_text_match || query.tag.is_some() {
            // The ARN and tags: kept in the latest state, or (states written before they were
            // kept) in the latest version itself.
            let details = match &summary.state.details {
                Some(details) => details.clone(),
                None => match self.store().version(key, summary.state.latest.version)? {
                    Some(item) => LatestDetails::of(&item),
                    None => return Ok(None),
                },
            };
            let arn_match = text.as_deref().is_none_or(|t| {
                cheap_text_match
                    || details
                        .arn
                        .as_deref()
                        .is_some_and(|a| a.to_lowercase().contains(t))
            });
            let tag_match = query.tag.as_deref().is_none_or(|tag| {
                let (k, v) = match tag.split_once('=') {
                    Some((k, v)) => (k.trim(), Some(v.trim())),
                    None => (tag.trim(), None),
                };
                details
                    .tags
                    .get(k)
                    .is_some_and(|value| v.is_none_or(|v| value == v))
            });
            if !arn_match || !tag_match {
                return Ok(None);
            }
        }
        let (counts, non_compliant_rules) = match judged {
            Some(judged) => judged.get(key).cloned().unwrap_or_default(),
            None => self.resource_verdicts(rules, key)?,
        };
        let compliance = SummaryState::of(&counts);
        let judged_by_rule = counts != Counts::default();
        if query.compliance.is_some_and(|c| c != compliance)
            || (query.rule.is_some() && !judged_by_rule)
        {
            return Ok(None);
        }
        Ok(Some(InventoryRow {
            entry: ResourceEntry::from(summary),
            compliance,
            non_compliant_rules,
        }))
    }

    /// A resource's latest verdicts over the given rules (a point read per rule).
    fn resource_verdicts(
        &self,
        rules: &[String],
        key: &ResourceKey,
    ) -> Result<(Counts, Vec<String>), AppError> {
        let mut counts = Counts::default();
        let mut bad = Vec::new();
        for rule in rules {
            if let Some(verdict) = self.store().latest_verdict(rule, key)? {
                counts.add(verdict.compliance);
                if verdict.compliance == crate::model::Compliance::NonCompliant {
                    bad.push(verdict.rule_name);
                }
            }
        }
        Ok((counts, bad))
    }
}

/// A page token: the last resource listed, URL-safe.
fn encode_cursor(key: &ResourceKey) -> String {
    let text = [
        key.resource_type.as_str(),
        &key.resource_id,
        &key.account_id,
        &key.region,
    ]
    .join("\0");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn decode_cursor(token: &str) -> Result<ResourceKey, AppError> {
    let bad = || AppError::Invalid("after: not a token this inventory gave".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let parts: Vec<&str> = text.split('\0').collect();
    match parts.as_slice() {
        [resource_type, resource_id, account_id, region] => Ok(ResourceKey {
            resource_type: resource_type.to_string(),
            resource_id: resource_id.to_string(),
            account_id: account_id.to_string(),
            region: region.to_string(),
        }),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let key = ResourceKey {
            resource_type: "AWS::S3::Bucket".into(),
            resource_id: "logs/é".into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
        };
        assert_eq!(decode_cursor(&encode_cursor(&key)).expect("decodes"), key);
        assert!(decode_cursor("!!").is_err());
        assert!(decode_cursor("YWJj").is_err());
    }
}
