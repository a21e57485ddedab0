//! EC2 views: security groups and instances.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::json::{lenient_i64, null_as_empty, Text};
use crate::net::{is_world_open, PortList, PortRange, Protocol};
use crate::scan::{ScanError, Scanner};
use crate::Item;

/// `AWS::EC2::SecurityGroup` configuration: identity and ingress permissions
/// (`ipPermissions`). Egress permissions are not read.
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
    /// Ingress permissions.
    #[serde(borrow, default, deserialize_with = "null_as_empty")]
    pub ip_permissions: Vec<IpPermission<'a>>,
}

/// One ingress permission.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpPermission<'a> {
    /// `tcp`, `udp`, `icmp`, `-1` (all), or a number (`6`, `17`).
    #[serde(default = "protocol_all")]
    pub ip_protocol: Protocol,
    /// First port (absent for protocol `-1`); numbers or numeric strings.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub from_port: Option<i64>,
    /// Last port.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub to_port: Option<i64>,
    /// Legacy IPv4 ranges (configuration item 1.2: a list of CIDR strings; objects accepted).
    #[serde(borrow, default, deserialize_with = "null_as_empty")]
    pub ip_ranges: Vec<Cidr<'a>>,
    /// IPv4 ranges `[{cidrIp}]`.
    #[serde(borrow, default, deserialize_with = "null_as_empty")]
    pub ipv4_ranges: Vec<Cidr<'a>>,
    /// IPv6 ranges `[{cidrIpv6}]`.
    #[serde(borrow, default, deserialize_with = "null_as_empty")]
    pub ipv6_ranges: Vec<Cidr<'a>>,
}

