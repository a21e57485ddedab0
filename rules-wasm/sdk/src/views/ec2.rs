//! EC2 views: security groups and instances.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::{absent, other_spelling, Seen};
use crate::json::{lenient_i64, null_as_empty, nullable_list, Field, Text};
use crate::net::{is_world_open, PortList, PortRange, Protocol};
use crate::scan::{ScanError, Scanner};
use crate::Item;

/// `AWS::EC2::SecurityGroup` configuration: identity and ingress permissions
/// (`ipPermissions`). Egress permissions are not read.
///
/// `ipPermissions` absent is an error (through [`ip_permissions`](Self::ip_permissions) and
/// the questions built on it), `[]` or `null` is a group without ingress. Each permission must
/// have `ipProtocol` and at least one of `ipRanges`, `ipv4Ranges`, `ipv6Ranges` (AWS Config
/// writes `ipRanges` in every version), or reading fails naming what is missing.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroup<'a> {
    /// `sg-…`
    #[serde(borrow, default)]
    pub group_id: Option<Text<'a>>,
    /// The group's name.
    #[serde(borrow, default)]
    pub group_name: Option<Text<'a>>,
    /// The VPC.
    #[serde(borrow, default)]
    pub vpc_id: Option<Text<'a>>,
    /// Ingress permissions; `None` when the configuration has no `ipPermissions` key (read
    /// them with [`ip_permissions`](Self::ip_permissions), which says so), `null` reads as none.
    #[serde(borrow, default, deserialize_with = "nullable_list")]
    pub ip_permissions: Option<Vec<IpPermission<'a>>>,
    /// The EC2 API's `IpPermissions` was there instead (for the error message).
    #[serde(default, rename = "IpPermissions")]
    ip_permissions_pascal: Seen,
}

/// One ingress permission.
#[derive(Debug, Clone)]
pub struct IpPermission<'a> {
    /// `tcp`, `udp`, `icmp`, `-1` (all), or a number (`6`, `17`); required (`null` reads as all).
    pub ip_protocol: Protocol,
    /// First port (absent for protocol `-1`); numbers or numeric strings.
    pub from_port: Option<i64>,
    /// Last port.
    pub to_port: Option<i64>,
    /// Legacy IPv4 ranges (configuration item 1.2: a list of CIDR strings; objects accepted).
    pub ip_ranges: Vec<Cidr<'a>>,
    /// IPv4 ranges `[{cidrIp}]`.
    pub ipv4_ranges: Vec<Cidr<'a>>,
    /// IPv6 ranges `[{cidrIpv6}]`.
    pub ipv6_ranges: Vec<Cidr<'a>>,
}

/// What an ingress permission must have: its protocol, and its sources in one spelling at
/// least (without them, which addresses it admits cannot be told).
const PERMISSION_INCOMPLETE: &str = "an ipPermissions entry has none of ipRanges, ipv4Ranges, ipv6Ranges (is the item in AWS Config's shape? keys are camelCase)";

/// The JSON of an ingress permission, before the check that its sources are there.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PermissionFields<'a> {
    ip_protocol: Protocol,
    #[serde(default, deserialize_with = "lenient_i64")]
    from_port: Option<i64>,
    #[serde(default, deserialize_with = "lenient_i64")]
    to_port: Option<i64>,
    #[serde(borrow, default, deserialize_with = "nullable_list")]
    ip_ranges: Option<Vec<Cidr<'a>>>,
    #[serde(borrow, default, deserialize_with = "nullable_list")]
    ipv4_ranges: Option<Vec<Cidr<'a>>>,
    #[serde(borrow, default, deserialize_with = "nullable_list")]
    ipv6_ranges: Option<Vec<Cidr<'a>>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for IpPermission<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = PermissionFields::deserialize(d)?;
        if f.ip_ranges.is_none() && f.ipv4_ranges.is_none() && f.ipv6_ranges.is_none() {
            return Err(de::Error::custom(PERMISSION_INCOMPLETE));
        }
        Ok(IpPermission {
            ip_protocol: f.ip_protocol,
            from_port: f.from_port,
            to_port: f.to_port,
            ip_ranges: f.ip_ranges.unwrap_or_default(),
            ipv4_ranges: f.ipv4_ranges.unwrap_or_default(),
            ipv6_ranges: f.ipv6_ranges.unwrap_or_default(),
        })
    }
}

/// A CIDR, read from a string (`"0.0.0.0/0"`) or an object (`{"cidrIp": …}` /
/// `{"cidrIpv6": …}`, other fields such as `description` skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cidr<'a>(pub Text<'a>);

impl Cidr<'_> {
    /// The CIDR text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Cidr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Cidr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a CIDR string or {cidrIp}/{cidrIpv6}")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cidr(Text(v.into())))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cidr(Text(v.to_string().into())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Cidr(Text("".into())))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut cidr = None;
                while let Some(key) = a.next_key::<CidrKey>()? {
                    match key {
                        CidrKey::Cidr if cidr.is_none() => {
                            cidr = a.next_value::<Option<Text<'de>>>()?
                        }
                        _ => super::skip(&mut a)?,
                    }
                }
                Ok(Cidr(cidr.unwrap_or(Text("".into()))))
            }
        }
        d.deserialize_any(V)
    }
}

enum CidrKey {
    Cidr,
    Other,
}

