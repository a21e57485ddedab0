//! Remediation through AWS's API against a real moto server (`moto[server]` from PyPI, see
//! tests/common/moto.rs): the server sweeps, judges, fixes the resource with the collector's
//! credentials, describes it again at once, and the job ends verified.

mod common;

use common::moto::Moto;
use common::server::{timeline_versions, Server, READ};
use serde_json::Value;
use std::time::{Duration, Instant};

const SG: &str = "AWS::EC2::SecurityGroup";
const BUCKET: &str = "AWS::S3::Bucket";

/// The jobs of `rule` once every one of them has settled (or after a minute, failing).
fn settled_jobs(server: &Server, rule: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, body) = server.request(
            READ,
            "GET",
            &format!("/v1/remediation/jobs?rule={rule}"),
            None,
        );
        assert_eq!(code, 200, "{body}");
        let jobs: Value = serde_json::from_str(&body).expect("json");
        let jobs = jobs["jobs"].as_array().cloned().unwrap_or_default();
        let open = ["queued", "inProgress", "succeeded"];
        if !jobs.is_empty()
            && jobs
                .iter()
                .all(|j| !open.contains(&j["state"].as_str().unwrap_or("")))
        {
            return jobs;
        }
        assert!(
            Instant::now() < deadline,
            "{rule}: jobs did not settle: {jobs:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn compliance(server: &Server, resource_type: &str, id: &str, rule: &str) -> String {
    let (code, body) = server.request(
        READ,
        "GET",
        &format!("/v1/resources/{resource_type}/{id}/compliance"),
        None,
    );
    assert_eq!(code, 200, "{body}");
    let verdicts: Value = serde_json::from_str(&body).expect("json");
    let all = verdicts["latest"].as_array().cloned().unwrap_or_default();
    all.iter()
        .find(|v| v["ruleName"] == rule)
        .and_then(|v| v["compliance"].as_str())
        .unwrap_or_else(|| panic!("no verdict of {rule}: {verdicts}"))
        .to_string()
}

fn versions(server: &Server, resource_type: &str, id: &str) -> usize {
    let (_, body) = server.request(
        READ,
        "GET",
        &format!("/v1/resources/{resource_type}/{id}/timeline"),
        None,
    );
    timeline_versions(&serde_json::from_str(&body).expect("json")).len()
}

#[test]
fn a_world_open_group_is_fixed_through_ec2_and_the_job_verified_at_once() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    // SSH open to the world (IPv4 and IPv6) and to the office; HTTPS open to the world.
    let group = moto.python(
        "vpc = ec2.describe_vpcs()['Vpcs'][0]['VpcId']\n\
         g = ec2.create_security_group(GroupName='bastion', Description='bastion', VpcId=vpc)['GroupId']\n\
         ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[\n\
           {'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22,\n\
            'IpRanges': [{'CidrIp': '0.0.0.0/0'}, {'CidrIp': '10.0.0.0/8'}], 'Ipv6Ranges': [{'CidrIpv6': '::/0'}]},\n\
           {'IpProtocol': 'tcp', 'FromPort': 443, 'ToPort': 443, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])\n\
         print(g)",
    );
    let server = moto.serve(
        dir.path(),
        "[collector]\ninterval = \"1h\"\n\n[[collector.accounts]]\nname = \"sandbox\"\nregions = [\"us-east-1\"]\ntypes = [\"AWS::EC2::SecurityGroup\"]\n\n\
         [remediation.restricted-ssh]\naction = \"aws\"\noperation = \"revoke-world-open-ingress\"\nautomatic = true\nparameters = { ports = \"22\" }\n",
    );
    let jobs = settled_jobs(&server, "restricted-ssh");
    let job = jobs
        .iter()
        .find(|j| j["resourceId"] == group.as_str())
        .unwrap_or_else(|| panic!("no job on {group}: {jobs:?}"));
    assert_eq!(job["state"], "verified", "{job}");
    let message = job["attempts"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("tcp 22 from 0.0.0.0/0 and ::/0"),
        "the attempt says what was revoked: {job}"
    );
    // Only the world ranges on port 22 are gone: the office's SSH and public HTTPS stay.
    let left = moto.python(&format!(
        "p = ec2.describe_security_groups(GroupIds=['{group}'])['SecurityGroups'][0]['IpPermissions']\n\
         print(json.dumps(sorted([(x['FromPort'], [r['CidrIp'] for r in x['IpRanges']], [r['CidrIpv6'] for r in x['Ipv6Ranges']]) for x in p])))"
    ));
    assert_eq!(
        left,
        r#"[[22, ["10.0.0.0/8"], []], [443, ["0.0.0.0/0"], []]]"#
    );
    // The fix was recorded by the re-describe that followed it, not by a later sweep.
    assert_eq!(versions(&server, SG, &group), 2);
    assert_eq!(
        compliance(&server, SG, &group, "restricted-ssh"),
        "COMPLIANT"
    );
    let (_, status) = server.request(READ, "GET", "/v1/collector/status", None);
    let status: Value = serde_json::from_str(&status).expect("json");
    assert_eq!(status["accounts"][0]["sweeps"], 1, "{status}");
    server.stop();
}

