//! Tests of the configuration file: every key, and the errors that name them.

use super::*;

const EXAMPLE: &str = include_str!("../../examples/conftrail.toml");

fn origin() -> PathBuf {
    PathBuf::from("/etc/conftrail/conftrail.toml")
}

/// The Display of the error for `text`, which must fail.
fn error(text: &str) -> ConfigFileError {
    match parse(text, &origin()) {
        Ok(config) => panic!("parsed but should not have: {config:?}"),
        Err(err) => err,
    }
}

/// The dotted key of an `Invalid` error for `text`.
fn invalid_key(text: &str) -> String {
    match error(text) {
        ConfigFileError::Invalid { key, .. } => key,
        other => panic!("expected Invalid, got {other}"),
    }
}

/// The message of a `Syntax` error for `text`.
fn syntax(text: &str) -> String {
    match error(text) {
        err @ ConfigFileError::Syntax { .. } => err.to_string(),
        other => panic!("expected Syntax, got {other}"),
    }
}

const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

#[test]
fn example_parses() {
    let config = parse(EXAMPLE, &origin()).unwrap();
    assert_eq!(config.listen, Some("127.0.0.1:8080".parse().unwrap()));
    // Commented out in the example, so that it runs as it is.
    assert_eq!(config.data_dir, None);
    assert_eq!(config.event_map, None);
    assert_eq!(config.log_format, Some(LogFormatName::Human));
    assert_eq!(config.tokens.len(), 3);
    assert_eq!(config.tokens[0].role, Role::Ingest);
    // Commented out: retention is opt-in.
    assert_eq!(config.retention.event_days, None);
    assert_eq!(
        config.retention.purge_schedule.as_deref(),
        Some("0 0 3 * * *")
    );
    assert_eq!(config.worker.max_concurrent_actions, Some(8));
    let rule = &config.rules["vpc-sg-open-only-to-authorized-ports"];
    assert_eq!(
        rule.parameters.as_ref().unwrap()["authorizedTcpPorts"],
        Value::String("443".into())
    );
    let fix = &config.remediation["restricted-ssh"];
    assert_eq!(fix.action, ActionKind::Webhook);
    assert_eq!(fix.jitter, Some(Jitter::Full));
    assert_eq!(fix.parameters["GroupId"], "RESOURCE_ID");
    assert_eq!(
        config.remediation["s3-bucket-level-public-access-prohibited"]
            .command
            .as_deref(),
        Some(&["/usr/local/bin/fix-bucket".to_string(), "--dry-run".into()][..])
    );
    assert_eq!(
        config.remediation["s3-bucket-versioning-enabled"].operation,
        Some(AwsOperation::EnableVersioning)
    );
    assert_eq!(config.subscriptions.len(), 2);
    let api = config.subscriptions[0].api_events.as_ref().unwrap();
    assert_eq!(api.errors, ErrorMatch::Any);
    assert_eq!(api.event_names, ["DeleteBucket", "PutBucketPolicy"]);
    assert_eq!(config.subscriptions[1].kinds, default_kinds());
}

#[test]
fn empty_file_gives_defaults() {
    assert_eq!(parse("", &origin()).unwrap(), ConfigFile::default());
    assert_eq!(
        parse("# nothing\n\n", &origin()).unwrap(),
        ConfigFile::default()
    );
}

#[test]
fn retention_is_kept_only_when_written() {
    assert_eq!(parse("", &origin()).unwrap().retention.event_days, None);
    let config = parse("[retention]\nevent_days = 30\n", &origin()).unwrap();
    assert_eq!(config.retention.event_days, Some(30));
}

#[test]
fn unknown_top_level_key_names_key_and_line() {
    let msg = syntax("listen = \"127.0.0.1:1\"\ndata_dir = \"d\"\nlistn = \"x\"\n");
    assert!(msg.contains("unknown field `listn`"), "{msg}");
    assert!(msg.contains("line 3"), "{msg}");
    assert!(msg.contains("key `listn`"), "{msg}");
}

#[test]
fn unknown_key_in_rule_names_key_and_line() {
    let msg = syntax("[rules.restricted-ssh]\nenabled = true\nenabld = false\n");
    assert!(msg.contains("unknown field `enabld`"), "{msg}");
    assert!(msg.contains("line 3"), "{msg}");
    assert!(msg.contains("rules.restricted-ssh.enabld"), "{msg}");
}

