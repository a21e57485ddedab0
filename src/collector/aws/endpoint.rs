//! Where each service's requests go: AWS's own endpoints by default, or a configured URL
//! (a local emulator, a VPC endpoint), chosen as the AWS CLI and SDKs choose it.

use std::collections::BTreeMap;

/// The services the collector calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// Amazon EC2 (query protocol).
    Ec2,
    /// Amazon S3 (REST, XML).
    S3,
    /// S3 Control: the account-level public access block.
    S3Control,
    /// IAM (query protocol, one global endpoint).
    Iam,
    /// STS: who the credentials belong to.
    Sts,
    /// CloudTrail (JSON protocol).
    CloudTrail,
    /// SQS: notifications of new trail files.
    Sqs,
}

impl Service {
    /// The SDKs' service id as it appears in `AWS_ENDPOINT_URL_<ID>`.
    pub fn env_id(self) -> &'static str {
        match self {
            Service::Ec2 => "EC2",
            Service::S3 => "S3",
            Service::S3Control => "S3_CONTROL",
            Service::Iam => "IAM",
            Service::Sts => "STS",
            Service::CloudTrail => "CLOUDTRAIL",
            Service::Sqs => "SQS",
        }
    }

    /// The name requests are signed for.
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2",
            Service::S3 | Service::S3Control => "s3",
            Service::Iam => "iam",
            Service::Sts => "sts",
            Service::CloudTrail => "cloudtrail",
            Service::Sqs => "sqs",
        }
    }

    /// The lower-case name used in logs, metrics and configuration (`ec2`).
    pub fn name(self) -> &'static str {
        match self {
            Service::S3Control => "s3control",
            other => other.signing_name(),
        }
    }

    /// A global service is signed for one region whatever the resource's.
    fn global_signing_region(self) -> Option<&'static str> {
        match self {
            Service::Iam => Some("us-east-1"),
            _ => None,
        }
    }
}

/// One resolved endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Scheme, host and port, without a trailing slash (`https://ec2.us-east-1.amazonaws.com`).
    pub base: String,
    /// The region the request is signed for.
    pub signing_region: String,
    /// A configured endpoint (emulators): S3 buckets go in the path, not the host.
    pub custom: bool,
}

/// How endpoints are chosen: for a service, `endpoint_url` configured for it, then
/// `AWS_ENDPOINT_URL_<SERVICE>`, then the configured `endpoint_url` for all services, then
/// `AWS_ENDPOINT_URL`, then AWS's endpoint for the region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    /// `endpoint_url` from the configuration, for every service.
    pub configured: Option<String>,
    /// Per-service `endpoint_url`s from the configuration, by [`Service::name`].
    pub per_service: BTreeMap<String, String>,
    /// The `AWS_ENDPOINT_URL*` environment variables, read once.
    pub environment: BTreeMap<String, String>,
}

impl Endpoints {
    /// Endpoints from the configuration and this process's environment.
    pub fn from_environment(
        configured: Option<String>,
        per_service: BTreeMap<String, String>,
    ) -> Endpoints {
        let environment = std::env::vars()
            .filter(|(k, v)| k.starts_with("AWS_ENDPOINT_URL") && !v.trim().is_empty())
            .collect();
        Endpoints {
            configured,
            per_service,
            environment,
        }
    }

    /// The endpoint of `service` for resources in `region`.
    pub fn resolve(&self, service: Service, region: &str) -> Endpoint {
        let signing_region = service
            .global_signing_region()
            .unwrap_or(region)
            .to_string();
        let custom = self
            .per_service
            .get(service.name())
            .or_else(|| {
                self.environment
                    .get(&format!("AWS_ENDPOINT_URL_{}", service.env_id()))
            })
            .or(self.configured.as_ref())
            .or_else(|| self.environment.get("AWS_ENDPOINT_URL"));
        match custom {
            Some(url) => Endpoint {
                base: url.trim().trim_end_matches('/').to_string(),
                signing_region,
                custom: true,
            },
            None => Endpoint {
                base: aws_endpoint(service, region),
                signing_region,
                custom: false,
            },
        }
    }
}

fn aws_endpoint(service: Service, region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    match service {
        Service::Iam if region.starts_with("cn-") => format!("https://iam.{suffix}"),
        Service::Iam if region.starts_with("us-gov-") => {
            "https://iam.us-gov.amazonaws.com".to_string()
        }
        Service::Iam => "https://iam.amazonaws.com".to_string(),
        Service::S3Control => format!("https://s3-control.{region}.{suffix}"),
        other => format!("https://{}.{region}.{suffix}", other.signing_name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(configured: Option<&str>, env: &[(&str, &str)]) -> Endpoints {
        Endpoints {
            configured: configured.map(str::to_string),
            per_service: BTreeMap::new(),
            environment: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn aws_endpoints_follow_service_and_region() {
        let e = endpoints(None, &[]);
        let ec2 = e.resolve(Service::Ec2, "eu-west-1");
        assert_eq!(ec2.base, "https://ec2.eu-west-1.amazonaws.com");
        assert_eq!(ec2.signing_region, "eu-west-1");
        assert!(!ec2.custom);
        let iam = e.resolve(Service::Iam, "eu-west-1");
        assert_eq!(iam.base, "https://iam.amazonaws.com");
        assert_eq!(iam.signing_region, "us-east-1");
        assert_eq!(
            e.resolve(Service::S3, "cn-north-1").base,
            "https://s3.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn the_most_specific_configured_endpoint_wins() {
        let env = [
            ("AWS_ENDPOINT_URL", "http://all:1"),
            ("AWS_ENDPOINT_URL_S3", "http://s3-env:2/"),
        ];
        let e = endpoints(None, &env);
        assert_eq!(e.resolve(Service::S3, "us-east-1").base, "http://s3-env:2");
        assert_eq!(e.resolve(Service::Ec2, "us-east-1").base, "http://all:1");
        // The configuration's own endpoint beats the general variable, not the service's.
        let e = endpoints(Some("http://conf:3"), &env);
        assert_eq!(e.resolve(Service::Ec2, "us-east-1").base, "http://conf:3");
        assert_eq!(e.resolve(Service::S3, "us-east-1").base, "http://s3-env:2");
        let mut e = endpoints(Some("http://conf:3"), &env);
        e.per_service
            .insert("s3".to_string(), "http://s3-conf:4".to_string());
        let s3 = e.resolve(Service::S3, "us-east-1");
        assert_eq!(s3.base, "http://s3-conf:4");
        assert!(s3.custom);
    }
}