impl<'de> Deserialize<'de> for CidrKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = CidrKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CidrKey, E> {
                Ok(match v {
                    "cidrIp" | "cidrIpv6" | "CidrIp" | "CidrIpv6" => CidrKey::Cidr,
                    _ => CidrKey::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

impl<'de> Deserialize<'de> for Protocol {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Protocol;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an IP protocol name or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Protocol, E> {
                Ok(Protocol::parse(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Protocol, E> {
                Ok(Protocol::parse(&v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Protocol, E> {
                Ok(Protocol::parse(&v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Protocol, E> {
                Ok(Protocol::All)
            }
        }
        d.deserialize_any(V)
    }
}

/// The ports a permission opens: every port for protocol all; `fromPort`-`toPort` otherwise, a
/// missing or negative `fromPort` read as 0 and `toPort` as 65535 (as the awslabs rules do),
/// a reversed pair as the single `fromPort`. Meaningless for ICMP (type and code).
pub fn port_range_of(
    protocol: &Protocol,
    from_port: Option<i64>,
    to_port: Option<i64>,
) -> PortRange {
    if *protocol == Protocol::All {
        return PortRange::ALL;
    }
    let clamp = |p: Option<i64>, dflt: u16| match p {
        Some(p) if (0..=65535).contains(&p) => p as u16,
        _ => dflt,
    };
    let from = clamp(from_port, 0);
    let to = clamp(to_port, 65535);
    PortRange {
        from,
        to: to.max(from),
    }
}

/// `tcp 22`, `udp 80-100`, `all traffic`, `icmp`.
fn describe(protocol: &Protocol, ports: PortRange) -> String {
    match protocol {
        Protocol::All => "all traffic".to_string(),
        Protocol::Tcp | Protocol::Udp => format!("{protocol} {ports}"),
        other => other.name().to_string(),
    }
}

impl<'a> IpPermission<'a> {
    /// The ports the permission opens (see [`port_range_of`]).
    pub fn port_range(&self) -> PortRange {
        port_range_of(&self.ip_protocol, self.from_port, self.to_port)
    }

    /// Every CIDR of the permission: `ipv4Ranges`, then `ipRanges`, then `ipv6Ranges`.
    pub fn cidrs(&self) -> impl Iterator<Item = &str> {
        self.ipv4_ranges
            .iter()
            .chain(&self.ip_ranges)
            .chain(&self.ipv6_ranges)
            .map(Cidr::as_str)
    }

    /// The first CIDR that is the whole internet (`0.0.0.0/0` or `::/0`), if any.
    pub fn world_open_cidr(&self) -> Option<&str> {
        self.cidrs().find(|c| is_world_open(c))
    }

    /// Describes the permission: `tcp 22`, `udp 80-100`, `all traffic`.
    pub fn describe(&self) -> String {
        describe(&self.ip_protocol, self.port_range())
    }

    fn world_open(&self) -> Option<WorldOpen<'_>> {
        self.world_open_cidr().map(|cidr| WorldOpen {
            cidr: Text(cidr.into()),
            protocol: self.ip_protocol.clone(),
            ports: self.port_range(),
        })
    }
}

/// An ingress permission that lets the whole internet in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldOpen<'a> {
    /// Its first world-open CIDR (`0.0.0.0/0` or `::/0`).
    pub cidr: Text<'a>,
    /// Its protocol.
    pub protocol: Protocol,
    /// The ports it opens.
    pub ports: PortRange,
}

impl WorldOpen<'_> {
    /// `tcp 22`, `udp 80-100`, `all traffic`, `icmp`.
    pub fn describe(&self) -> String {
        describe(&self.protocol, self.ports)
    }

    /// A copy that owns its text.
    pub fn into_owned(self) -> WorldOpen<'static> {
        WorldOpen {
            cidr: Text(self.cidr.0.into_owned().into()),
            protocol: self.protocol,
            ports: self.ports,
        }
    }
}

impl fmt::Display for WorldOpen<'_> {
    /// `0.0.0.0/0 (tcp 20-30)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.cidr, self.describe())
    }
}

/// The first of `open` letting the world reach a TCP port in `ports`, for each range of `ports`.
fn first_per_range<'a>(
    open: &[WorldOpen<'a>],
    ports: &PortList,
) -> Vec<(PortRange, WorldOpen<'a>)> {
    let mut out = Vec::new();
    for blocked in ports.ranges() {
        if let Some(w) = open
            .iter()
            .find(|w| w.protocol.covers_tcp() && w.ports.overlaps(blocked))
        {
            out.push((*blocked, w.clone()));
        }
    }
    out
}

impl<'a> SecurityGroup<'a> {
    /// Reads the security group from an item's configuration with the fast scanner (no JSON
    /// tree, no copies of strings without escapes). `item.configuration::<SecurityGroup>()`
    /// gives the same result through serde. For the hottest path (one yes/no question about
    /// ingress) [`Ingress`] is leaner still.
    pub fn from_item(item: &'a Item) -> Result<SecurityGroup<'a>, String> {
        if !item.has_configuration() {
            return item.configuration();
        }
        Self::from_json(item.configuration_json())
    }

    /// [`from_item`](Self::from_item) for JSON text. Falls back to serde_json (for its error
    /// message) when the text is not of the expected shape.
    pub fn from_json(json: &'a str) -> Result<SecurityGroup<'a>, String> {
        match scan_security_group(json) {
            Ok(sg) => Ok(sg),
            Err(_) => serde_json::from_str(json).map_err(|e| format!("configuration: {e}")),
        }
    }

    /// The ingress permissions, or an error naming `configuration.ipPermissions` when the
    /// configuration does not have it (as opposed to `[]`: no ingress).
    pub fn ip_permissions(&self) -> Result<&[IpPermission<'a>], String> {
        self.ip_permissions.as_deref().ok_or_else(|| {
            absent(
                "configuration.ipPermissions",
                self.ip_permissions_pascal.0.then_some("IpPermissions"),
            )
        })
    }

    /// The ingress permissions open to the whole internet, in order (one entry per permission,
    /// naming its first world-open CIDR).
    pub fn world_open(&self) -> Result<impl Iterator<Item = WorldOpen<'_>>, String> {
        Ok(self
            .ip_permissions()?
            .iter()
            .filter_map(IpPermission::world_open))
    }

    /// The first ingress permission that lets the whole internet reach TCP `port`
    /// (protocol tcp or all). This is the restricted-ssh test for port 22.
    pub fn world_open_tcp_port(&self, port: u16) -> Result<Option<WorldOpen<'_>>, String> {
        Ok(self
            .world_open()?
            .find(|w| w.protocol.covers_tcp() && w.ports.contains(port)))
    }

    /// For each range of `ports`, the first permission that lets the whole internet reach one
    /// of its ports over TCP; returns (the range, the permission).
    pub fn world_open_tcp_ports(
        &self,
        ports: &PortList,
    ) -> Result<Vec<(PortRange, WorldOpen<'_>)>, String> {
        Ok(first_per_range(
            &self.world_open()?.collect::<Vec<_>>(),
            ports,
        ))
    }

    /// The group id, or "".
    pub fn id(&self) -> &str {
        self.group_id.as_deref().unwrap_or("")
    }
}

fn scan_security_group(json: &str) -> Result<SecurityGroup<'_>, ScanError> {
    let mut s = Scanner::new(json);
    let mut sg = SecurityGroup {
        group_id: None,
        group_name: None,
        vpc_id: None,
        ip_permissions: None,
        ip_permissions_pascal: Seen(false),
    };
    s.object(|s, key| {
        if key == "ipPermissions" {
            if sg.ip_permissions.is_some() {
                // serde refuses a duplicate field: let it say so
                return Err(ScanError { at: s.position() });
            }
            let permissions = sg.ip_permissions.insert(Vec::new());
            s.array(|s| {
                permissions.push(scan_permission(s)?);
                Ok(())
            })
        } else if key == "IpPermissions" {
            sg.ip_permissions_pascal = Seen(true);
            s.skip_value()
        } else if key == "groupId" {
            sg.group_id = s.opt_text()?;
            Ok(())
        } else if key == "groupName" {
            sg.group_name = s.opt_text()?;
            Ok(())
        } else if key == "vpcId" {
            sg.vpc_id = s.opt_text()?;
            Ok(())
        } else {
            s.skip_value()
        }
    })?;
    if s.at_end() {
        Ok(sg)
    } else {
        Err(ScanError { at: s.position() })
    }
}

fn scan_permission<'a>(s: &mut Scanner<'a>) -> Result<IpPermission<'a>, ScanError> {
    let mut p = IpPermission {
        ip_protocol: Protocol::All,
        from_port: None,
        to_port: None,
        ip_ranges: Vec::new(),
        ipv4_ranges: Vec::new(),
        ipv6_ranges: Vec::new(),
    };
    let (mut has_protocol, mut has_ranges) = (false, false);
    s.object(|s, key| {
        if key == "ipProtocol" {
            has_protocol = true;
            p.ip_protocol = match s.opt_text()? {
                Some(t) => Protocol::parse(&t),
                None => Protocol::All,
            };
            Ok(())
        } else if key == "fromPort" {
            p.from_port = s.lenient_i64()?;
            Ok(())
        } else if key == "toPort" {
            p.to_port = s.lenient_i64()?;
            Ok(())
        } else if key == "ipv4Ranges" {
            has_ranges = true;
            s.array(|s| scan_cidr(s).map(|c| p.ipv4_ranges.push(c)))
        } else if key == "ipRanges" {
            has_ranges = true;
            s.array(|s| scan_cidr(s).map(|c| p.ip_ranges.push(c)))
        } else if key == "ipv6Ranges" {
            has_ranges = true;
            s.array(|s| scan_cidr(s).map(|c| p.ipv6_ranges.push(c)))
        } else {
            s.skip_value()
        }
    })?;
    if has_protocol && has_ranges {
        Ok(p)
    } else {
        // incomplete: serde's error names the missing field
        Err(ScanError { at: s.position() })
    }
}

fn scan_cidr<'a>(s: &mut Scanner<'a>) -> Result<Cidr<'a>, ScanError> {
    if s.peek() == Some(b'"') {
        return s.string().map(Cidr);
    }
    let mut cidr = None;
    s.object(|s, key| {
        if cidr.is_none()
            && (key == "cidrIp" || key == "cidrIpv6" || key == "CidrIp" || key == "CidrIpv6")
        {
            cidr = s.opt_text()?;
            Ok(())
        } else {
            s.skip_value()
        }
    })?;
    Ok(Cidr(cidr.unwrap_or(Text("".into()))))
}