#[test]
fn a_public_unencrypted_bucket_is_fixed_through_s3_by_four_actions() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    moto.python(
        "s3.create_bucket(Bucket='shared')\n\
         s3.put_bucket_acl(Bucket='shared', ACL='public-read-write')",
    );
    let server = moto.serve(
        dir.path(),
        "[collector]\ninterval = \"1h\"\n\n[[collector.accounts]]\nname = \"sandbox\"\nregions = [\"us-east-1\"]\ntypes = [\"AWS::S3::Bucket\"]\n\n\
         [remediation.s3-bucket-public-read-prohibited]\naction = \"aws\"\noperation = \"remove-public-acl-grants\"\nautomatic = true\n\n\
         [remediation.s3-bucket-level-public-access-prohibited]\naction = \"aws\"\noperation = \"put-public-access-block\"\nautomatic = true\n\n\
         [remediation.s3-bucket-versioning-enabled]\naction = \"aws\"\noperation = \"enable-versioning\"\nautomatic = true\n\n\
         [remediation.s3-bucket-server-side-encryption-enabled]\naction = \"aws\"\noperation = \"enable-default-encryption\"\nautomatic = true\n",
    );
    for rule in [
        "s3-bucket-server-side-encryption-enabled",
        "s3-bucket-public-read-prohibited",
        "s3-bucket-level-public-access-prohibited",
        "s3-bucket-versioning-enabled",
    ] {
        let jobs = settled_jobs(&server, rule);
        assert_eq!(jobs.len(), 1, "{rule}: {jobs:?}");
        assert_eq!(jobs[0]["state"], "verified", "{rule}: {jobs:?}");
        assert_eq!(compliance(&server, BUCKET, "shared", rule), "COMPLIANT");
    }
    let bucket = moto.python(
        "acl = s3.get_bucket_acl(Bucket='shared')['Grants']\n\
         pab = s3.get_public_access_block(Bucket='shared')['PublicAccessBlockConfiguration']\n\
         v = s3.get_bucket_versioning(Bucket='shared').get('Status')\n\
         e = s3.get_bucket_encryption(Bucket='shared')['ServerSideEncryptionConfiguration']['Rules'][0]\n\
         print(json.dumps([sorted(g['Grantee'].get('URI', 'owner') for g in acl), pab['BlockPublicAcls'] and pab['RestrictPublicBuckets'], v, e['ApplyServerSideEncryptionByDefault']['SSEAlgorithm']]))",
    );
    assert_eq!(
        bucket, r#"[["owner"], true, "Enabled", "AES256"]"#,
        "on moto"
    );
    server.stop();
}

