use super::*;
use crate::collector::aws::model;
use serde_json::json;

/// A DescribeSecurityGroups answer in EC2's XML, as the API reference shows it: one group
/// with SSH open to the world over IPv4 and IPv6, a group pair, tags, and a next token.
const DESCRIBE_SECURITY_GROUPS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
    <securityGroupInfo>
        <item>
            <ownerId>123456789012</ownerId>
            <groupId>sg-1a2b3c4d</groupId>
            <groupName>WebServers &amp; friends</groupName>
            <groupDescription>Web Servers</groupDescription>
            <vpcId>vpc-614cc409</vpcId>
            <ipPermissions>
                <item>
                    <ipProtocol>tcp</ipProtocol>
                    <fromPort>22</fromPort>
                    <toPort>22</toPort>
                    <groups>
                        <item>
                            <userId>123456789012</userId>
                            <groupId>sg-9a8d7f5c</groupId>
                        </item>
                    </groups>
                    <ipRanges>
                        <item><cidrIp>0.0.0.0/0</cidrIp><description>anyone</description></item>
                    </ipRanges>
                    <ipv6Ranges>
                        <item><cidrIpv6>::/0</cidrIpv6></item>
                    </ipv6Ranges>
                    <prefixListIds/>
                </item>
            </ipPermissions>
            <ipPermissionsEgress>
                <item>
                    <ipProtocol>-1</ipProtocol>
                    <groups/>
                    <ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges>
                    <ipv6Ranges/>
                    <prefixListIds/>
                </item>
            </ipPermissionsEgress>
            <tagSet>
                <item><key>Name</key><value>web</value></item>
            </tagSet>
        </item>
    </securityGroupInfo>
    <nextToken>page2</nextToken>
</DescribeSecurityGroupsResponse>"#;

#[test]
fn an_ec2_answer_decodes_to_boto3s_shape() {
    let model = model::ec2().unwrap();
    let root = parse(DESCRIBE_SECURITY_GROUPS.as_bytes()).unwrap();
    assert_eq!(root.name, "DescribeSecurityGroupsResponse");
    let output = decode(model, &root, "DescribeSecurityGroupsResult").unwrap();
    assert_eq!(output["NextToken"], "page2");
    assert_eq!(
        output["SecurityGroups"][0],
        json!({
            "OwnerId": "123456789012",
            "GroupId": "sg-1a2b3c4d",
            "GroupName": "WebServers & friends",
            "Description": "Web Servers",
            "VpcId": "vpc-614cc409",
            "IpPermissions": [{
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "UserIdGroupPairs": [{"UserId": "123456789012", "GroupId": "sg-9a8d7f5c"}],
                "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "anyone"}],
                "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
                "PrefixListIds": []
            }],
            "IpPermissionsEgress": [{
                "IpProtocol": "-1",
                "UserIdGroupPairs": [],
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                "Ipv6Ranges": [],
                "PrefixListIds": []
            }],
            "Tags": [{"Key": "Name", "Value": "web"}]
        })
    );
}

#[test]
fn a_decoded_group_maps_to_the_same_item_as_the_clis_output() {
    let model = model::ec2().unwrap();
    let root = parse(DESCRIBE_SECURITY_GROUPS.as_bytes()).unwrap();
    let output = decode(model, &root, "DescribeSecurityGroupsResult").unwrap();
    let group = output["SecurityGroups"][0].clone();
    let at = chrono::Utc::now();
    let item = crate::ingest::describe::ec2::security_group_item(group, Some("eu-west-1"), at)
        .unwrap()
        .item;
    assert_eq!(item.resource_id, "sg-1a2b3c4d");
    assert_eq!(item.aws_region, "eu-west-1");
    assert_eq!(
        item.arn.as_deref(),
        Some("arn:aws:ec2:eu-west-1:123456789012:security-group/sg-1a2b3c4d")
    );
    let ssh = &item.configuration["ipPermissions"][0];
    assert_eq!(ssh["fromPort"], 22);
    assert_eq!(ssh["ipv4Ranges"][0]["cidrIp"], "0.0.0.0/0");
    assert_eq!(ssh["ipRanges"], json!(["0.0.0.0/0"]));
    assert_eq!(ssh["ipv6Ranges"][0]["cidrIpv6"], "::/0");
}

#[test]
fn a_number_that_is_not_one_is_named_by_its_path() {
    let model = model::ec2().unwrap();
    let bad =
        DESCRIBE_SECURITY_GROUPS.replace("<fromPort>22</fromPort>", "<fromPort>ssh</fromPort>");
    let root = parse(bad.as_bytes()).unwrap();
    let e = decode(model, &root, "DescribeSecurityGroupsResult").unwrap_err();
    assert_eq!(
        e.to_string(),
        "SecurityGroups[0].IpPermissions[0].FromPort: expected an integer, found \"ssh\""
    );
}

#[test]
fn malformed_truncated_and_deep_documents_are_errors() {
    assert!(matches!(parse(b""), Err(XmlError::Empty)));
    let cut = &DESCRIBE_SECURITY_GROUPS.as_bytes()[..400];
    assert!(
        matches!(parse(cut), Err(XmlError::Malformed { .. })),
        "{:?}",
        parse(cut)
    );
    assert!(matches!(
        parse(b"<a><b></a>"),
        Err(XmlError::Malformed { .. })
    ));
    let deep = "<a>".repeat(10_000) + &"</a>".repeat(10_000);
    assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooDeep));
}

#[test]
fn error_elements_are_found_at_any_depth() {
    let root = parse(b"<Response><Errors><Error><Code>AuthFailure</Code><Message>no</Message></Error></Errors></Response>").unwrap();
    assert_eq!(root.find_text("Code"), Some("AuthFailure"));
    assert_eq!(root.find_text("Message"), Some("no"));
    assert_eq!(root.find_text("RequestID"), None);
}