/// A security group's ingress permissions, scanned lazily from the configuration JSON: no
/// struct is built, nothing is allocated (bar strings with escapes), and each question is one
/// pass over the text that stops as soon as it has the answer — at the end of `ipPermissions`
/// at the latest, so `ipPermissionsEgress`, `tags` etc. that AWS writes after it are never
/// read. This is the hot path of restricted-ssh (see also [`SecurityGroup`], which reads
/// everything).
///
/// On JSON it does not expect, it falls back to the serde view, so answers and errors are the
/// same as with [`SecurityGroup`] — except that what comes after the answer is not read, so
/// not checked either.
///
/// ```ignore
/// if let Some(open) = Ingress::of(item)?.world_open_tcp_port(22)? { /* "0.0.0.0/0 (tcp 22)" */ }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Ingress<'a> {
    json: &'a str,
}

impl<'a> Ingress<'a> {
    /// The ingress permissions of a security group item (an error when it has no
    /// configuration).
    pub fn of(item: &'a Item) -> Result<Ingress<'a>, String> {
        if !item.has_configuration() {
            return item
                .configuration::<SecurityGroup>()
                .map(|_| unreachable!());
        }
        Ok(Self::from_json(item.configuration_json()))
    }

    /// The ingress permissions in a security group's configuration JSON.
    pub fn from_json(json: &'a str) -> Ingress<'a> {
        Ingress { json }
    }

    /// One pass: calls `f` with each world-open permission that `wanted(protocol, ports)`
    /// accepts, in order, until `f` returns false. Returns whether `ipPermissions` is there.
    fn scan_world_open(
        &self,
        wanted: impl Fn(&Protocol, PortRange) -> bool,
        mut f: impl FnMut(WorldOpen<'a>) -> bool,
    ) -> Result<bool, ScanError> {
        let mut s = Scanner::new(self.json);
        let mut found = false;
        s.object_while(|s, key| {
            if key != "ipPermissions" {
                s.skip_value()?;
                return Ok(true);
            }
            found = true;
            s.array_while(|s| {
                let mut protocol = Protocol::All;
                let mut has_protocol = false;
                let (mut from, mut to) = (None, None);
                let mut ranges: [Option<&'a str>; 3] = [None; 3];
                s.object(|s, key| {
                    if key == "ipProtocol" {
                        has_protocol = true;
                        protocol = s
                            .opt_text()?
                            .map(|t| Protocol::parse(&t))
                            .unwrap_or(Protocol::All);
                    } else if key == "fromPort" {
                        from = s.lenient_i64()?;
                    } else if key == "toPort" {
                        to = s.lenient_i64()?;
                    } else if key == "ipv4Ranges" {
                        ranges[0] = Some(s.raw_value()?);
                    } else if key == "ipRanges" {
                        ranges[1] = Some(s.raw_value()?);
                    } else if key == "ipv6Ranges" {
                        ranges[2] = Some(s.raw_value()?);
                    } else {
                        s.skip_value()?;
                    }
                    Ok(())
                })?;
                if !has_protocol || ranges.iter().all(Option::is_none) {
                    // incomplete permission: the serde view names what is missing
                    return Err(ScanError { at: s.position() });
                }
                let ports = port_range_of(&protocol, from, to);
                if !wanted(&protocol, ports) {
                    // the ranges were skipped by raw_value; check they are arrays as serde would
                    for raw in ranges.into_iter().flatten() {
                        let b = raw.as_bytes()[0];
                        if b != b'[' && b != b'n' {
                            return Err(ScanError { at: 0 });
                        }
                    }
                    return Ok(true);
                }
                for raw in ranges.into_iter().flatten() {
                    if let Some(cidr) = first_world_open_cidr(raw)? {
                        return Ok(f(WorldOpen {
                            cidr,
                            protocol,
                            ports,
                        }));
                    }
                }
                Ok(true)
            })?;
            Ok(false)
        })?;
        Ok(found)
    }

    /// The error for a configuration without `ipPermissions`, naming another spelling of it
    /// when there is one.
    fn absent(&self) -> String {
        absent(
            "configuration.ipPermissions",
            other_spelling(self.json, "ipPermissions").as_deref(),
        )
    }

    /// The ingress permissions open to the whole internet, in order (as
    /// [`SecurityGroup::world_open`]).
    pub fn world_open(&self) -> Result<Vec<WorldOpen<'a>>, String> {
        let mut out = Vec::new();
        match self.scan_world_open(
            |_, _| true,
            |w| {
                out.push(w);
                true
            },
        ) {
            Ok(true) => Ok(out),
            Ok(false) => Err(self.absent()),
            Err(_) => Ok(SecurityGroup::from_json(self.json)?
                .world_open()?
                .map(WorldOpen::into_owned)
                .collect()),
        }
    }

    /// The first ingress permission that lets the whole internet reach TCP `port` (protocol
    /// tcp or all), as [`SecurityGroup::world_open_tcp_port`].
    pub fn world_open_tcp_port(&self, port: u16) -> Result<Option<WorldOpen<'a>>, String> {
        let mut found = None;
        let scanned = self.scan_world_open(
            |protocol, ports| protocol.covers_tcp() && ports.contains(port),
            |w| {
                found = Some(w);
                false
            },
        );
        match scanned {
            Ok(true) => Ok(found),
            Ok(false) => Err(self.absent()),
            Err(_) => Ok(SecurityGroup::from_json(self.json)?
                .world_open_tcp_port(port)?
                .map(WorldOpen::into_owned)),
        }
    }

    /// As [`SecurityGroup::world_open_tcp_ports`].
    pub fn world_open_tcp_ports(
        &self,
        ports: &PortList,
    ) -> Result<Vec<(PortRange, WorldOpen<'a>)>, String> {
        Ok(first_per_range(&self.world_open()?, ports))
    }
}

/// The first world-open CIDR in a ranges array (strings or `{cidrIp}` / `{cidrIpv6}` objects).
fn first_world_open_cidr(raw: &str) -> Result<Option<Text<'_>>, ScanError> {
    let mut s = Scanner::new(raw);
    let mut found = None;
    s.array_while(|s| {
        let cidr = scan_cidr(s)?;
        if is_world_open(cidr.as_str()) {
            found = Some(cidr.0);
            Ok(false)
        } else {
            Ok(true)
        }
    })?;
    Ok(found)
}

/// `AWS::EC2::Instance` configuration: public addresses and security groups.
///
/// AWS Config writes `publicIpAddress` (null when none), `networkInterfaces` and
/// `securityGroups` on every instance; [`public_ips`](Self::public_ips) and
/// [`security_group_ids`](Self::security_group_ids) return an error naming the field when they
/// need one that is absent.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance<'a> {
    /// `i-…`
    #[serde(borrow, default)]
    pub instance_id: Option<Text<'a>>,
    /// The primary public IPv4 address (null or "" when none).
    #[serde(borrow, default)]
    pub public_ip_address: Field<Text<'a>>,
    /// Older spelling, also seen in AWS's rule documentation.
    #[serde(borrow, default)]
    pub public_ip: Field<Text<'a>>,
    /// `{name: running|stopped|…}`
    #[serde(borrow, default)]
    pub state: Option<InstanceState<'a>>,
    /// Security groups of the instance (`None` when absent, `null` reads as none).
    #[serde(borrow, default, deserialize_with = "nullable_list")]
    pub security_groups: Option<Vec<GroupRef<'a>>>,
    /// Network interfaces, with their public IP associations and groups (`None` when absent).
    #[serde(borrow, default, deserialize_with = "nullable_list")]
    pub network_interfaces: Option<Vec<NetworkInterface<'a>>>,
    /// The EC2 API's spellings were there instead (for the error messages).
    #[serde(default, rename = "PublicIpAddress")]
    public_ip_address_pascal: Seen,
    #[serde(default, rename = "SecurityGroups")]
    security_groups_pascal: Seen,
    #[serde(default, rename = "NetworkInterfaces")]
    network_interfaces_pascal: Seen,
}

