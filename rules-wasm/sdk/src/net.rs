//! Network helpers: world-open CIDRs, IP protocols, port ranges and port lists.

use std::fmt;

/// The IPv4 CIDR that means "anyone".
pub const WORLD_IPV4: &str = "0.0.0.0/0";
/// The IPv6 CIDR that means "anyone".
pub const WORLD_IPV6: &str = "::/0";

/// Whether a CIDR is open to the whole internet: exactly `0.0.0.0/0` or `::/0` (surrounding
/// spaces ignored).
///
/// The text is compared, not the network: AWS's own rules (and the awslabs oracle cases) do not
/// count odd spellings such as `10.0.0.0/0` as open, so neither does this.
pub fn is_world_open(cidr: &str) -> bool {
    let c = cidr.trim();
    c == WORLD_IPV4 || c == WORLD_IPV6
}

/// An IP protocol of a security group permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// `-1` or `all`: every protocol and every port.
    All,
    /// `tcp` or `6`.
    Tcp,
    /// `udp` or `17`.
    Udp,
    /// `icmp` or `1`.
    Icmp,
    /// `icmpv6` or `58`.
    Icmpv6,
    /// Anything else, as written (lower-cased).
    Other(String),
}

impl Protocol {
    /// Parses a protocol name or number, case-insensitively.
    pub fn parse(s: &str) -> Protocol {
        let s = s.trim();
        let eq = |a: &str| s.eq_ignore_ascii_case(a);
        if eq("-1") || eq("all") {
            Protocol::All
        } else if eq("tcp") || eq("6") {
            Protocol::Tcp
        } else if eq("udp") || eq("17") {
            Protocol::Udp
        } else if eq("icmp") || eq("1") {
            Protocol::Icmp
        } else if eq("icmpv6") || eq("58") {
            Protocol::Icmpv6
        } else {
            Protocol::Other(s.to_ascii_lowercase())
        }
    }

    /// Whether TCP traffic is covered (tcp or all).
    pub fn covers_tcp(&self) -> bool {
        matches!(self, Protocol::All | Protocol::Tcp)
    }

    /// Whether UDP traffic is covered (udp or all).
    pub fn covers_udp(&self) -> bool {
        matches!(self, Protocol::All | Protocol::Udp)
    }

