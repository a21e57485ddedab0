//! Overviews for people: the dashboard (compliance at a glance, how it moved, the latest
//! changes and remediation outcomes) and the inventory (recorded resources, filtered and
//! paged, each with its compliance).

use std::collections::{BTreeMap, HashSet};

use base64::Engine as _;
use chrono::Duration;

use super::events::LookupEvent;
use super::{App, AppError};
use crate::evaluator::{Counts, RuleCompliance, SummaryState};
use crate::model::{now_millis, Compliance, LatestVerdict, RemediationJob, ResourceKey};
use crate::query::{EventLookup, ResourceEntry};
use crate::store::{day_of, LatestDetails, ResourceSummary, StoreError};

/// Resources examined at most per inventory request: a filter that matches little answers a
/// partial page and a token to search on, instead of reading the whole store at once.
pub const INVENTORY_SCAN_BUDGET: usize = 15_000;

/// Non-compliant pairs read at most to find the newest non-compliance for the dashboard.
pub const NEWEST_NON_COMPLIANCE_SCAN: usize = 2_000;

/// Rows per inventory page at most.
pub const INVENTORY_MAX_PAGE: usize = 500;

/// Compliance at a glance.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// Overall: NON_COMPLIANT if any resource is.
    pub compliance: SummaryState,
    /// Resources by their compliance (the worst any rule gave them).
    pub resource_counts: BTreeMap<&'static str, usize>,
    /// Every rule with its resources by verdict.
    pub rules: Vec<RuleCompliance>,
    /// Resources recorded.
    pub resources_recorded: usize,
    /// Non-compliant (resource, rule) pairs at the end of each of the last days, oldest first.
    pub trend: Vec<TrendPoint>,
    /// The latest calls that changed something (read-only calls left out), newest first.
    pub recent_changes: Vec<LookupEvent>,
    /// The latest remediation jobs, newest first.
    pub recent_jobs: Vec<RemediationJob>,
    /// The newest non-compliance, newest first (of the first [`NEWEST_NON_COMPLIANCE_SCAN`]
    /// non-compliant pairs in resource order).
    pub recent_verdicts: Vec<LatestVerdict>,
    /// Whether there were more non-compliant pairs than that.
    pub recent_verdicts_partial: bool,
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

/// A resource's verdict counts and the rules it does not comply with.
type Verdicts = (Counts, Vec<String>);