/// Instance state.
#[derive(Debug, Clone, Deserialize)]
pub struct InstanceState<'a> {
    /// `running`, `stopped`, …
    #[serde(borrow, default)]
    pub name: Option<Text<'a>>,
}

/// `{groupId, groupName}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRef<'a> {
    /// `sg-…`
    #[serde(borrow, default)]
    pub group_id: Option<Text<'a>>,
    /// Its name.
    #[serde(borrow, default)]
    pub group_name: Option<Text<'a>>,
}

/// A network interface of an instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkInterface<'a> {
    /// `eni-…`
    #[serde(borrow, default)]
    pub network_interface_id: Option<Text<'a>>,
    /// The interface's public IP association.
    #[serde(borrow, default)]
    pub association: Option<Association<'a>>,
    /// Private addresses, each with its own association.
    #[serde(borrow, default, deserialize_with = "null_as_empty")]
    pub private_ip_addresses: Vec<PrivateIp<'a>>,
    /// Security groups of the interface.
    #[serde(borrow, default, deserialize_with = "null_as_empty")]
    pub groups: Vec<GroupRef<'a>>,
}

/// A private address.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateIp<'a> {
    /// Its public IP association.
    #[serde(borrow, default)]
    pub association: Option<Association<'a>>,
}

