//! Every real AWS Config sample under `tests/data/realdata/config_items/` (third-party files, see
//! `tests/data/realdata/SOURCES.md`) ingested through the real pipeline, each checked against the
//! outcome written down for it in `tests/data/realdata/config_items_expected.json`.
//!
//! The expectations were worked out by reading the files, not by running conftrail.

use conftrail::app::ingest::{self, IngestReport, ProblemKind};
use conftrail::model::{format_time, parse_timestamp_text, Timestamp};
use conftrail::query::{self, QueryError, VersionSelector};
use conftrail::store::Store;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// What ingesting one file alone into an empty store must do.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Outcome {
    items: usize,
    new_versions: usize,
    /// Items equal to a neighbouring version, not stored (backdated ones included).
    unchanged: usize,
    /// Of the unchanged, those equal to the version just after them in time, which now starts
    /// at their (earlier) capture time.
    backdated: usize,
    deleted: usize,
    skipped: usize,
    errors: usize,
    /// Recorded items with an optional field left empty (malformed, or not in the source).
    warnings: usize,
    /// Each must occur in the Display text of at least one error problem.
    error_contains: Vec<String>,
    /// Each must occur in the Display text of at least one skipped problem.
    skipped_contains: Vec<String>,
    /// Each must occur in the Display text of at least one warning problem.
    warning_contains: Vec<String>,
    /// Exactly the (type, id) pairs recorded.
    resources: Vec<(String, String)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedFile {
    description: String,
    files: BTreeMap<String, Outcome>,
}

fn realdata_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/realdata")
}

fn config_items_dir() -> PathBuf {
    realdata_dir().join("config_items")
}

fn load_expected() -> Result<BTreeMap<String, Outcome>, Box<dyn std::error::Error>> {
    let path = realdata_dir().join("config_items_expected.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let parsed: ExpectedFile =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if parsed.description.trim().is_empty() {
        return Err(format!("{}: empty description", path.display()).into());
    }
    Ok(parsed.files)
}