#[test]
fn unknown_key_in_subscription_names_key_and_line() {
    let text = "[[subscriptions]]\nname = \"a\"\nurl = \"http://x\"\n\n\
                [[subscriptions]]\nname = \"b\"\nurl = \"http://y\"\nretries = 3\n";
    let msg = syntax(text);
    assert!(msg.contains("unknown field `retries`"), "{msg}");
    assert!(msg.contains("line 8"), "{msg}");
    assert!(msg.contains("subscriptions[1].retries"), "{msg}");
}

#[test]
fn unknown_key_in_api_events_names_key_and_line() {
    let text = "[[subscriptions]]\nname = \"a\"\nurl = \"http://x\"\nkinds = [\"api-event\"]\n\
                [subscriptions.api_events]\nevent_names = [\"DeleteBucket\"]\nuser = [\"bob\"]\n";
    let msg = syntax(text);
    assert!(msg.contains("unknown field `user`"), "{msg}");
    assert!(msg.contains("line 7"), "{msg}");
    assert!(msg.contains("subscriptions[0].api_events.user"), "{msg}");
}

#[test]
fn wrong_type_names_key() {
    let msg = syntax("# comment\nlisten = 8080\n");
    assert!(msg.contains("key `listen`"), "{msg}");
    assert!(msg.contains("line 2"), "{msg}");
    // Inside a multi-line array the line alone would not show the key.
    let msg =
        syntax("[remediation.r]\naction = \"command\"\ncommand = [\n  \"/bin/x\",\n  3,\n]\n");
    assert!(msg.contains("remediation.r.command[1]"), "{msg}");
    assert!(msg.contains("line 5"), "{msg}");
    let msg = syntax("[remediation.r]\naction = \"mail\"\n");
    assert!(msg.contains("remediation.r.action"), "{msg}");
}

#[test]
fn bad_toml_gives_line() {
    let msg = syntax("listen = \"127.0.0.1:1\"\nworker = [\n");
    assert!(msg.contains("line 2") || msg.contains("line 3"), "{msg}");
}

#[test]
fn listen_must_be_socket_addr() {
    assert_eq!(invalid_key("listen = \"localhost\"\n"), "listen");
    let config = parse("listen = \"[::1]:9000\"\n", &origin()).unwrap();
    assert_eq!(config.listen, Some("[::1]:9000".parse().unwrap()));
}

#[test]
fn token_checks() {
    let both = format!(
        "[[tokens]]\nrole = \"read\"\nsha256 = \"{HASH}\"\n\n\
         [[tokens]]\nrole = \"admin\"\nsha256 = \"{HASH}\"\nsecret_env = \"X\"\n"
    );
    assert_eq!(invalid_key(&both), "tokens[1]");
    assert_eq!(invalid_key("[[tokens]]\nrole = \"read\"\n"), "tokens[0]");
    assert_eq!(
        invalid_key("[[tokens]]\nrole = \"read\"\nsha256 = \"9f86d08\"\n"),
        "tokens[0].sha256"
    );
    let not_hex = format!(
        "[[tokens]]\nrole = \"read\"\nsha256 = \"{}\"\n",
        "g".repeat(64)
    );
    assert_eq!(invalid_key(&not_hex), "tokens[0].sha256");
    let twice = format!(
        "[[tokens]]\nrole = \"read\"\nsha256 = \"{HASH}\"\n\
         [[tokens]]\nrole = \"admin\"\nsha256 = \"{}\"\n",
        HASH.to_uppercase()
    );
    assert_eq!(invalid_key(&twice), "tokens[1].sha256");
    assert!(syntax("[[tokens]]\nrole = \"root\"\nsecret_env = \"X\"\n").contains("tokens[0].role"));
}

#[test]
fn sha256_is_lowercased() {
    let text = format!(
        "[[tokens]]\nrole = \"read\"\nsha256 = \"{}\"\n",
        HASH.to_uppercase()
    );
    let config = parse(&text, &origin()).unwrap();
    assert_eq!(config.tokens[0].secret_sha256().unwrap(), HASH);
}

#[test]
fn secret_env_is_hashed() {
    let var = format!("CONFTRAIL_CONFIG_FILE_TEST_{}", std::process::id());
    let text = format!(
        "[[tokens]]\nrole = \"read\"\nsha256 = \"{HASH}\"\n\
         [[tokens]]\nname = \"ci\"\nrole = \"ingest\"\nsecret_env = \"{var}\"\n"
    );
    let config = parse(&text, &origin()).unwrap();
    let token = &config.tokens[1];
    match token.secret_sha256() {
        Err(ConfigFileError::Invalid { key, message, .. }) => {
            assert_eq!(key, "tokens[1].secret_env");
            assert!(message.contains("not set"), "{message}");
        }
        other => panic!("expected an error for an unset variable, got {other:?}"),
    }
    // The variable name is unique to this test and process, so no other test reads it.
    std::env::set_var(&var, "");
    assert!(matches!(
        token.secret_sha256(),
        Err(ConfigFileError::Invalid { key, .. }) if key == "tokens[1].secret_env"
    ));
    // Shorter than the minimum: refused, like an empty one.
    std::env::set_var(&var, "test");
    assert!(token
        .secret_sha256()
        .is_err_and(|e| e.to_string().contains("fewer than 16 characters")));
    let secret = "a-long-enough-secret-0123";
    std::env::set_var(&var, secret);
    assert_eq!(
        token.secret_sha256().unwrap(),
        hex::encode(sha2::Sha256::digest(secret.as_bytes()))
    );
    std::env::remove_var(&var);
}