/// A public IP association.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Association<'a> {
    /// The public IPv4 address.
    #[serde(borrow, default)]
    pub public_ip: Option<Text<'a>>,
}

impl<'a> Instance<'a> {
    /// Every public IPv4 address of the instance (`publicIpAddress`, `publicIp`, and the
    /// network interfaces' associations), without duplicates or blanks, in that order. When it
    /// finds none, an error if `publicIpAddress` (or `publicIp`) or `networkInterfaces` is
    /// absent: the item cannot show that there is none.
    pub fn public_ips(&self) -> Result<Vec<&str>, String> {
        let interfaces = self.network_interfaces.iter().flatten().flat_map(|ni| {
            std::iter::once(ni.association.as_ref())
                .chain(
                    ni.private_ip_addresses
                        .iter()
                        .map(|p| p.association.as_ref()),
                )
                .map(|a| a.and_then(|a| a.public_ip.as_ref()))
        });
        let candidates = [self.public_ip_address.value(), self.public_ip.value()]
            .into_iter()
            .chain(interfaces);
        let mut out: Vec<&str> = Vec::new();
        for ip in candidates.flatten() {
            let ip = ip.as_str().trim();
            if !ip.is_empty() && !out.contains(&ip) {
                out.push(ip);
            }
        }
        // An address found is an answer whatever else is missing; "none" needs both fields.
        if out.is_empty() {
            if self.public_ip_address.is_absent() && self.public_ip.is_absent() {
                return Err(absent(
                    "configuration.publicIpAddress",
                    self.public_ip_address_pascal.0.then_some("PublicIpAddress"),
                ));
            }
            if self.network_interfaces.is_none() {
                return Err(absent(
                    "configuration.networkInterfaces",
                    self.network_interfaces_pascal
                        .0
                        .then_some("NetworkInterfaces"),
                ));
            }
        }
        Ok(out)
    }