/// Every file under `dir`, as `/`-separated paths relative to it.
fn files_under(dir: &Path) -> Result<BTreeSet<String>, Box<dyn std::error::Error>> {
    fn walk(
        base: &Path,
        dir: &Path,
        out: &mut BTreeSet<String>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                walk(base, &path, out)?;
            } else {
                let rel = path.strip_prefix(base)?;
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.insert(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out)?;
    Ok(out)
}

/// Checks a fixture entry for mistakes that would make the test assert less than it seems to.
fn check_fixture(file: &str, o: &Outcome) -> Vec<String> {
    let mut bad = Vec::new();
    if o.items != o.new_versions + o.unchanged + o.deleted {
        bad.push("items != new_versions + unchanged + deleted".to_string());
    }
    if o.backdated > o.unchanged {
        bad.push("backdated > unchanged (backdated items are also unchanged)".to_string());
    }
    if o.errors > 0 && o.error_contains.is_empty() {
        bad.push("errors but no error_contains: say why it is rejected".to_string());
    }
    if o.errors == 0 && !o.error_contains.is_empty() {
        bad.push("error_contains without errors".to_string());
    }
    if o.skipped > 0 && o.skipped_contains.is_empty() {
        bad.push("skipped but no skipped_contains: say why it is skipped".to_string());
    }
    if o.skipped == 0 && !o.skipped_contains.is_empty() {
        bad.push("skipped_contains without skips".to_string());
    }
    if o.warnings > 0 && o.warning_contains.is_empty() {
        bad.push("warnings but no warning_contains: say what was left empty".to_string());
    }
    if o.warnings == 0 && !o.warning_contains.is_empty() {
        bad.push("warning_contains without warnings".to_string());
    }
    if o.warnings > 0 && o.items == 0 {
        bad.push("warnings without items (warnings come with recorded items only)".to_string());
    }
    if (o.new_versions + o.deleted > 0) == o.resources.is_empty() {
        bad.push("resources must be listed exactly when versions are stored".to_string());
    }
    let unique: BTreeSet<_> = o.resources.iter().collect();
    if unique.len() != o.resources.len() {
        bad.push("a resource is listed twice".to_string());
    }
    bad.into_iter()
        .map(|b| format!("{file}: fixture: {b}"))
        .collect()
}

/// Everything that differs between what ingesting `path` did and `want`; empty when it matches.
fn mismatches(
    want: &Outcome,
    path: &Path,
    report: &IngestReport,
    store: &Store,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    let mut count = |name: &str, got: usize, want: usize| {
        if got != want {
            out.push(format!("{name}: got {got}, expected {want}"));
        }
    };
    count("documents", report.documents, 1);
    count("items", report.items, want.items);
    count("new_versions", report.new_versions, want.new_versions);
    count("unchanged", report.unchanged, want.unchanged);
    count("backdated", report.backdated, want.backdated);
    count("deleted", report.deleted, want.deleted);
    count("skipped", report.skipped, want.skipped);
    count("errors", report.errors, want.errors);
    count("warnings", report.warnings, want.warnings);
    count("out_of_order", report.out_of_order, 0);
    count(
        "listed problems",
        report.problems.len(),
        report.errors + report.skipped + report.warnings,
    );

    let source = path.display().to_string();
    for p in &report.problems {
        if p.source != source {
            out.push(format!("problem names source {:?}, not the file", p.source));
        }
    }
    let texts = |kind: ProblemKind| -> Vec<String> {
        report
            .problems
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| p.to_string())
            .collect()
    };
    for (kind, wanted) in [
        (ProblemKind::Error, &want.error_contains),
        (ProblemKind::Skipped, &want.skipped_contains),
        (ProblemKind::Warning, &want.warning_contains),
    ] {
        let have = texts(kind);
        for needle in wanted {
            if !have.iter().any(|t| t.contains(needle.as_str())) {
                out.push(format!(
                    "no {kind:?} problem contains {needle:?}; problems: {have:?}"
                ));
            }
        }
    }

    let recorded: BTreeSet<(String, String)> = query::resources(store, None)
        .map(|r| r.map(|e| (e.resource_type, e.resource_id)))
        .collect::<Result<_, _>>()?;
    let wanted: BTreeSet<(String, String)> = want.resources.iter().cloned().collect();
    if recorded != wanted {
        out.push(format!(
            "recorded resources {recorded:?}, expected {wanted:?}"
        ));
    }
    for (rtype, rid) in &want.resources {
        let keys = store.find_resources(rtype, rid)?;
        if keys.len() != 1 {
            out.push(format!(
                "find_resources({rtype}, {rid}) found {} keys: {keys:?}",
                keys.len()
            ));
            continue;
        }
        match query::show(store, &keys[0], VersionSelector::Latest) {
            Ok(item) => {
                if item.resource_type != *rtype || item.resource_id != *rid {
                    out.push(format!(
                        "show({}) returned {} {}",
                        keys[0], item.resource_type, item.resource_id
                    ));
                }
            }
            Err(e) => out.push(format!("show({}) failed: {e}", keys[0])),
        }
    }
    Ok(out)
}

#[test]
fn every_fixture_file_has_an_expectation_and_every_expectation_a_file() -> TestResult {
    let expected = load_expected()?;
    let on_disk = files_under(&config_items_dir())?;
    let listed: BTreeSet<String> = expected.keys().cloned().collect();
    let missing: Vec<_> = on_disk.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&on_disk).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "config_items_expected.json is out of step with {}:\n  files without an expectation: {missing:?}\n  expectations without a file: {stale:?}",
        config_items_dir().display()
    );
    assert_eq!(
        on_disk.len(),
        113,
        "the realdata set has 113 config item files"
    );
    let bad: Vec<String> = expected
        .iter()
        .flat_map(|(file, o)| check_fixture(file, o))
        .collect();
    assert!(bad.is_empty(), "fixture mistakes:\n{}", bad.join("\n"));
    Ok(())
}