fn protocol_all() -> Protocol {
    Protocol::All
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

    /// The ingress permissions open to the whole internet, in order (one entry per permission,
    /// naming its first world-open CIDR).
    pub fn world_open(&self) -> impl Iterator<Item = WorldOpen<'_>> {
        self.ip_permissions
            .iter()
            .filter_map(IpPermission::world_open)
    }

    /// The first ingress permission that lets the whole internet reach TCP `port`
    /// (protocol tcp or all). This is the restricted-ssh test for port 22.
    pub fn world_open_tcp_port(&self, port: u16) -> Option<WorldOpen<'_>> {
        self.world_open()
            .find(|w| w.protocol.covers_tcp() && w.ports.contains(port))
    }

    /// For each range of `ports`, the first permission that lets the whole internet reach one
    /// of its ports over TCP; returns (the range, the permission).
    pub fn world_open_tcp_ports(&self, ports: &PortList) -> Vec<(PortRange, WorldOpen<'_>)> {
        first_per_range(&self.world_open().collect::<Vec<_>>(), ports)
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
        ip_permissions: Vec::new(),
    };
    s.object(|s, key| {
        if key == "ipPermissions" {
            s.array(|s| {
                sg.ip_permissions.push(scan_permission(s)?);
                Ok(())
            })
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
    s.object(|s, key| {
        if key == "ipProtocol" {
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
            s.array(|s| scan_cidr(s).map(|c| p.ipv4_ranges.push(c)))
        } else if key == "ipRanges" {
            s.array(|s| scan_cidr(s).map(|c| p.ip_ranges.push(c)))
        } else if key == "ipv6Ranges" {
            s.array(|s| scan_cidr(s).map(|c| p.ipv6_ranges.push(c)))
        } else {
            s.skip_value()
        }
    })?;
    Ok(p)
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
    /// accepts, in order, until `f` returns false.
    fn scan_world_open(
        &self,
        wanted: impl Fn(&Protocol, PortRange) -> bool,
        mut f: impl FnMut(WorldOpen<'a>) -> bool,
    ) -> Result<(), ScanError> {
        let mut s = Scanner::new(self.json);
        s.object_while(|s, key| {
            if key != "ipPermissions" {
                s.skip_value()?;
                return Ok(true);
            }
            s.array_while(|s| {
                let mut protocol = Protocol::All;
                let (mut from, mut to) = (None, None);
                let mut ranges: [Option<&'a str>; 3] = [None; 3];
                s.object(|s, key| {
                    if key == "ipProtocol" {
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
        })
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
            Ok(()) => Ok(out),
            Err(_) => Ok(SecurityGroup::from_json(self.json)?
                .world_open()
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
            Ok(()) => Ok(found),
            Err(_) => Ok(SecurityGroup::from_json(self.json)?
                .world_open_tcp_port(port)
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
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance<'a> {
    /// `i-…`
    #[serde(borrow, default)]
    pub instance_id: Option<Text<'a>>,
    /// The primary public IPv4 address (null or "" when none).
    #[serde(borrow, default)]
    pub public_ip_address: Option<Text<'a>>,
    /// Older spelling, also seen in AWS's rule documentation.
    #[serde(borrow, default)]
    pub public_ip: Option<Text<'a>>,
    /// `{name: running|stopped|…}`
    #[serde(borrow, default)]
    pub state: Option<InstanceState<'a>>,
    /// Security groups of the instance.
    #[serde(borrow, default, deserialize_with = "null_as_empty")]
    pub security_groups: Vec<GroupRef<'a>>,
    /// Network interfaces, with their public IP associations and groups.
    #[serde(borrow, default, deserialize_with = "null_as_empty")]
    pub network_interfaces: Vec<NetworkInterface<'a>>,
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
    /// network interfaces' associations), without duplicates or blanks, in that order.
    pub fn public_ips(&self) -> Vec<&str> {
        let interfaces = self.network_interfaces.iter().flat_map(|ni| {
            std::iter::once(ni.association.as_ref())
                .chain(
                    ni.private_ip_addresses
                        .iter()
                        .map(|p| p.association.as_ref()),
                )
                .map(|a| a.and_then(|a| a.public_ip.as_ref()))
        });
        let candidates = [self.public_ip_address.as_ref(), self.public_ip.as_ref()]
            .into_iter()
            .chain(interfaces);
        let mut out: Vec<&str> = Vec::new();
        for ip in candidates.flatten() {
            let ip = ip.as_str().trim();
            if !ip.is_empty() && !out.contains(&ip) {
                out.push(ip);
            }
        }
        out
    }

    /// The ids of the instance's security groups (`securityGroups` and the interfaces'
    /// `groups`), without duplicates, in that order.
    pub fn security_group_ids(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let groups = self
            .security_groups
            .iter()
            .chain(self.network_interfaces.iter().flat_map(|n| n.groups.iter()));
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
        out
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
        assert_eq!(sg.ip_permissions.len(), 4);
        let p = &sg.ip_permissions;
        assert_eq!(p[0].port_range(), PortRange::single(443));
        assert_eq!(p[1].ip_protocol, Protocol::Tcp);
        assert_eq!(p[1].port_range(), PortRange::new(20, 30));
        assert_eq!(p[2].port_range(), PortRange::ALL);
        assert_eq!(p[0].world_open_cidr(), Some("0.0.0.0/0"));
        assert_eq!(p[1].world_open_cidr(), None);
        assert_eq!(p[2].world_open_cidr(), Some("::/0"));
        assert_eq!(p[3].world_open_cidr(), Some("0.0.0.0/0"));
        assert_eq!(sg.world_open().count(), 3);
        let ssh = sg.world_open_tcp_port(22).unwrap();
        assert_eq!(ssh.to_string(), "::/0 (all traffic)");
        assert_eq!(
            sg.world_open_tcp_port(443).unwrap().to_string(),
            "0.0.0.0/0 (tcp 443)"
        );
        let hits = sg.world_open_tcp_ports(&PortList::parse("22,53").unwrap());
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
            r#"{"ipPermissions":null,"groupId":null}"#,
            r#"{"ipPermissions":[]}"#,
            r#"{"ipPermissions":[{}]}"#,
            r#"{"ipPermissions":[{"ipProtocol":null,"fromPort":"x","toPort":22.0}]}"#,
            r#"{"ipPermissions":[{"ipProtocol":6,"fromPort":"22","toPort":"22","ipRanges":[{"cidrIp":"0.0.0.0/0","description":"a \"quoted\" one"}]}]}"#,
            r#"{"groupName":"we\u00efrd \"name\"","ipPermissions":[{"ipProtocol":"tcp","ipv6Ranges":[{"description":"d","cidrIpv6":"::/0"}],"ipv4Ranges":null}]}"#,
            r#" { "description" : "spaces\n" , "ipPermissions" : [ { "ipProtocol" : "udp" , "fromPort" : 53 , "toPort" : 53 , "ipRanges" : [ "10.0.0.0/8" ] } ] , "tags" : [ { "key" : "k" , "value" : "v" } ] } "#,
        ] {
            assert_same_as_serde(json);
        }
    }

    /// Ingress (lazy scan) answers as the serde view does.
    pub(crate) fn assert_ingress_same_as_serde(json: &str) {
        let sg: SecurityGroup = serde_json::from_str(json).unwrap();
        let ingress = Ingress::from_json(json);
        let slow: Vec<WorldOpen> = sg.world_open().collect();
        assert_eq!(ingress.world_open().unwrap(), slow, "{json}");
        for port in [0, 22, 80, 443, 3389, 65535] {
            assert_eq!(
                ingress.world_open_tcp_port(port).unwrap(),
                sg.world_open_tcp_port(port),
                "{json} port {port}"
            );
        }
    }

    #[test]
    fn ingress_matches_serde() {
        for json in [
            SG,
            r#"{}"#,
            r#"null"#,
            r#"{"ipPermissions":null}"#,
            r#"{"ipPermissions":[{}]}"#,
            r#"{"ipPermissions":[{"ipProtocol":"-1","ipRanges":[null,"0.0.0.0/0"]}]}"#,
            r#"{"groupId":"sg-1","ipPermissions":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipv4Ranges":[{"description":"x","cidrIp":"10.0.0.0/8"}],"ipRanges":["0.0.0.0/0"]},{"ipProtocol":"udp","fromPort":"22","toPort":"22","ipv6Ranges":[{"cidrIpv6":"::/0"}]}],"ipPermissionsEgress":[{"ipProtocol":"-1","ipRanges":["0.0.0.0/0"]}]}"#,
            r#"{"ipPermissions":[{"ipProtocol":"tcp","fromPort":20,"toPort":30,"ipv4Ranges":[{"cidrIp":"0.0.0.0\/0"}]}]}"#,
        ] {
            if json == "null" {
                assert!(Ingress::from_json(json).world_open().unwrap().is_empty());
                continue;
            }
            assert_ingress_same_as_serde(json);
        }
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
        assert_same_as_serde(r#"{"ipPermissions":[{"ipRanges":[null]}]}"#);
    }

    #[test]
    fn lenient_ports() {
        let p: IpPermission =
            serde_json::from_str(r#"{"ipProtocol":"tcp","fromPort":22}"#).unwrap();
        assert_eq!(p.port_range(), PortRange::new(22, 65535));
        let p: IpPermission =
            serde_json::from_str(r#"{"ipProtocol":"tcp","fromPort":-1,"toPort":-1}"#).unwrap();
        assert_eq!(p.port_range(), PortRange::ALL);
        let p: IpPermission =
            serde_json::from_str(r#"{"ipProtocol":"tcp","fromPort":null,"toPort":"x"}"#).unwrap();
        assert_eq!(p.port_range(), PortRange::ALL);
        let p: IpPermission =
            serde_json::from_str(r#"{"ipProtocol":"tcp","fromPort":30,"toPort":0}"#).unwrap();
        assert_eq!(p.port_range(), PortRange::single(30));
        let p: IpPermission = serde_json::from_str(r#"{"ipProtocol":17}"#).unwrap();
        assert_eq!(p.ip_protocol, Protocol::Udp);
        let p: IpPermission = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(p.ip_protocol, Protocol::All);
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
        assert_eq!(i.public_ips(), vec!["1.2.3.4", "5.6.7.8"]);
        assert_eq!(i.security_group_ids(), vec!["sg-a", "sg-b"]);
        let i: Instance = serde_json::from_str(
            r#"{"publicIpAddress":null,"publicIp":"","networkInterfaces":null}"#,
        )
        .unwrap();
        assert!(i.public_ips().is_empty());
    }
}