    /// `all`, `tcp`, `udp`, `icmp`, `icmpv6` or the text as written.
    pub fn name(&self) -> &str {
        match self {
            Protocol::All => "all",
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
            Protocol::Icmpv6 => "icmpv6",
            Protocol::Other(s) => s,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An inclusive range of ports; `from <= to` always.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// First port.
    pub from: u16,
    /// Last port (inclusive).
    pub to: u16,
}

impl PortRange {
    /// Every port, 0-65535.
    pub const ALL: PortRange = PortRange { from: 0, to: 65535 };

    /// A range; the ends are swapped if reversed.
    pub fn new(from: u16, to: u16) -> PortRange {
        if from <= to {
            PortRange { from, to }
        } else {
            PortRange { from: to, to: from }
        }
    }

    /// One port.
    pub fn single(port: u16) -> PortRange {
        PortRange {
            from: port,
            to: port,
        }
    }

    /// Whether `port` is in the range.
    pub fn contains(&self, port: u16) -> bool {
        self.from <= port && port <= self.to
    }

    /// Whether the two ranges share a port.
    pub fn overlaps(&self, other: &PortRange) -> bool {
        self.from <= other.to && other.from <= self.to
    }

    /// Whether this range lies wholly inside `other`.
    pub fn is_within(&self, other: &PortRange) -> bool {
        other.from <= self.from && self.to <= other.to
    }

    /// Whether this is every port.
    pub fn is_all(&self) -> bool {
        *self == PortRange::ALL
    }
}

impl fmt::Display for PortRange {
    /// `22` for one port, `1020-1025` for a range.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

/// Parses one port number, 0-65535.
pub fn parse_port(s: &str) -> Result<u16, String> {
    let t = s.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{t:?} is not a port number (0-65535)"));
    }
    t.parse::<u16>()
        .map_err(|_| format!("{t:?} is not a port number (0-65535)"))
}

/// A list of ports and port ranges, as in AWS rule parameters: `"443,1020-1025"`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortList(pub Vec<PortRange>);

impl PortList {
    /// Parses `"443, 1020-1025"`: comma-separated ports or `from-to` ranges (spaces allowed).
    /// An empty text is an empty list. Errors name the bad entry: a value that is not a port
    /// number 0-65535, a reversed range, a range with more than one dash, an empty entry.
    pub fn parse(s: &str) -> Result<PortList, String> {
        if s.trim().is_empty() {
            return Ok(PortList::default());
        }
        let mut out = Vec::new();
        for entry in s.split(',') {
            let e = entry.trim();
            if e.is_empty() {
                return Err(format!("empty entry in {:?}", s.trim()));
            }
            match e.split_once('-') {
                None => out.push(PortRange::single(parse_port(e)?)),
                Some((a, b)) => {
                    if b.contains('-') {
                        return Err(format!("{e:?}: a range has exactly one dash (from-to)"));
                    }
                    let (Ok(from), Ok(to)) = (parse_port(a), parse_port(b)) else {
                        return Err(format!(
                            "{e:?} is not a port range (from-to, ports 0-65535)"
                        ));
                    };
                    if from > to {
                        return Err(format!("{e:?}: the range is reversed (write {to}-{from})"));
                    }
                    out.push(PortRange { from, to });
                }
            }
        }
        Ok(PortList(out))
    }

    /// The ranges, in the order given.
    pub fn ranges(&self) -> &[PortRange] {
        &self.0
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `port` is in one of the ranges.
    pub fn contains(&self, port: u16) -> bool {
        self.0.iter().any(|r| r.contains(port))
    }

    /// Whether `range` lies wholly inside one of the ranges (AWS's test for authorized ports:
    /// a range spanning two adjacent entries is not covered).
    pub fn covers(&self, range: &PortRange) -> bool {
        self.0.iter().any(|r| range.is_within(r))
    }

    /// The first range of the list that shares a port with `range`.
    pub fn first_overlap(&self, range: &PortRange) -> Option<PortRange> {
        self.0.iter().copied().find(|r| r.overlaps(range))
    }
}

impl fmt::Display for PortList {
    /// The ranges joined by commas, without spaces: `443,1020-1025`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// Comma-separated values, trimmed, blanks skipped.
pub fn csv(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').map(str::trim).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn world_open_is_a_text_comparison() {
        assert!(is_world_open("0.0.0.0/0"));
        assert!(is_world_open("::/0"));
        assert!(is_world_open(" 0.0.0.0/0 "));
        assert!(!is_world_open("10.0.0.0/0"));
        assert!(!is_world_open("15.0.0.0/0"));
        assert!(!is_world_open("0.0.0.0/1"));
        assert!(!is_world_open("10.0.0.0/8"));
        assert!(!is_world_open("2001:db8::/32"));
        assert!(!is_world_open(""));
    }

    #[test]
    fn protocols_by_name_or_number() {
        assert_eq!(Protocol::parse("-1"), Protocol::All);
        assert_eq!(Protocol::parse("ALL"), Protocol::All);
        assert_eq!(Protocol::parse("tcp"), Protocol::Tcp);
        assert_eq!(Protocol::parse("TCP"), Protocol::Tcp);
        assert_eq!(Protocol::parse("6"), Protocol::Tcp);
        assert_eq!(Protocol::parse("17"), Protocol::Udp);
        assert_eq!(Protocol::parse("udp"), Protocol::Udp);
        assert_eq!(Protocol::parse("icmp"), Protocol::Icmp);
        assert_eq!(Protocol::parse("58"), Protocol::Icmpv6);
        assert_eq!(Protocol::parse("50"), Protocol::Other("50".into()));
        assert!(Protocol::All.covers_tcp() && Protocol::All.covers_udp());
        assert!(Protocol::Tcp.covers_tcp() && !Protocol::Tcp.covers_udp());
        assert!(!Protocol::Icmp.covers_tcp());
    }

    #[test]
    fn port_ranges() {
        let r = PortRange::new(20, 30);
        assert!(r.contains(22) && r.contains(20) && r.contains(30) && !r.contains(31));
        assert_eq!(PortRange::new(30, 20), r);
        assert!(r.overlaps(&PortRange::single(30)) && !r.overlaps(&PortRange::single(31)));
        assert!(PortRange::single(22).is_within(&r) && !r.is_within(&PortRange::single(22)));
        assert_eq!(r.to_string(), "20-30");
        assert_eq!(PortRange::single(22).to_string(), "22");
        assert!(PortRange::ALL.is_all());
    }

    #[test]
    fn port_lists() {
        let l = PortList::parse("443,1020-1025").unwrap();
        assert_eq!(
            l.ranges(),
            &[PortRange::single(443), PortRange::new(1020, 1025)]
        );
        assert_eq!(l.to_string(), "443,1020-1025");
        assert!(l.contains(1022) && !l.contains(1026));
        assert!(l.covers(&PortRange::new(1020, 1025)));
        assert!(!l.covers(&PortRange::new(1020, 1026)));
        assert_eq!(
            l.first_overlap(&PortRange::new(1000, 1020)),
            Some(PortRange::new(1020, 1025))
        );
        assert_eq!(
            PortList::parse(" 443 , 80 - 81 ").unwrap().to_string(),
            "443,80-81"
        );
        assert!(PortList::parse("").unwrap().is_empty());
        assert!(PortList::parse("  ").unwrap().is_empty());
        // adjacent entries do not cover a range spanning both (AWS semantics)
        assert!(!PortList::parse("10-20,21-30")
            .unwrap()
            .covers(&PortRange::new(15, 25)));
    }

    #[test]
    fn port_list_errors_are_clear() {
        assert_eq!(
            PortList::parse("22,abc").unwrap_err(),
            "\"abc\" is not a port number (0-65535)"
        );
        assert_eq!(
            PortList::parse("65536").unwrap_err(),
            "\"65536\" is not a port number (0-65535)"
        );
        assert_eq!(
            PortList::parse("-1").unwrap_err(),
            "\"-1\" is not a port range (from-to, ports 0-65535)"
        );
        assert_eq!(
            PortList::parse("1-x").unwrap_err(),
            "\"1-x\" is not a port range (from-to, ports 0-65535)"
        );
        assert_eq!(
            PortList::parse("30-20").unwrap_err(),
            "\"30-20\": the range is reversed (write 20-30)"
        );
        assert_eq!(
            PortList::parse("1-2-3").unwrap_err(),
            "\"1-2-3\": a range has exactly one dash (from-to)"
        );
        assert_eq!(
            PortList::parse("443,").unwrap_err(),
            "empty entry in \"443,\""
        );
        assert_eq!(
            PortList::parse("22.5").unwrap_err(),
            "\"22.5\" is not a port number (0-65535)"
        );
        assert_eq!(
            parse_port("+22").unwrap_err(),
            "\"+22\" is not a port number (0-65535)"
        );
    }

    #[test]
    fn csv_values() {
        assert_eq!(csv(" a, b ,,c ").collect::<Vec<_>>(), vec!["a", "b", "c"]);
        assert_eq!(csv("").count(), 0);
    }
}