#[test]
fn each_file_ingested_alone_does_exactly_what_is_expected() -> TestResult {
    let expected = load_expected()?;
    let mut failures = Vec::new();
    for (file, want) in &expected {
        let path = config_items_dir().join(file);
        let dir = tempfile::tempdir().map_err(|e| format!("{file}: tempdir: {e}"))?;
        let store = Store::open(dir.path()).map_err(|e| format!("{file}: open store: {e}"))?;
        let report = ingest::ingest_paths(&store, std::slice::from_ref(&path))
            .map_err(|e| format!("{file}: ingest failed: {e}"))?;
        let wrong = mismatches(want, &path, &report, &store)
            .map_err(|e| format!("{file}: reading the store back: {e}"))?;
        if !wrong.is_empty() {
            failures.push(format!("{file}:\n    {}", wrong.join("\n    ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files did not ingest as expected:\n{}",
        failures.len(),
        expected.len(),
        failures.join("\n")
    );
    Ok(())
}

/// A store holding one file ingested alone (the store is declared first, so it is dropped
/// before its directory).
struct Alone {
    store: Store,
    report: IngestReport,
    _dir: tempfile::TempDir,
}

fn ingest_alone(file: &str) -> Result<Alone, Box<dyn std::error::Error>> {
    let path = config_items_dir().join(file);
    let dir = tempfile::tempdir().map_err(|e| format!("{file}: tempdir: {e}"))?;
    let store = Store::open(dir.path()).map_err(|e| format!("{file}: open store: {e}"))?;
    let report = ingest::ingest_paths(&store, std::slice::from_ref(&path))
        .map_err(|e| format!("{file}: ingest failed: {e}"))?;
    Ok(Alone {
        store,
        report,
        _dir: dir,
    })
}

fn time(text: &str) -> Timestamp {
    parse_timestamp_text(text).unwrap_or_else(|| panic!("bad timestamp in the test: {text}"))
}

/// The latest version of the one recorded resource with this type and id.
fn only_version(
    store: &Store,
    rtype: &str,
    rid: &str,
) -> Result<conftrail::model::ConfigurationItem, Box<dyn std::error::Error>> {
    let keys = store.find_resources(rtype, rid)?;
    if keys.len() != 1 {
        return Err(format!("{rtype} {rid}: {} keys recorded: {keys:?}", keys.len()).into());
    }
    Ok(query::show(store, &keys[0], VersionSelector::Latest)?)
}

/// The details of the files whose quirks the parser now tolerates, beyond what the counts show.
#[test]
fn tolerated_quirks_are_recorded_with_the_right_details() -> TestResult {
    // configurationItem is an array of one CI without awsRegion: the region comes from the zone.
    let file = "awsdocs_examples/sns_ci_change_notification_ec2_volume.json";
    let alone = ingest_alone(file)?;
    let item = only_version(&alone.store, "AWS::EC2::VOLUME", "vol-ce676ccc")?;
    let key = item.key();
    assert_eq!(
        (key.account_id.as_str(), key.region.as_str()),
        ("123456789012", "us-west-2"),
        "{file}: account and region (from accountId and the zone us-west-2b)"
    );
    assert_eq!(
        item.configuration_item_capture_time,
        time("2014-03-07T23:47:08.918Z"),
        "{file}: capture time"
    );
    assert_eq!(
        item.resource_creation_time,
        Some(time("2014-02-27T21:43:53.885Z")),
        "{file}: creation time"
    );

    // A Python repr as resourceCreationTime: recorded, with the field left empty.
    let file = "rdk_example_ci/AWS_CloudFormation_Stack.json";
    let alone = ingest_alone(file)?;
    let item = only_version(
        &alone.store,
        "AWS::CloudFormation::Stack",
        "arn:aws:cloudformation:us-east-1:123456789012:stack/example-stack/ee155870-38af-11ea-865a-0a8540e42a70",
    )?;
    assert_eq!(
        item.resource_creation_time, None,
        "{file}: resourceCreationTime"
    );
    assert_eq!(
        item.configuration_item_capture_time,
        time("2022-02-21T18:24:55.063Z"),
        "{file}: capture time"
    );
    assert_eq!(
        alone
            .report
            .problems
            .iter()
            .map(|p| (p.kind, p.reason.as_str()))
            .collect::<Vec<_>>(),
        vec![(
            ProblemKind::Warning,
            "resourceCreationTime: invalid timestamp \"datetime.datetime(2020, 1, 16, 15, 31, 25, 438000, tzinfo=tzlocal())\"; field left empty"
        )],
        "{file}: problems"
    );

    // configurationStateId "test" is kept as the string it is.
    let file = "rdk_example_ci/AWS_NetworkFirewall_RuleGroup.json";
    let alone = ingest_alone(file)?;
    let item = only_version(&alone.store, "AWS::NetworkFirewall::RuleGroup", "test")?;
    assert_eq!(
        item.configuration_state_id,
        Some(serde_json::json!("test")),
        "{file}: configurationStateId"
    );
    Ok(())
}

/// sg-a38ed1de's history (both placebo history files) lists the same content captured at
/// 06:04:03.800 and then, read second, at 06:04:02.376.
const SG_A38_OLDER: &str = "2016-12-11T06:04:02.376Z";
const SG_A38_NEWER: &str = "2016-12-11T06:04:03.800Z";
const SG_A38_PLACEBO_FILES: [&str; 2] = [
    "custodian/placebo__test_sg_config_diff__config.GetResourceConfigHistory_1.json",
    "custodian/placebo__test_sg_config_patch_pitr__config.GetResourceConfigHistory_1.json",
];

/// Checks that AWS Config's sg-a38ed1de (us-east-1) has one version, which starts at the older
/// capture time: the older item is an earlier sighting of it. Returns what is wrong.
fn sg_a38ed1de_starts_at_the_older_capture(
    store: &Store,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    // The tree also holds the group as described, with no region: another resource.
    let mut keys = store.find_resources("AWS::EC2::SecurityGroup", "sg-a38ed1de")?;
    keys.retain(|k| k.region == "us-east-1");
    let [key] = keys.as_slice() else {
        return Ok(vec![format!("sg-a38ed1de: keys recorded: {keys:?}")]);
    };
    let entry = query::resources(store, Some("AWS::EC2::SecurityGroup"))
        .filter_map(|r| match r {
            Ok(e) if e.resource_id == "sg-a38ed1de" && e.aws_region == "us-east-1" => Some(Ok(e)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .next()
        .transpose()?;
    match entry {
        None => out.push("sg-a38ed1de is not listed".to_string()),
        Some(e) => {
            if (
                e.version_count,
                e.first_capture_time.as_str(),
                e.configuration_item_capture_time.as_str(),
            ) != (1, SG_A38_OLDER, SG_A38_OLDER)
            {
                out.push(format!(
                    "listing: {} versions, first captured {}, latest captured {}; expected 1 version starting at {SG_A38_OLDER}",
                    e.version_count, e.first_capture_time, e.configuration_item_capture_time
                ));
            }
        }
    }
    // In force from the older capture on: between the two, and at each of them.
    for at in [
        SG_A38_OLDER,
        "2016-12-11T06:04:03.000Z",
        SG_A38_NEWER,
        "2016-12-11T07:00:00.000Z",
    ] {
        match query::show(store, key, VersionSelector::At(time(at))) {
            Ok(item) => {
                let got = (
                    item.resource_id.as_str(),
                    item.version_number(),
                    format_time(&item.configuration_item_capture_time),
                );
                if got != ("sg-a38ed1de", Some(1), SG_A38_OLDER.to_string()) {
                    out.push(format!(
                        "show at {at}: got {got:?}, expected version 1 captured at {SG_A38_OLDER}"
                    ));
                }
            }
            Err(e) => out.push(format!("show at {at}: {e}")),
        }
    }
    // Nothing before it.
    let before = "2016-12-11T06:04:02.375Z";
    match query::show(store, key, VersionSelector::At(time(before))) {
        Err(QueryError::NothingAt { .. }) => {}
        other => out.push(format!(
            "show at {before}: expected NothingAt, got {other:?}"
        )),
    }
    Ok(out)
}

#[test]
fn sg_a38ed1de_history_alone_moves_its_version_to_the_older_capture() -> TestResult {
    for file in SG_A38_PLACEBO_FILES {
        let alone = ingest_alone(file)?;
        let wrong = sg_a38ed1de_starts_at_the_older_capture(&alone.store)?;
        assert!(wrong.is_empty(), "{file}:\n  {}", wrong.join("\n  "));
    }
    Ok(())
}

/// Version counts after the whole tree is ingested, for the resources that appear in more than
/// one file or more than once (every other resource has exactly one version), summed over
/// regions (the groups of DescribeSecurityGroups output are recorded with no region, apart
/// from AWS Config's items for them).
const SHARED_RESOURCES: [(&str, &str, u64); 6] = [
    // 8 rule-test events, same capture time; two carry the same CI.
    ("AWS::EC2::SecurityGroup", "sg-01", 7),
    // s3-from-rule and s3-from-rule-sans-accelerator: same time, different supplementary config.
    ("AWS::S3::Bucket", "c7n-fire-logs", 2),
    // 4 custodian files, 4 different times and contents.
    ("AWS::S3::Bucket", "testing-99", 4),
    // 2 history files holding the same 2 items, whose contents are equal (us-east-1: 1), and 3
    // describe files showing 3 different states (no region: 3).
    ("AWS::EC2::SecurityGroup", "sg-a38ed1de", 4),
    // A history item (us-east-2) and a later description (no region).
    ("AWS::EC2::SecurityGroup", "sg-65229a0c", 2),
    // SSM inventory and SSM inventory Windows: the same CI.
    (
        "AWS::SSM::ManagedInstanceInventory",
        "i-07f6b44c44bab9e8e",
        1,
    ),
];

/// What ingesting the whole tree into one store does, in file order (sorted by name).
///
/// Items, deletions, skips, errors and warnings are the sums of the per-file numbers. New
/// versions, unchanged and backdated are not, because some files share resources; each item
/// equal to a version next to it in time is "unchanged" instead of a new version:
/// * sg-01: `test_one_udp_open_not_authorized` holds the same CI (same time) as
///   `test_one_udp_open_authorized`, read before it: 1 new version fewer.
/// * sg-a38ed1de: alone, each history file stores its newer item (06:04:03.800) as a new
///   version, then backdates that version with its older, equal item (06:04:02.376): 1 new
///   version and 1 backdated per file. In the tree, `sg_config_diff` (read first) does that;
///   `patch_pitr` repeats the 2 items (only the MD5 hash differs, which is not content): its
///   newer item equals the latest version (which now starts at 06:04:02.376, before it) and its
///   older item equals the version at its own time, so both are plain unchanged: 1 new version
///   fewer and 1 backdated fewer.
/// * SSM `i-07f6b44c44bab9e8e`: `…Inventory_Windows.json` repeats `…Inventory.json`. 1 fewer.
/// * testing-99 (4 files) and c7n-fire-logs (2 files) have a different content in each file, so
///   each file still adds a version; testing-99's arrive newest first, so 3 of them are out of
///   order.
/// * The DescribeSecurityGroups recordings (no region, captured when read, in file order):
///   `sg_config_diff` and `patch_pitr…_1` describe the same 10 groups, 9 of them alike, so 9
///   of `patch_pitr…_1` are unchanged; sg-a38ed1de differs in each of the 3 files that have
///   it, so each adds a version. 9 fewer.
///
/// The sum over the files is 127 new versions, 2 unchanged and 2 backdated (the placebo history
/// files), so the tree gives 127 - 12 = 115 new versions, 2 + 12 = 14 unchanged and 2 - 1 = 1
/// backdated.
const TREE_NEW_VERSIONS: usize = 115;
const TREE_UNCHANGED: usize = 14;
const TREE_BACKDATED: usize = 1;
const TREE_CROSS_FILE_UNCHANGED: usize = 12;
const TREE_CROSS_FILE_NOT_BACKDATED: usize = 1;
const TREE_OUT_OF_ORDER: usize = 3;
/// Describe output has no capture time: read again, each group is captured again, now. The
/// three states of sg-a38ed1de are read in file order once more, each unlike the latest
/// version before it, so each is a new version; every other group is unchanged.
const TREE_REINGEST_NEW_VERSIONS: usize = 3;

/// Versions per type and id, summed over accounts and regions.
fn version_counts(store: &Store) -> Result<BTreeMap<(String, String), u64>, QueryError> {
    let mut counts = BTreeMap::new();
    for entry in query::resources(store, None) {
        let e = entry?;
        *counts.entry((e.resource_type, e.resource_id)).or_insert(0) += e.version_count;
    }
    Ok(counts)
}

#[test]
fn whole_tree_in_one_store_then_the_same_tree_again() -> TestResult {
    let expected = load_expected()?;
    let sum = |f: fn(&Outcome) -> usize| -> usize { expected.values().map(f).sum() };
    let root = config_items_dir();
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?;

    let first = ingest::ingest_paths(&store, std::slice::from_ref(&root))
        .map_err(|e| format!("ingest of {}: {e}", root.display()))?;
    let summary = first.summary();
    assert_eq!(first.documents, expected.len(), "documents: {summary}");
    assert_eq!(first.items, sum(|o| o.items), "items: {summary}");
    assert_eq!(first.deleted, sum(|o| o.deleted), "deleted: {summary}");
    assert_eq!(first.skipped, sum(|o| o.skipped), "skipped: {summary}");
    assert_eq!(first.errors, sum(|o| o.errors), "errors: {summary}");
    assert_eq!(first.warnings, sum(|o| o.warnings), "warnings: {summary}");
    assert_eq!(
        sum(|o| o.new_versions) - TREE_CROSS_FILE_UNCHANGED,
        TREE_NEW_VERSIONS,
        "the per-file sums changed: re-derive TREE_NEW_VERSIONS"
    );
    assert_eq!(
        sum(|o| o.unchanged) + TREE_CROSS_FILE_UNCHANGED,
        TREE_UNCHANGED,
        "the per-file sums changed: re-derive TREE_UNCHANGED"
    );
    assert_eq!(
        sum(|o| o.backdated) - TREE_CROSS_FILE_NOT_BACKDATED,
        TREE_BACKDATED,
        "the per-file sums changed: re-derive TREE_BACKDATED"
    );
    assert_eq!(
        first.new_versions, TREE_NEW_VERSIONS,
        "new versions: {summary}"
    );
    assert_eq!(first.unchanged, TREE_UNCHANGED, "unchanged: {summary}");
    assert_eq!(
        first.backdated, TREE_BACKDATED,
        "backdated: {summary} (backdated {})",
        first.backdated
    );
    assert_eq!(
        first.out_of_order, TREE_OUT_OF_ORDER,
        "out of order: {summary}"
    );
    assert_eq!(
        first.problems.len(),
        first.errors + first.skipped + first.warnings,
        "listed problems: {summary}"
    );

    // Every problem names its file, and each file's problems are the ones it has alone.
    let sources: BTreeSet<String> = expected
        .keys()
        .map(|file| root.join(file).display().to_string())
        .collect();
    for p in &first.problems {
        assert!(
            sources.contains(&p.source),
            "problem does not name a file of the tree: {p}"
        );
    }
    for (file, want) in &expected {
        let source = root.join(file).display().to_string();
        let of_kind = |kind: ProblemKind| {
            first
                .problems
                .iter()
                .filter(|p| p.source == source && p.kind == kind)
                .count()
        };
        assert_eq!(
            (
                of_kind(ProblemKind::Error),
                of_kind(ProblemKind::Skipped),
                of_kind(ProblemKind::Warning)
            ),
            (want.errors, want.skipped, want.warnings),
            "{file}: (errors, skipped, warnings) in the tree ingest"
        );
    }

    // Resources: all of the files' resources, each once; shared ones with the versions derived above.
    let versions = version_counts(&store)?;
    let all: BTreeSet<(String, String)> = expected
        .values()
        .flat_map(|o| o.resources.iter().cloned())
        .collect();
    let recorded: BTreeSet<(String, String)> = versions.keys().cloned().collect();
    assert_eq!(recorded, all, "resources recorded from the whole tree");
    // The store lists each recorded type once, and every type AWS Config recorded is on AWS's
    // list (the AWS docs' example spells one AWS::EC2::VOLUME: known, ignoring case).
    let types: BTreeSet<String> = recorded.iter().map(|(t, _)| t.clone()).collect();
    assert_eq!(
        store.recorded_types()?,
        types.iter().cloned().collect::<Vec<_>>(),
        "recorded types"
    );
    let not_listed: Vec<&String> = types
        .iter()
        .filter(|t| conftrail::model::known_resource_type(t, &[]).is_err())
        .collect();
    assert!(
        not_listed.is_empty(),
        "real types missing from AWS's list: {not_listed:?}"
    );
    for (rtype, rid, count) in SHARED_RESOURCES {
        let key = (rtype.to_string(), rid.to_string());
        assert_eq!(
            versions.get(&key),
            Some(&count),
            "version count of {rtype} {rid}"
        );
    }
    let stored: u64 = versions.values().sum();
    assert_eq!(
        stored as usize,
        first.new_versions + first.deleted,
        "versions in the store vs reported"
    );
    let wrong = sg_a38ed1de_starts_at_the_older_capture(&store)?;
    assert!(
        wrong.is_empty(),
        "sg-a38ed1de after the tree ingest:\n  {}",
        wrong.join("\n  ")
    );

    // Second identical ingest: a no-op (nothing new, deleted or moved) but for the described
    // groups, captured again; the same problems.
    let second = ingest::ingest_paths(&store, std::slice::from_ref(&root))
        .map_err(|e| format!("second ingest of {}: {e}", root.display()))?;
    let summary = second.summary();
    assert_eq!(second.documents, first.documents, "documents: {summary}");
    assert_eq!(second.items, first.items, "items: {summary}");
    assert_eq!(
        second.new_versions, TREE_REINGEST_NEW_VERSIONS,
        "new versions on re-ingest: {summary}"
    );
    assert_eq!(second.deleted, 0, "deleted on re-ingest: {summary}");
    assert_eq!(
        second.backdated, 0,
        "backdated on re-ingest: {summary} (backdated {})",
        second.backdated
    );
    assert_eq!(
        second.out_of_order, 0,
        "out of order on re-ingest: {summary}"
    );
    assert_eq!(
        second.unchanged,
        second.items - TREE_REINGEST_NEW_VERSIONS,
        "unchanged on re-ingest: {summary}"
    );
    assert_eq!(
        second.errors, first.errors,
        "errors on re-ingest: {summary}"
    );
    assert_eq!(
        second.skipped, first.skipped,
        "skips on re-ingest: {summary}"
    );
    assert_eq!(
        second.warnings, first.warnings,
        "warnings on re-ingest: {summary}"
    );
    assert_eq!(second.problems, first.problems, "problems on re-ingest");
    let mut again = versions.clone();
    *again
        .entry((
            "AWS::EC2::SecurityGroup".to_string(),
            "sg-a38ed1de".to_string(),
        ))
        .or_insert(0) += TREE_REINGEST_NEW_VERSIONS as u64;
    assert_eq!(
        version_counts(&store)?,
        again,
        "version counts after re-ingest"
    );
    let wrong = sg_a38ed1de_starts_at_the_older_capture(&store)?;
    assert!(
        wrong.is_empty(),
        "sg-a38ed1de after the re-ingest:\n  {}",
        wrong.join("\n  ")
    );
    Ok(())
}