#[test]
fn worker_needs_one_action() {
    assert_eq!(
        invalid_key("[worker]\nmax_concurrent_actions = 0\n"),
        "worker.max_concurrent_actions"
    );
}

#[test]
fn remediation_checks() {
    let webhook = "[remediation.restricted-ssh]\naction = \"webhook\"\n";
    assert_eq!(invalid_key(webhook), "remediation.restricted-ssh.url");
    assert_eq!(
        invalid_key(&format!("{webhook}url = \"ftp://x\"\n")),
        "remediation.restricted-ssh.url"
    );
    assert_eq!(
        invalid_key(&format!(
            "{webhook}url = \"http://x\"\ncommand = [\"/bin/x\"]\n"
        )),
        "remediation.restricted-ssh.command"
    );
    assert_eq!(
        invalid_key(&format!(
            "{webhook}url = \"http://x\"\nno_retry_exit_codes = [3]\n"
        )),
        "remediation.restricted-ssh.no_retry_exit_codes"
    );
    assert_eq!(
        invalid_key(&format!(
            "{webhook}url = \"http://x\"\nheaders = {{ \"Bad Name\" = \"v\" }}\n"
        )),
        "remediation.restricted-ssh.headers"
    );
    let command = "[remediation.\"a.b\"]\naction = \"command\"\n";
    assert_eq!(invalid_key(command), "remediation.\"a.b\".command");
    assert_eq!(
        invalid_key(&format!("{command}command = []\n")),
        "remediation.\"a.b\".command"
    );
    assert_eq!(
        invalid_key(&format!(
            "{command}command = [\"/bin/x\"]\nurl = \"http://x\"\n"
        )),
        "remediation.\"a.b\".url"
    );
    assert_eq!(
        invalid_key(&format!(
            "{command}command = [\"/bin/x\"]\nheaders = {{ A = \"b\" }}\n"
        )),
        "remediation.\"a.b\".headers"
    );
    assert_eq!(
        invalid_key(&format!(
            "{command}command = [\"/bin/x\"]\nmax_attempts = 0\n"
        )),
        "remediation.\"a.b\".max_attempts"
    );
    assert_eq!(
        invalid_key(&format!(
            "{command}command = [\"/bin/x\"]\nconcurrency = 0\n"
        )),
        "remediation.\"a.b\".concurrency"
    );
    let aws = "[remediation.restricted-ssh]\naction = \"aws\"\n";
    assert_eq!(invalid_key(aws), "remediation.restricted-ssh.operation");
    let ConfigFileError::Invalid { message, .. } = error(aws) else {
        panic!("not an invalid key");
    };
    assert!(message.contains("revoke-world-open-ingress"), "{message}");
    let revoke = format!("{aws}operation = \"revoke-world-open-ingress\"\n");
    assert_eq!(
        invalid_key(&format!("{revoke}url = \"http://x\"\n")),
        "remediation.restricted-ssh.url"
    );
    assert_eq!(
        invalid_key(&format!("{revoke}command = [\"/bin/x\"]\n")),
        "remediation.restricted-ssh.command"
    );
    assert_eq!(
        invalid_key(&format!(
            "{webhook}url = \"http://x\"\noperation = \"enable-versioning\"\n"
        )),
        "remediation.restricted-ssh.operation"
    );
    assert!(syntax(&format!("{aws}operation = \"reboot\"\n")).contains("operation"));
}