    /// The ids of the instance's security groups (`securityGroups` and the interfaces'
    /// `groups`), without duplicates, in that order; an error when `securityGroups` is absent.
    pub fn security_group_ids(&self) -> Result<Vec<&str>, String> {
        let Some(own) = &self.security_groups else {
            return Err(absent(
                "configuration.securityGroups",
                self.security_groups_pascal.0.then_some("SecurityGroups"),
            ));
        };
        let mut out: Vec<&str> = Vec::new();
        let groups = own.iter().chain(
            self.network_interfaces
                .iter()
                .flatten()
                .flat_map(|n| n.groups.iter()),
        );
        for g in groups {
            if let Some(id) = g
                .group_id
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SG: &str = r#"{
        "groupId": "sg-1", "groupName": "web", "description": "x",
        "ipPermissions": [
            {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0", "description": "https"}], "ipRanges": ["0.0.0.0/0"], "ipv6Ranges": [], "prefixListIds": [], "userIdGroupPairs": []},
            {"ipProtocol": "6", "fromPort": "20", "toPort": "30", "ipRanges": ["10.0.0.0/8"]},
            {"ipProtocol": "-1", "ipv6Ranges": [{"cidrIpv6": "::/0"}]},
            {"ipProtocol": "udp", "fromPort": 53, "toPort": 53, "ipv4Ranges": null, "ipRanges": [{"cidrIp": "0.0.0.0/0"}]}
        ],
        "ipPermissionsEgress": [{"ipProtocol": "-1", "ipRanges": ["0.0.0.0/0"]}],
        "tags": [], "vpcId": "vpc-1"
    }"#;

    #[test]
    fn security_group_view() {
        let sg: SecurityGroup = serde_json::from_str(SG).unwrap();
        assert_eq!(sg.id(), "sg-1");
        assert!(matches!(
            sg.group_id.as_ref().unwrap().0,
            std::borrow::Cow::Borrowed(_)
        ));
        let p = sg.ip_permissions().unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(p[0].port_range(), PortRange::single(443));
        assert_eq!(p[1].ip_protocol, Protocol::Tcp);
        assert_eq!(p[1].port_range(), PortRange::new(20, 30));
        assert_eq!(p[2].port_range(), PortRange::ALL);
        assert_eq!(p[0].world_open_cidr(), Some("0.0.0.0/0"));
        assert_eq!(p[1].world_open_cidr(), None);
        assert_eq!(p[2].world_open_cidr(), Some("::/0"));
        assert_eq!(p[3].world_open_cidr(), Some("0.0.0.0/0"));
        assert_eq!(sg.world_open().unwrap().count(), 3);
        let ssh = sg.world_open_tcp_port(22).unwrap().unwrap();
        assert_eq!(ssh.to_string(), "::/0 (all traffic)");
        assert_eq!(
            sg.world_open_tcp_port(443).unwrap().unwrap().to_string(),
            "0.0.0.0/0 (tcp 443)"
        );
        let hits = sg
            .world_open_tcp_ports(&PortList::parse("22,53").unwrap())
            .unwrap();
        assert_eq!(hits.len(), 2); // both via the -1 rule; udp 53 does not count for tcp
        assert_eq!(hits[1].1.protocol, Protocol::All);
    }

    /// The fast scanner and serde read the same thing.
    pub(crate) fn assert_same_as_serde(json: &str) {
        let fast = format!("{:?}", scan_security_group(json).unwrap());
        let slow = format!("{:?}", serde_json::from_str::<SecurityGroup>(json).unwrap());
        assert_eq!(fast, slow, "{json}");
    }

    #[test]
    fn scanner_matches_serde() {
        assert_same_as_serde(SG);
        for json in [
            r#"{}"#,
            r#"{"IpPermissions":[{"IpProtocol":"tcp"}],"groupId":"sg-1"}"#,
            r#"{"ipPermissions":null,"groupId":null}"#,
            r#"{"ipPermissions":[]}"#,
            r#"{"ipPermissions":[{"ipProtocol":null,"fromPort":"x","toPort":22.0,"ipRanges":[]}]}"#,
            r#"{"ipPermissions":[{"ipProtocol":6,"fromPort":"22","toPort":"22","ipRanges":[{"cidrIp":"0.0.0.0/0","description":"a \"quoted\" one"}]}]}"#,
            r#"{"groupName":"we\u00efrd \"name\"","ipPermissions":[{"ipProtocol":"tcp","ipv6Ranges":[{"description":"d","cidrIpv6":"::/0"}],"ipv4Ranges":null}]}"#,
            r#" { "description" : "spaces\n" , "ipPermissions" : [ { "ipProtocol" : "udp" , "fromPort" : 53 , "toPort" : 53 , "ipRanges" : [ "10.0.0.0/8" ] } ] , "tags" : [ { "key" : "k" , "value" : "v" } ] } "#,
        ] {
            assert_same_as_serde(json);
        }
    }

    /// Ingress (lazy scan) answers as the serde view does, errors included.
    pub(crate) fn assert_ingress_same_as_serde(json: &str) {
        let sg =
            serde_json::from_str::<SecurityGroup>(json).map_err(|e| format!("configuration: {e}"));
        let ingress = Ingress::from_json(json);
        let slow = sg.clone().and_then(|sg| {
            Ok(sg
                .world_open()?
                .map(WorldOpen::into_owned)
                .collect::<Vec<_>>())
        });
        assert_eq!(ingress.world_open(), slow, "{json}");
        for port in [0, 22, 80, 443, 3389, 65535] {
            let slow = sg
                .clone()
                .and_then(|sg| Ok(sg.world_open_tcp_port(port)?.map(WorldOpen::into_owned)));
            assert_eq!(
                ingress.world_open_tcp_port(port),
                slow,
                "{json} port {port}"
            );
        }
    }

    #[test]
    fn ingress_matches_serde() {
        for json in [
            SG,
            r#"{}"#,
            r#"{"IpPermissions":[]}"#,
            r#"{"ipPermissions":null}"#,
            r#"{"ipPermissions":[{}]}"#,
            r#"{"ipPermissions":[{"ipProtocol":"tcp","fromPort":22,"toPort":22}]}"#,
            r#"{"ipPermissions":[{"fromPort":22,"toPort":22,"ipRanges":["0.0.0.0/0"]}]}"#,
            r#"{"ipPermissions":[{"ipProtocol":"-1","ipRanges":[null,"0.0.0.0/0"]}]}"#,
            r#"{"groupId":"sg-1","ipPermissions":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipv4Ranges":[{"description":"x","cidrIp":"10.0.0.0/8"}],"ipRanges":["0.0.0.0/0"]},{"ipProtocol":"udp","fromPort":"22","toPort":"22","ipv6Ranges":[{"cidrIpv6":"::/0"}]}],"ipPermissionsEgress":[{"ipProtocol":"-1","ipRanges":["0.0.0.0/0"]}]}"#,
            r#"{"ipPermissions":[{"ipProtocol":"tcp","fromPort":20,"toPort":30,"ipv4Ranges":[{"cidrIp":"0.0.0.0\/0"}]}]}"#,
        ] {
            assert_ingress_same_as_serde(json);
        }
        // a null configuration has no ipPermissions either
        let err = Ingress::from_json("null").world_open().unwrap_err();
        assert!(
            err.starts_with("configuration.ipPermissions is absent"),
            "{err}"
        );
    }

    /// Every security group in the repository's real data reads the same through the scanner,
    /// Ingress and serde.
    #[test]
    fn realdata_security_groups_read_the_same_three_ways() {
        let mut files = vec![
            "config_items/rdk_example_ci/AWS_EC2_SecurityGroup.json".to_string(),
            "config_items/custodian/cwe__event-config-rule-security-group.json".to_string(),
            "config_items/custodian/placebo__test_sg_config_diff__config.GetResourceConfigHistory_1.json".to_string(),
            "config_items/custodian/placebo__test_sg_config_ingres_diff__config.GetResourceConfigHistory_1.json".to_string(),
            "config_items/custodian/placebo__test_sg_config_patch_pitr__config.GetResourceConfigHistory_1.json".to_string(),
            "config_items/awsdocs_examples/sns_ci_change_notification_ec2_securitygroup_diff.json".to_string(),
        ];
        let dir = "config_items/aws_config_rules_tests";
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/realdata");
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            files.push(format!(
                "{dir}/{}",
                e.unwrap().file_name().to_string_lossy()
            ));
        }
        assert_eq!(files.len(), 14);
        for f in files {
            let item = crate::testing::realdata_item(&f);
            assert_eq!(item.resource_type(), "AWS::EC2::SecurityGroup", "{f}");
            assert_same_as_serde(item.configuration_json());
            assert_ingress_same_as_serde(item.configuration_json());
        }
    }

    #[test]
    fn ingress_falls_back_to_serde() {
        // unexpected shapes: same answer or same error as the serde view
        let err = Ingress::from_json(r#"{"description":"x","ipPermissions":{"x":1}}"#)
            .world_open_tcp_port(22)
            .unwrap_err();
        assert!(err.starts_with("configuration: invalid type"), "{err}");
        let err = Ingress::from_json(r#"{"description":x,"ipPermissions":[]}"#)
            .world_open()
            .unwrap_err();
        assert!(err.starts_with("configuration: "), "{err}");
        // documented limit: what follows ipPermissions is not read, so not checked
        assert!(Ingress::from_json(r#"{"ipPermissions":[],"#)
            .world_open()
            .is_ok());
        // ranges that are not arrays are an error even when skipped
        assert!(Ingress::from_json(
            r#"{"ipPermissions":[{"ipProtocol":"udp","ipRanges":"0.0.0.0/0"}]}"#
        )
        .world_open_tcp_port(22)
        .is_err());
        // an odd but valid shape the scanner declines: protocol as an object
        let json = r#"{"ipPermissions":[{"ipProtocol":{"odd":1}},{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":["0.0.0.0/0"]}]}"#;
        assert!(Ingress::from_json(json).world_open_tcp_port(22).is_err());
        assert!(serde_json::from_str::<SecurityGroup>(json).is_err());
        // ... but once the answer is found the rest is not read (nor checked)
        let json = r#"{"ipPermissions":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":["0.0.0.0/0"]},{"ipProtocol":{"odd":1}}]}"#;
        assert_eq!(
            Ingress::from_json(json)
                .world_open_tcp_port(22)
                .unwrap()
                .unwrap()
                .to_string(),
            "0.0.0.0/0 (tcp 22)"
        );
    }

    #[test]
    fn scanner_falls_back_to_serde_errors() {
        let err = SecurityGroup::from_json(r#"{"ipPermissions":{"x":1}}"#).unwrap_err();
        assert!(err.starts_with("configuration: invalid type"), "{err}");
        assert!(SecurityGroup::from_json(r#"{"ipPermissions":[]} x"#).is_err());
        assert_same_as_serde(r#"{"ipPermissions":[{"ipProtocol":"-1","ipRanges":[null]}]}"#);
    }

    #[test]
    fn lenient_ports() {
        // (protocol, ports) of a permission with these fields and empty ipRanges
        let read = |fields: &str| {
            let json = format!(r#"{{{fields},"ipRanges":[]}}"#);
            let p: IpPermission = serde_json::from_str(&json).unwrap();
            (p.ip_protocol.clone(), p.port_range())
        };
        let all = PortRange::ALL;
        assert_eq!(
            read(r#""ipProtocol":"tcp","fromPort":22"#).1,
            PortRange::new(22, 65535)
        );
        assert_eq!(
            read(r#""ipProtocol":"tcp","fromPort":-1,"toPort":-1"#).1,
            all
        );
        assert_eq!(
            read(r#""ipProtocol":"tcp","fromPort":null,"toPort":"x""#).1,
            all
        );
        assert_eq!(
            read(r#""ipProtocol":"tcp","fromPort":30,"toPort":0"#).1,
            PortRange::single(30)
        );
        assert_eq!(read(r#""ipProtocol":17"#).0, Protocol::Udp);
        assert_eq!(read(r#""ipProtocol":null"#).0, Protocol::All);
    }

    /// The real `aws ec2 describe-security-groups` output of group sg-926a56e8 (tcp 22 open to
    /// 0.0.0.0/0), PascalCase, as the configuration JSON of a generic-shape item.
    pub(crate) fn described_group() -> String {
        let item = crate::testing::described_security_group("sg-926a56e8");
        let json = item.configuration_json().to_string();
        assert!(
            json.contains(r#""IpPermissions":[{"#) && json.contains("0.0.0.0/0"),
            "{json}"
        );
        json
    }

    #[test]
    fn absent_ip_permissions_are_an_error_not_no_ingress() {
        let described = described_group();
        let expected = "configuration.ipPermissions is absent (is the item in AWS Config's shape? keys are camelCase; found IpPermissions: PascalCase, as the AWS APIs and CLI write it (e.g. describe-* output), not AWS Config's ipPermissions)";
        let sg = SecurityGroup::from_json(&described).unwrap();
        assert_eq!(sg.ip_permissions().unwrap_err(), expected);
        assert_eq!(sg.world_open_tcp_port(22).unwrap_err(), expected);
        let serde: SecurityGroup = serde_json::from_str(&described).unwrap();
        assert_eq!(serde.world_open().err().unwrap(), expected);
        let ingress = Ingress::from_json(&described);
        assert_eq!(ingress.world_open_tcp_port(22).unwrap_err(), expected);
        assert_eq!(ingress.world_open().unwrap_err(), expected);
        assert_eq!(
            ingress
                .world_open_tcp_ports(&PortList::parse("22").unwrap())
                .unwrap_err(),
            expected
        );
        // no ipPermissions at all: the same error, without a hint
        let none = "configuration.ipPermissions is absent (is the item in AWS Config's shape? keys are camelCase)";
        assert_eq!(
            Ingress::from_json(r#"{"groupId":"sg-1"}"#)
                .world_open()
                .unwrap_err(),
            none
        );
        assert_eq!(
            SecurityGroup::from_json(r#"{"groupId":"sg-1"}"#)
                .unwrap()
                .ip_permissions()
                .unwrap_err(),
            none
        );
        // another spelling is named by Ingress, which reads the keys
        let err = Ingress::from_json(r#"{"ip_permissions":[]}"#)
            .world_open()
            .unwrap_err();
        assert!(
            err.ends_with("found ip_permissions: another spelling of ipPermissions)"),
            "{err}"
        );
        // present and empty (or null, as AWS Config writes empty lists) is no ingress
        for json in [r#"{"ipPermissions":[]}"#, r#"{"ipPermissions":null}"#] {
            assert_eq!(
                Ingress::from_json(json).world_open_tcp_port(22),
                Ok(None),
                "{json}"
            );
            let sg = SecurityGroup::from_json(json).unwrap();
            assert_eq!(sg.world_open_tcp_port(22), Ok(None), "{json}");
            assert!(sg.ip_permissions().unwrap().is_empty());
        }
    }

    #[test]
    fn incomplete_permissions_are_an_error() {
        // camelCase outside, PascalCase inside: neither the protocol nor the sources are seen
        let json = r#"{"ipPermissions":[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]}"#;
        let err = Ingress::from_json(json)
            .world_open_tcp_port(22)
            .unwrap_err();
        assert!(
            err.starts_with("configuration: missing field `ipProtocol`"),
            "{err}"
        );
        let json = r#"{"ipPermissions":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]}"#;
        let err = Ingress::from_json(json)
            .world_open_tcp_port(22)
            .unwrap_err();
        assert!(
            err.starts_with("configuration: an ipPermissions entry has none of ipRanges, ipv4Ranges, ipv6Ranges"),
            "{err}"
        );
        assert_eq!(SecurityGroup::from_json(json).unwrap_err(), err);
        // one spelling of the sources is enough (1.2 items have only ipRanges)
        let json =
            r#"{"ipPermissions":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipv6Ranges":[]}]}"#;
        assert_eq!(Ingress::from_json(json).world_open_tcp_port(22), Ok(None));
    }

    #[test]
    fn instance_view() {
        let i: Instance = serde_json::from_str(
            r#"{"instanceId":"i-1","publicIpAddress":"1.2.3.4","state":{"name":"running"},
                "securityGroups":[{"groupId":"sg-a","groupName":"a"}],
                "networkInterfaces":[{"association":{"publicIp":"1.2.3.4"},
                    "privateIpAddresses":[{"association":{"publicIp":"5.6.7.8"}},{"association":null}],
                    "groups":[{"groupId":"sg-a"},{"groupId":"sg-b"}]}]}"#,
        )
        .unwrap();
        assert_eq!(i.public_ips().unwrap(), vec!["1.2.3.4", "5.6.7.8"]);
        assert_eq!(i.security_group_ids().unwrap(), vec!["sg-a", "sg-b"]);
        let i: Instance = serde_json::from_str(
            r#"{"publicIpAddress":null,"publicIp":"","networkInterfaces":null,"securityGroups":null}"#,
        )
        .unwrap();
        assert!(i.public_ips().unwrap().is_empty());
        assert!(i.security_group_ids().unwrap().is_empty());
    }

    #[test]
    fn absent_instance_fields_are_an_error_not_none() {
        // `aws ec2 describe-instances` output: PascalCase
        let i: Instance = serde_json::from_str(
            r#"{"InstanceId":"i-1","PublicIpAddress":"3.3.3.3","SecurityGroups":[{"GroupId":"sg-1"}],"NetworkInterfaces":[]}"#,
        )
        .unwrap();
        assert_eq!(
            i.public_ips().unwrap_err(),
            "configuration.publicIpAddress is absent (is the item in AWS Config's shape? keys are camelCase; found PublicIpAddress: PascalCase, as the AWS APIs and CLI write it (e.g. describe-* output), not AWS Config's publicIpAddress)"
        );
        let err = i.security_group_ids().unwrap_err();
        assert!(
            err.starts_with("configuration.securityGroups is absent")
                && err.contains("found SecurityGroups: PascalCase"),
            "{err}"
        );
        let i: Instance = serde_json::from_str("{}").unwrap();
        assert_eq!(
            i.public_ips().unwrap_err(),
            "configuration.publicIpAddress is absent (is the item in AWS Config's shape? keys are camelCase)"
        );
        // an address found is an answer, whatever else is missing
        let i: Instance = serde_json::from_str(r#"{"publicIpAddress":"1.2.3.4"}"#).unwrap();
        assert_eq!(i.public_ips().unwrap(), vec!["1.2.3.4"]);
        // "none" needs the interfaces too
        let i: Instance = serde_json::from_str(r#"{"publicIpAddress":null}"#).unwrap();
        assert!(i
            .public_ips()
            .unwrap_err()
            .starts_with("configuration.networkInterfaces is absent"));
        let i: Instance = serde_json::from_str(
            r#"{"publicIpAddress":null,"networkInterfaces":[],"securityGroups":[]}"#,
        )
        .unwrap();
        assert_eq!(i.public_ips(), Ok(vec![]));
        assert_eq!(i.security_group_ids(), Ok(vec![]));
    }
}
