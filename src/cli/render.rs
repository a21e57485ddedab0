//! Human-readable (and streamed JSON) output of the CLI.

use crate::diff::ChangeType;
use crate::model::{format_time, ConfigurationItem};
use crate::query::{DiffResponse, HistoryResponse, ResourceEntry};
use std::io::{self, Write};

fn dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

/// Prints rows as left-aligned columns.
pub(super) fn table(out: &mut impl Write, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: Vec<&str>| -> io::Result<()> {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<w$}  "));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(out, header.to_vec())?;
    for row in rows {
        line(out, row.iter().map(String::as_str).collect())?;
    }
    Ok(())
}

/// The resource listing as a table.
pub fn resources_table(out: &mut impl Write, entries: &[ResourceEntry]) -> anyhow::Result<()> {
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.resource_type.clone(),
                e.resource_id.clone(),
                dash(&e.account_id).to_string(),
                dash(&e.aws_region).to_string(),
                e.resource_name.clone().unwrap_or_else(|| "-".to_string()),
                e.configuration_item_status.clone(),
                e.configuration_item_capture_time.clone(),
                e.version_count.to_string(),
            ]
        })
        .collect();
    table(
        out,
        &[
            "TYPE", "ID", "ACCOUNT", "REGION", "NAME", "STATUS", "CAPTURED", "VERSIONS",
        ],
        &rows,
    )?;
    writeln!(out, "{} resources", entries.len())?;
    Ok(())
}

/// A history page as a table.
pub fn history_table(out: &mut impl Write, page: &HistoryResponse) -> io::Result<()> {
    writeln!(out, "{}", page.resource.key())?;
    let rows: Vec<Vec<String>> = page
        .configuration_items
        .iter()
        .map(|item| {
            let meta = item.meta.as_ref();
            vec![
                meta.map_or("-".to_string(), |m| m.version.to_string()),
                format_time(&item.configuration_item_capture_time),
                item.configuration_item_status.to_string(),
                item.resource_name
                    .clone()
                    .unwrap_or_else(|| "-".to_string()),
                meta.map_or("-".to_string(), |m| {
                    m.content_hash.chars().take(12).collect()
                }),
            ]
        })
        .collect();
    table(
        out,
        &["VERSION", "CAPTURED", "STATUS", "NAME", "CONTENT"],
        &rows,
    )?;
    if let Some(token) = &page.next_token {
        writeln!(out, "more: --next {token}")?;
    }
    Ok(())
}

/// One version for people: identity, metadata, then the configuration as indented JSON.
pub fn item_text(out: &mut impl Write, item: &ConfigurationItem) -> anyhow::Result<()> {
    writeln!(out, "{}", item.key())?;
    if let Some(meta) = &item.meta {
        writeln!(
            out,
            "version {}  captured {}  status {}  recorded {}",
            meta.version,
            format_time(&item.configuration_item_capture_time),
            item.configuration_item_status,
            format_time(&meta.recorded_at)
        )?;
    }
    if let Some(name) = &item.resource_name {
        writeln!(out, "name: {name}")?;
    }
    if let Some(arn) = &item.arn {
        writeln!(out, "arn: {arn}")?;
    }
    if !item.tags.is_empty() {
        let tags: Vec<String> = item.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(out, "tags: {}", tags.join(", "))?;
    }
    for rel in &item.relationships {
        writeln!(
            out,
            "relationship: {} {} {}",
            rel.name,
            rel.resource_type,
            rel.resource_id
                .as_deref()
                .or(rel.resource_name.as_deref())
                .unwrap_or("-")
        )?;
    }
    writeln!(out, "configuration:")?;
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&item.configuration)?
    )?;
    if !item.supplementary_configuration.is_empty() {
        writeln!(out, "supplementaryConfiguration:")?;
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&item.supplementary_configuration)?
        )?;
    }
    Ok(())
}