#[test]
fn subscription_checks() {
    let first = "[[subscriptions]]\nname = \"a\"\nurl = \"https://x\"\n";
    let second = |extra: &str| format!("{first}[[subscriptions]]\n{extra}\n");
    assert_eq!(
        invalid_key(&second("name = \"a\"\nurl = \"https://y\"")),
        "subscriptions[1].name"
    );
    assert_eq!(
        invalid_key(&second("name = \" \"\nurl = \"https://y\"")),
        "subscriptions[1].name"
    );
    assert_eq!(
        invalid_key(&second("name = \"b\"\nurl = \"hooks.example.com\"")),
        "subscriptions[1].url"
    );
    assert_eq!(
        invalid_key(&second("name = \"b\"\nurl = \"https://\"")),
        "subscriptions[1].url"
    );
    assert_eq!(
        invalid_key(&second(
            "name = \"b\"\nurl = \"https://y\"\nkinds = [\"api-event\"]"
        )),
        "subscriptions[1].api_events"
    );
    assert_eq!(
        invalid_key(&second(
            "name = \"b\"\nurl = \"https://y\"\nkinds = [\"api-event\"]\n\
             [subscriptions.api_events]\nerrors = \"only\""
        )),
        "subscriptions[1].api_events"
    );
    assert_eq!(
        invalid_key(&second(
            "name = \"b\"\nurl = \"https://y\"\n[subscriptions.api_events]\nusers = [\"bob\"]"
        )),
        "subscriptions[1].kinds"
    );
    assert_eq!(
        invalid_key(&second(
            "name = \"b\"\nurl = \"https://y\"\nmax_attempts = 0"
        )),
        "subscriptions[1].max_attempts"
    );
    assert_eq!(
        invalid_key(&second("name = \"b\"\nurl = \"https://y\"\nkinds = []")),
        "subscriptions[1].kinds"
    );
    assert_eq!(
        invalid_key(&second("name = \"b\"\nurl = \"https://y\"\nrules = []")),
        "subscriptions[1].rules"
    );
    assert_eq!(
        invalid_key(&second(
            "name = \"b\"\nurl = \"https://y\"\ncompliance = [\"BAD\"]"
        )),
        "subscriptions[1].compliance"
    );
    assert_eq!(
        invalid_key(&second(
            "name = \"b\"\nurl = \"https://y\"\nheaders = { X = \"a\\nB: c\" }"
        )),
        "subscriptions[1].headers"
    );
    let msg = syntax(&second("url = \"https://y\""));
    assert!(msg.contains("missing field `name`"), "{msg}");
}

#[test]
fn api_event_pattern_parses() {
    let text = "[[subscriptions]]\nname = \"a\"\nurl = \"https://x\"\n\
                kinds = [\"api-event\", \"compliance\"]\n\
                [subscriptions.api_events]\nusers = [\"bob\"]\nerrors = \"none\"\n";
    let config = parse(text, &origin()).unwrap();
    let sub = &config.subscriptions[0];
    assert_eq!(
        sub.kinds,
        [NotificationKind::ApiEvent, NotificationKind::Compliance]
    );
    let api = sub.api_events.as_ref().unwrap();
    assert_eq!(api.errors, ErrorMatch::None);
    assert!(api.event_sources.is_empty());
}

#[test]
fn relative_paths_resolve_against_the_file() {
    let text = "data_dir = \"data\"\nevent_map = \"maps/extra.json\"\n";
    let config = parse(text, Path::new("/srv/ct/conftrail.toml")).unwrap();
    assert_eq!(config.data_dir, Some(PathBuf::from("/srv/ct/data")));
    assert_eq!(
        config.event_map,
        Some(PathBuf::from("/srv/ct/maps/extra.json"))
    );
    let config = parse("data_dir = \"/abs\"\n", Path::new("/srv/ct/c.toml")).unwrap();
    assert_eq!(config.data_dir, Some(PathBuf::from("/abs")));
    // A bare file name has an empty parent: the path stays relative to the working directory,
    // which is the file's directory.
    let config = parse(text, Path::new("conftrail.toml")).unwrap();
    assert_eq!(config.data_dir, Some(PathBuf::from("data")));
    assert_eq!(invalid_key("data_dir = \"\"\n"), "data_dir");
}

#[test]
fn rule_parameters_become_json() {
    let text = "[rules.r]\nparameters = { port = 22, ratio = 0.5, on = 1979-05-27, tags = [\"a\"], nested = { x = true } }\n";
    let config = parse(text, &origin()).unwrap();
    let params = config.rules["r"].parameters.clone().unwrap();
    assert_eq!(
        Value::Object(params),
        serde_json::json!({"port": 22, "ratio": 0.5, "on": "1979-05-27", "tags": ["a"], "nested": {"x": true}})
    );
    let msg = syntax("[rules.r]\nparameters = { x = nan }\n");
    assert!(msg.contains("rules.r.parameters"), "{msg}");
}