#[test]
fn an_aws_action_on_the_wrong_type_or_without_an_account_fails_at_once_saying_why() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    moto.python(
        "vpc = ec2.describe_vpcs()['Vpcs'][0]['VpcId']\n\
         g = ec2.create_security_group(GroupName='web', Description='web', VpcId=vpc)['GroupId']\n\
         ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[{'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])",
    );
    // A bucket operation configured for a security-group rule: refused at the attempt, named.
    let server = moto.serve(
        dir.path(),
        "[collector]\ninterval = \"1h\"\n\n[[collector.accounts]]\nname = \"sandbox\"\nregions = [\"us-east-1\"]\ntypes = [\"AWS::EC2::SecurityGroup\"]\n\n\
         [remediation.restricted-ssh]\naction = \"aws\"\noperation = \"enable-versioning\"\nautomatic = true\n",
    );
    let jobs = settled_jobs(&server, "restricted-ssh");
    let failed = jobs
        .iter()
        .find(|j| j["state"] == "failed")
        .expect("a failed job");
    let message = failed["attempts"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("enable-versioning changes AWS::S3::Bucket, not AWS::EC2::SecurityGroup"),
        "{failed}"
    );
    assert_eq!(
        failed["attempts"].as_array().map(Vec::len),
        Some(1),
        "not retried: {failed}"
    );
    server.stop();

    // No collector account signs for the resource's account (it came from a file): the job
    // fails at once, saying what to configure.
    let bare = tempfile::tempdir().expect("tempdir");
    let server = moto.serve(
        bare.path(),
        "[remediation.restricted-ssh]\naction = \"aws\"\noperation = \"revoke-world-open-ingress\"\nautomatic = true\n",
    );
    let file = bare.path().join("groups.json");
    let groups = moto.python("print(json.dumps(ec2.describe_security_groups(), default=str))");
    std::fs::write(&file, groups).expect("write");
    server.ingest(&std::fs::read_to_string(&file).expect("read"));
    let jobs = settled_jobs(&server, "restricted-ssh");
    let message = jobs[0]["attempts"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(jobs[0]["state"], "failed", "{jobs:?}");
    assert!(
        message.contains("no collector account signs for account 123456789012")
            && message.contains("[[collector.accounts]]"),
        "{message}"
    );
    server.stop();
}

#[test]
fn an_iam_users_old_access_keys_are_deactivated_through_iam() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = moto.python(
        "iam.create_user(UserName='carol')\n\
         a = iam.create_access_key(UserName='carol')['AccessKey']['AccessKeyId']\n\
         b = iam.create_access_key(UserName='carol')['AccessKey']['AccessKeyId']\n\
         iam.update_access_key(UserName='carol', AccessKeyId=b, Status='Inactive')\n\
         print(a)",
    );
    // moto's keys are made now: any key is older than 0 days. No managed rule judges key age
    // yet: the MFA rule (carol has no MFA device) starts the job.
    let server = moto.serve(
        dir.path(),
        "[collector]\ninterval = \"1h\"\n\n[[collector.accounts]]\nname = \"sandbox\"\nregions = [\"us-east-1\"]\ntypes = [\"AWS::IAM::User\"]\n\n\
         [remediation.iam-user-mfa-enabled]\naction = \"aws\"\noperation = \"deactivate-old-access-keys\"\nautomatic = true\nparameters = { maxAgeDays = \"0\" }\n",
    );
    let jobs = settled_jobs(&server, "iam-user-mfa-enabled");
    assert_eq!(jobs.len(), 1, "carol's job: {jobs:?}");
    let job = &jobs[0];
    // The keys were deactivated and the user described again at once; MFA is still off, so
    // the fix did not make it compliant.
    assert_eq!(job["state"], "notEffective", "{job}");
    assert_eq!(job["attempts"][0]["outcome"], "succeeded", "{job}");
    let message = job["attempts"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "deactivated access keys of carol: {keys} (0 days old)"
        )),
        "only the active key: {job}"
    );
    let states = moto.python(
        "print(json.dumps(sorted(k['Status'] for k in iam.list_access_keys(UserName='carol')['AccessKeyMetadata'])))",
    );
    assert_eq!(states, r#"["Inactive", "Inactive"]"#, "on moto");
    server.stop();
}