impl App {
    /// Compliance at a glance, with the trend over the last `days` days. Reads the latest
    /// verdicts' by-state index (keys only), never every verdict.
    pub fn dashboard(&self, days: u32) -> Result<Dashboard, AppError> {
        let store = self.store();
        let mut per_rule: BTreeMap<String, Counts> = BTreeMap::new();
        let mut seen: HashSet<ResourceKey> = HashSet::new();
        let mut resource_counts = BTreeMap::new();
        let mut non_compliant_pairs = 0u64;
        // Worst state first: a resource counts once, in the worst state any rule gave it.
        for state in [
            Compliance::NonCompliant,
            Compliance::Compliant,
            Compliance::NotApplicable,
        ] {
            let mut resources = 0;
            for pair in store.pairs_in_state(state, None) {
                let (resource, rule) = pair?;
                per_rule.entry(rule).or_default().add(state);
                if state == Compliance::NonCompliant {
                    non_compliant_pairs += 1;
                }
                if seen.insert(resource) {
                    resources += 1;
                }
            }
            resource_counts.insert(state.as_str(), resources);
        }
        let count = |state: Compliance| resource_counts.get(state.as_str()).copied().unwrap_or(0);
        let compliance = SummaryState::of(&Counts {
            non_compliant: count(Compliance::NonCompliant),
            compliant: count(Compliance::Compliant),
            not_applicable: count(Compliance::NotApplicable),
        });
        let definitions = store.rule_definitions()?;
        let mut rules = Vec::with_capacity(definitions.len());
        for definition in definitions {
            let counts = per_rule.remove(&definition.name).unwrap_or_default();
            rules.push(RuleCompliance {
                compliance: SummaryState::of(&counts),
                resources: counts,
                evaluation_errors: store.rule_errors(&definition.name)?,
                enabled: definition.enabled,
                rule_name: definition.name,
            });
        }
        let mut recent_verdicts = Vec::new();
        let mut recent_verdicts_partial = false;
        for (n, pair) in store
            .pairs_in_state(Compliance::NonCompliant, None)
            .enumerate()
        {
            if n == NEWEST_NON_COMPLIANCE_SCAN {
                recent_verdicts_partial = true;
                break;
            }
            let (resource, rule) = pair?;
            recent_verdicts.extend(store.latest_verdict(&rule, &resource)?);
        }
        recent_verdicts.sort_by_key(|v| std::cmp::Reverse(v.since));
        recent_verdicts.truncate(10);
        let recent_changes = self
            .events(&EventLookup {
                read_only: Some("false".into()),
                limit: Some(10),
                ..EventLookup::default()
            })?
            .events;
        let recent_jobs = store.jobs().rev().take(10).collect::<Result<Vec<_>, _>>()?;
        Ok(Dashboard {
            resources_recorded: store.resource_count()?,
            compliance,
            resource_counts,
            rules,
            trend: self.trend(non_compliant_pairs, days)?,
            recent_changes,
            recent_jobs,
            recent_verdicts,
            recent_verdicts_partial,
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

    /// One page of the inventory. A compliance filter walks the latest verdicts' by-state
    /// index (in resource order); anything else walks the resources themselves. Either stops
    /// after [`INVENTORY_SCAN_BUDGET`] resources.
    pub fn inventory(&self, query: &InventoryQuery) -> Result<InventoryPage, AppError> {
        let resource_type = self.known_type_filter(query.resource_type.as_deref())?;
        let rules: Vec<String> = match &query.rule {
            Some(rule) => vec![self.rule(rule)?.name],
            None => self.rules()?.into_iter().map(|r| r.name).collect(),
        };
        let after = query.after.as_deref().map(decode_cursor).transpose()?;
        let limit = query.limit.clamp(1, INVENTORY_MAX_PAGE);
        let mut rows = Vec::new();
        let mut scanned = 0;
        let mut last: Option<ResourceKey> = None;
        // Counts a resource against the budget and adds its row if it passes; `passed` when
        // it was already ruled out. False once the page is full or the budget spent.
        let mut consider =
            |key: ResourceKey, known: Option<Verdicts>, passed: bool| -> Result<bool, AppError> {
                scanned += 1;
                last = Some(key.clone());
                if !passed
                    && resource_type
                        .as_ref()
                        .is_none_or(|t| *t == key.resource_type)
                {
                    if let Some(state) = self.store().latest_state(&key)? {
                        let summary = ResourceSummary { key, state };
                        if let Some(row) = self.inventory_row(query, &rules, known, summary)? {
                            rows.push(row);
                        }
                    }
                }
                Ok(rows.len() < limit && scanned < INVENTORY_SCAN_BUDGET)
            };
        let indexed = match query.compliance {
            Some(SummaryState::NonCompliant) => Some(Compliance::NonCompliant),
            Some(SummaryState::Compliant) => Some(Compliance::Compliant),
            Some(SummaryState::NotApplicable) => Some(Compliance::NotApplicable),
            Some(SummaryState::InsufficientData) | None => None,
        };
        let mut exhausted = true;
        match indexed {
            Some(state) => {
                for group in ResourceGroups::new(self.store().pairs_in_state(state, after.as_ref()))
                {
                    let (key, in_state) = group?;
                    let known = self.verdicts_in_state(state, &rules, &key, in_state)?;
                    let passed = known.is_none();
                    if !consider(key, known, passed)? {
                        exhausted = false;
                        break;
                    }
                }
            }
            None => {
                for summary in self
                    .store()
                    .resources_after(resource_type.as_deref(), after.as_ref())
                {
                    if !consider(summary?.key, None, false)? {
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

    /// What the by-state index says of a resource whose rules `in_state` are in `state`:
    /// none when the rule filtered on is not among them, or (over every rule) when a worse
    /// state applies to the resource too.
    fn verdicts_in_state(
        &self,
        state: Compliance,
        rules: &[String],
        key: &ResourceKey,
        in_state: Vec<String>,
    ) -> Result<Option<Verdicts>, AppError> {
        let in_state: Vec<String> = in_state.into_iter().filter(|r| rules.contains(r)).collect();
        if in_state.is_empty() {
            return Ok(None);
        }
        if rules.len() > 1 {
            for worse in [Compliance::NonCompliant, Compliance::Compliant] {
                if worse == state {
                    break;
                }
                if self.store().has_pair_in_state(worse, key)? {
                    return Ok(None);
                }
            }
        }
        let mut counts = Counts::default();
        for _ in &in_state {
            counts.add(state);
        }
        let failing = if state == Compliance::NonCompliant {
            in_state
        } else {
            Vec::new()
        };
        Ok(Some((counts, failing)))
    }

    /// The row of a resource, if it passes the query's filters.
    fn inventory_row(
        &self,
        query: &InventoryQuery,
        rules: &[String],
        known: Option<Verdicts>,
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
        let (counts, non_compliant_rules) = match known {
            Some(known) => known,
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
                if verdict.compliance == Compliance::NonCompliant {
                    bad.push(verdict.rule_name);
                }
            }
        }
        Ok((counts, bad))
    }
}

/// Consecutive (resource, rule) pairs of one resource, as one item.
struct ResourceGroups<I: Iterator> {
    pairs: std::iter::Peekable<I>,
}

impl<I: Iterator<Item = Result<(ResourceKey, String), StoreError>>> ResourceGroups<I> {
    fn new(pairs: I) -> Self {
        ResourceGroups {
            pairs: pairs.peekable(),
        }
    }
}

impl<I: Iterator<Item = Result<(ResourceKey, String), StoreError>>> Iterator for ResourceGroups<I> {
    type Item = Result<(ResourceKey, Vec<String>), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (key, rule) = match self.pairs.next()? {
            Ok(pair) => pair,
            Err(e) => return Some(Err(e)),
        };
        let mut rules = vec![rule];
        while let Some(Ok((next, _))) = self.pairs.peek() {
            if *next != key {
                break;
            }
            if let Some(Ok((_, rule))) = self.pairs.next() {
                rules.push(rule);
            }
        }
        Some(Ok((key, rules)))
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