#[test]
fn load_reports_read_errors_and_reads_files() {
    let dir = std::env::temp_dir().join(format!("conftrail-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("missing.toml");
    let err = load(&missing).unwrap_err();
    assert!(matches!(err, ConfigFileError::Read { .. }), "{err}");
    assert!(err.to_string().contains("missing.toml"), "{err}");
    let file = dir.join("conftrail.toml");
    std::fs::write(&file, "data_dir = \"state\"\n").unwrap();
    let config = load(&file).unwrap();
    assert_eq!(config.data_dir, Some(dir.join("state")));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn collector_accounts_parse_with_their_settings() {
    let file = parse(
        "[collector]\ninterval = \"30m\"\nendpoint_url = \"http://127.0.0.1:5000\"\n\n\
         [[collector.accounts]]\nname = \"prod\"\nprofile = \"prod\"\n\
         role_arn = \"arn:aws:iam::111122223333:role/conftrail\"\nexternal_id = \"x-1\"\n\
         regions = [\"us-east-1\", \"eu-west-1\"]\ntypes = [\"AWS::EC2::SecurityGroup\"]\n\
         interval = \"5m\"\n\n\
         [collector.accounts.trail]\nbucket = \"org-trail\"\nprefix = \"AWSLogs/o-abc123/\"\n\
         region = \"eu-west-1\"\npoll = \"10s\"\n\
         queue_url = \"https://sqs.eu-west-1.amazonaws.com/111122223333/trail\"\n",
        &origin(),
    )
    .unwrap();
    assert_eq!(file.collector.interval.as_deref(), Some("30m"));
    let trail = file.collector.accounts[0].trail.as_ref().unwrap();
    assert_eq!(trail.bucket, "org-trail");
    assert_eq!(trail.prefix.as_deref(), Some("AWSLogs/o-abc123/"));
    assert_eq!(trail.region.as_deref(), Some("eu-west-1"));
    assert_eq!(trail.poll.as_deref(), Some("10s"));
    assert!(trail
        .queue_url
        .as_deref()
        .unwrap()
        .starts_with("https://sqs."));
    let account = &file.collector.accounts[0];
    assert_eq!(account.name, "prod");
    assert_eq!(account.regions, ["us-east-1", "eu-west-1"]);
    assert_eq!(account.external_id.as_deref(), Some("x-1"));
    assert_eq!(account.interval.as_deref(), Some("5m"));
}

#[test]
fn collector_checks() {
    let account = |extra: &str| format!("[[collector.accounts]]\nname = \"a\"\n{extra}\n");
    assert_eq!(
        invalid_key("[collector]\ninterval = \"30s\"\n"),
        "collector.interval"
    );
    assert_eq!(
        invalid_key("[collector]\ninterval = \"soon\"\n"),
        "collector.interval"
    );
    assert_eq!(
        invalid_key("[collector]\nendpoint_url = \"localhost:5000\"\n"),
        "collector.endpoint_url"
    );
    assert_eq!(
        invalid_key(&format!("{}{}", account(""), account(""))),
        "collector.accounts[1].name"
    );
    assert_eq!(
        invalid_key("[[collector.accounts]]\nname = \" \"\n"),
        "collector.accounts[0].name"
    );
    assert_eq!(
        invalid_key(&account("external_id = \"x\"")),
        "collector.accounts[0].external_id"
    );
    assert_eq!(
        invalid_key(&account("role_arn = \"conftrail\"")),
        "collector.accounts[0].role_arn"
    );
    assert_eq!(
        invalid_key(&account("regions = [\"us-east-1\", \"Virginia\"]")),
        "collector.accounts[0].regions[1]"
    );
    assert_eq!(
        invalid_key(&account("interval = \"10s\"")),
        "collector.accounts[0].interval"
    );
    assert!(syntax(&account("region = \"us-east-1\"")).contains("region"));
    let trail = |extra: &str| {
        account(&format!(
            "[collector.accounts.trail]\nbucket = \"b\"\n{extra}"
        ))
    };
    for (extra, key) in [
        ("poll = \"500ms\"", "collector.accounts[0].trail.poll"),
        ("poll = \"often\"", "collector.accounts[0].trail.poll"),
        ("region = \"Ireland\"", "collector.accounts[0].trail.region"),
        (
            "queue_url = \"trail-files\"",
            "collector.accounts[0].trail.queue_url",
        ),
    ] {
        assert_eq!(invalid_key(&trail(extra)), key, "{extra}");
    }
    assert_eq!(
        invalid_key(&account("[collector.accounts.trail]\nbucket = \"\"")),
        "collector.accounts[0].trail.bucket"
    );
    assert!(syntax(&trail("pol = \"1m\"")).contains("pol"));
}
