//! Items shared by the benchmarks: deterministic ~1.5 KB security groups in the shape of
//! `shared/bench/gen_security_groups.py` (legacy `ipRanges` strings, `ipv4Ranges`, `ipv6Ranges`,
//! protocol `-1` without ports).

#![allow(dead_code)]

pub mod serve;

use serde_json::{json, Value};

/// A count from the environment variable `name`, or `default` when it is unset or not a number.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The account of every generated item.
pub const ACCOUNT: &str = "123456789012";

/// A small deterministic generator (no external randomness, so runs are comparable).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

pub fn permission(rng: &mut Lcg, salt: u64) -> Value {
    let port = 1000 + (salt % 60_000);
    match rng.next(4) {
        0 => {
            json!({"ipProtocol": "tcp", "fromPort": port, "toPort": port, "ipv6Ranges": [{"cidrIpv6": "::/0"}],
                     "prefixListIds": [], "userIdGroupPairs": [], "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipRanges": ["0.0.0.0/0"]})
        }
        1 => json!({"ipProtocol": "tcp", "fromPort": port, "toPort": port + 10, "ipv6Ranges": [],
                     "prefixListIds": [], "userIdGroupPairs": [], "ipv4Ranges": [{"cidrIp": "10.0.0.0/8"}], "ipRanges": ["10.0.0.0/8"]}),
        2 => json!({"ipProtocol": "-1", "ipv6Ranges": [], "prefixListIds": [],
                     "userIdGroupPairs": [{"groupId": "sg-0aaaabbbbccccdddd", "userId": ACCOUNT}], "ipv4Ranges": [], "ipRanges": []}),
        _ => json!({"ipProtocol": "udp", "fromPort": 53, "toPort": 53, "ipv6Ranges": [],
                     "prefixListIds": [], "userIdGroupPairs": [], "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipRanges": ["0.0.0.0/0"]}),
    }
}

/// Security group `group` in round `round`: the round changes one port, so every item is new.
pub fn security_group(group: usize, round: usize) -> Value {
    let mut rng = Lcg(group as u64 * 7919 + 1);
    let id = format!("sg-{:017x}", 0x0abc_0000_0000_0000_u64 + group as u64);
    let vpc = format!(
        "vpc-{:017x}",
        0x0def_0000_0000_0000_u64 + (group % 7) as u64
    );
    let name = format!("app-{group:05}-sg");
    let mut perms: Vec<Value> = (0..2).map(|i| permission(&mut rng, i)).collect();
    perms.push(json!({"ipProtocol": "tcp", "fromPort": 20_000 + round, "toPort": 20_000 + round,
        "ipv6Ranges": [], "prefixListIds": [], "userIdGroupPairs": [], "ipv4Ranges": [{"cidrIp": "10.1.0.0/16"}], "ipRanges": ["10.1.0.0/16"]}));
    let team = ["web", "data", "ops"][group % 3];
    let env = ["prod", "dev"][group % 2];
    let minutes = round as i64 * 60 + (group % 60) as i64;
    let time =
        chrono::DateTime::from_timestamp(1_735_689_600 + minutes * 60, 0).unwrap_or_default();
    json!({
        "version": "1.3", "accountId": ACCOUNT,
        "configurationItemCaptureTime": conftrail::model::format_time(&time),
        "configurationItemStatus": "OK", "configurationStateId": (time.timestamp_millis()).to_string(),
        "configurationItemMD5Hash": "", "arn": format!("arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{id}"),
        "resourceType": "AWS::EC2::SecurityGroup", "resourceId": id, "resourceName": name,
        "awsRegion": "us-east-1", "availabilityZone": "Not Applicable", "resourceCreationTime": null,
        "tags": {"team": team, "env": env},
        "relatedEvents": [], "relationships": [{"resourceId": vpc, "resourceType": "AWS::EC2::VPC", "name": "Is contained in Vpc"}],
        "configuration": {"description": format!("security group for {name}"), "groupName": name, "ipPermissions": perms,
            "ownerId": ACCOUNT, "groupId": id,
            "ipPermissionsEgress": [{"ipProtocol": "-1", "ipv6Ranges": [], "prefixListIds": [], "userIdGroupPairs": [], "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipRanges": ["0.0.0.0/0"]}],
            "tags": [{"key": "team", "value": "x"}], "vpcId": vpc},
        "supplementaryConfiguration": {}
    })
}