/// A diff for people: the changed paths, then the unified text diff.
pub fn diff_text(out: &mut impl Write, diff: &DiffResponse) -> anyhow::Result<()> {
    let from = match (diff.from_version, &diff.from_capture_time) {
        (Some(v), Some(t)) => format!("version {v} ({t})"),
        _ => "(nothing)".to_string(),
    };
    let change = |c: ChangeType| match c {
        ChangeType::Create => "CREATE",
        ChangeType::Update => "UPDATE",
        ChangeType::Delete => "DELETE",
    };
    writeln!(
        out,
        "{} {}: {from} -> version {} ({}): {}",
        diff.resource_type,
        diff.resource_id,
        diff.to_version,
        diff.to_capture_time,
        change(diff.configuration_item_diff.change_type)
    )?;
    for (path, p) in &diff.configuration_item_diff.changed_properties {
        writeln!(out, "  {:<6} {path}", change(p.change_type))?;
        if !p.previous_value.is_null() {
            writeln!(
                out,
                "           - {}",
                serde_json::to_string(&p.previous_value)?
            )?;
        }
        if !p.updated_value.is_null() {
            writeln!(
                out,
                "           + {}",
                serde_json::to_string(&p.updated_value)?
            )?;
        }
    }
    writeln!(out)?;
    write!(out, "{}", diff.unified_diff)?;
    Ok(())
}

/// The rule listing as a table.
pub fn rules_table(
    mut out: &mut dyn Write,
    rules: &[crate::app::lists::RuleView],
) -> anyhow::Result<()> {
    let rows: Vec<Vec<String>> = rules
        .iter()
        .map(|view| {
            let r = &view.rule;
            let mut scope = match r.resource_types() {
                [] => "all types".to_string(),
                types if types.len() > 3 => format!("{} resource types", types.len()),
                types => types.join(","),
            };
            if let Some(tag) = &r.scope.tag {
                scope.push_str(&format!(" tag {}", tag.key));
                if let Some(v) = &tag.value {
                    scope.push_str(&format!("={v}"));
                }
            }
            if let Some(id) = &r.scope.resource_id {
                scope.push_str(&format!(" id {id}"));
            }
            vec![
                r.name.clone(),
                if r.enabled { "enabled" } else { "disabled" }.to_string(),
                if r.managed { "managed" } else { "custom" }.to_string(),
                r.metadata.version.clone(),
                r.triggers
                    .iter()
                    .map(|t| match (t, &r.schedule) {
                        (crate::rules::Trigger::Schedule, Some(cron)) => {
                            format!("schedule({cron})")
                        }
                        _ => t.as_str().to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(","),
                scope,
                view.evaluation_errors.errors.to_string(),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            "NAME", "STATE", "KIND", "VERSION", "TRIGGERS", "SCOPE", "ERRORS",
        ],
        &rows,
    )?;
    for view in rules.iter().filter(|v| v.evaluation_errors.errors > 0) {
        writeln!(
            out,
            "{}: {}",
            view.rule.name,
            rule_errors_text(&view.evaluation_errors)
        )?;
    }
    Ok(())
}

/// One evaluation (from `rules test`).
pub fn evaluation_text(
    out: &mut dyn Write,
    resource_type: &str,
    resource_id: &str,
    report: &crate::rules::EvaluationReport,
) -> anyhow::Result<()> {
    match &report.outcome {
        crate::rules::Outcome::Verdict(v) => writeln!(
            out,
            "{resource_type} {resource_id}: {}{}",
            v.compliance.as_str(),
            v.annotation
                .as_ref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default()
        )?,
        crate::rules::Outcome::Error { reason, .. } => {
            writeln!(out, "{resource_type} {resource_id}: ERROR {reason}")?
        }
    }
    write_logs(out, report)
}

fn write_logs(out: &mut dyn Write, report: &crate::rules::EvaluationReport) -> anyhow::Result<()> {
    for line in &report.logs {
        writeln!(out, "    [{}] {}", line.level, line.message)?;
    }
    if report.logs_dropped > 0 {
        writeln!(out, "    … {} more log lines dropped", report.logs_dropped)?;
    }
    Ok(())
}

/// A resource's compliance history, per rule, oldest first.
pub fn compliance_history_text(
    out: &mut dyn Write,
    key: &crate::model::ResourceKey,
    records: &[crate::evaluator::VerdictRecord],
) -> anyhow::Result<()> {
    writeln!(
        out,
        "{} {} ({} {})",
        key.resource_type,
        key.resource_id,
        dash(&key.account_id),
        dash(&key.region)
    )?;
    if records.is_empty() {
        writeln!(out, "no evaluations yet")?;
    }
    let mut current_rule = "";
    for r in records {
        if r.rule_name != current_rule {
            current_rule = &r.rule_name;
            writeln!(out, "\n{current_rule}")?;
        }
        let verdict = match &r.report.outcome {
            crate::rules::Outcome::Verdict(v) => {
                let change = match (r.compliance_changed, r.changed_from) {
                    (true, Some(old)) => {
                        format!("  [{} -> {}]", old.as_str(), v.compliance.as_str())
                    }
                    (true, None) => "  [first verdict]".to_string(),
                    (false, _) => String::new(),
                };
                format!(
                    "{}{}{}",
                    v.compliance.as_str(),
                    change,
                    v.annotation
                        .as_ref()
                        .map(|a| format!("  {a}"))
                        .unwrap_or_default()
                )
            }
            crate::rules::Outcome::Error { reason, .. } => format!("ERROR  {reason}"),
        };
        writeln!(
            out,
            "  {}  v{:<3} {:<8} {verdict}",
            format_time(&r.configuration_item_capture_time),
            r.configuration_version,
            r.trigger.as_str(),
        )?;
        if matches!(r.report.outcome, crate::rules::Outcome::Error { .. }) {
            write_logs(out, &r.report)?;
        }
    }
    Ok(())
}

/// The compliance summary: overall, per rule, and the verdicts.
pub fn compliance_text(
    mut out: &mut dyn Write,
    summary: &crate::evaluator::ComplianceSummary,
    show_not_applicable: bool,
) -> anyhow::Result<()> {
    let counts: Vec<String> = summary
        .resource_counts
        .iter()
        .map(|(state, n)| format!("{n} {state}"))
        .collect();
    writeln!(
        out,
        "overall: {}  (resources: {})\n",
        summary.compliance.as_str(),
        if counts.is_empty() {
            "none evaluated".to_string()
        } else {
            counts.join(", ")
        }
    )?;
    let rows: Vec<Vec<String>> = summary
        .rules
        .iter()
        .map(|r| {
            vec![
                r.rule_name.clone(),
                r.compliance.as_str().to_string(),
                r.resources.non_compliant.to_string(),
                r.resources.compliant.to_string(),
                r.resources.not_applicable.to_string(),
                r.evaluation_errors.errors.to_string(),
                if r.enabled { "" } else { "disabled" }.to_string(),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            "RULE",
            "COMPLIANCE",
            "NON_COMPLIANT",
            "COMPLIANT",
            "N/A",
            "ERRORS",
            "",
        ],
        &rows,
    )?;
    for rule in summary
        .rules
        .iter()
        .filter(|r| r.evaluation_errors.errors > 0)
    {
        writeln!(
            out,
            "{}: {}",
            rule.rule_name,
            rule_errors_text(&rule.evaluation_errors)
        )?;
    }
    let mut verdicts: Vec<&crate::evaluator::LatestVerdict> = summary.verdicts.iter().collect();
    // Failures first.
    let rank = |c: crate::rules::Compliance| match c {
        crate::rules::Compliance::NonCompliant => 0,
        crate::rules::Compliance::Compliant => 1,
        crate::rules::Compliance::NotApplicable => 2,
    };
    verdicts.sort_by(|a, b| {
        (rank(a.compliance), &a.rule_name, &a.resource).cmp(&(
            rank(b.compliance),
            &b.rule_name,
            &b.resource,
        ))
    });
    let rows: Vec<Vec<String>> = verdicts
        .iter()
        .filter(|v| show_not_applicable || v.compliance != crate::rules::Compliance::NotApplicable)
        .map(|v| {
            let exception = summary
                .exceptions
                .iter()
                .find(|e| e.rule_name == v.rule_name && e.resource == v.resource)
                .map(|e| format!(" [exception: {}]", e.reason))
                .unwrap_or_default();
            vec![
                v.compliance.as_str().to_string(),
                v.rule_name.clone(),
                v.resource.resource_type.clone(),
                v.resource.resource_id.clone(),
                format!("{}{exception}", v.annotation.clone().unwrap_or_default()),
            ]
        })
        .collect();
    if !rows.is_empty() {
        writeln!(out)?;
        table(
            &mut out,
            &["VERDICT", "RULE", "TYPE", "RESOURCE", "ANNOTATION"],
            &rows,
        )?;
    }
    Ok(())
}

/// "9 evaluations failed, last at T: reason" (the reason cut to one line of 160 characters).
pub(super) fn rule_errors_text(errors: &crate::model::RuleErrors) -> String {
    let mut text = format!("{} evaluations failed", errors.errors);
    if let (Some(at), Some(reason)) = (&errors.last_error_at, &errors.last_error) {
        let line = reason.lines().next().unwrap_or_default();
        let cut: String = line.chars().take(160).collect();
        text.push_str(&format!(
            ", last at {}: {cut}",
            crate::model::format_time(at)
        ));
    }
    text
}
