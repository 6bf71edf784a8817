//! The outbound fetch policy: where topicfeed may connect on a stranger's
//! say-so.
//!
//! The feed URLs an operator writes in `sources.toml` are trusted as
//! written. Every other URL — an article link fetched for full text, an
//! image, a redirect hop away from a trusted URL's origin — was named by
//! whoever wrote a fetched document, and must not make the server read its
//! own loopback, the private network or a cloud metadata endpoint. So
//! those fetches go through a resolver that drops every non-public address
//! at connect time (after DNS, so a name pointing at 127.0.0.1 is caught
//! too), and IP literals are checked before the request. The operator can
//! allow ranges (`sources.toml` `[outbound] allow = ["10.1.0.0/16"]`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Which addresses untrusted URLs may reach: public ones and `allow`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    pub allow: Vec<IpNet>,
}

impl OutboundPolicy {
    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allow.iter().any(|net| net.contains(&ip))
    }

    /// Refuses a URL whose host is an IP literal the policy does not
    /// permit, or whose scheme is not http(s). Names are checked by the
    /// resolver when connecting.
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), String> {
        if !crate::model::is_http(url) {
            return Err(format!("`{}:` URLs are never fetched", url.scheme()));
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err("no host".into()),
        };
        if self.permits(ip) {
            Ok(())
        } else {
            Err(refusal(ip))
        }
    }

    /// A reqwest resolver that resolves with the system's resolver and
    /// keeps only the addresses this policy permits.
    pub fn resolver(&self) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver {
            policy: self.clone(),
        })
    }
}

/// `10.0.0.0/8`, `fd00::/8`, or one address (a range of one): how the
/// operator writes ranges, in `sources.toml` and on the command line.
pub fn parse_range(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{s}` is not an address or a range like 10.0.0.0/8"))
}

fn refusal(ip: IpAddr) -> String {
    format!(
        "{ip} is not a public address; URLs found inside fetched documents may not reach it \
         (allow the range under [outbound] in sources.toml if it is meant)"
    )
}

/// Public unicast: not loopback, private, link-local, shared (CGNAT),
/// multicast, broadcast, unspecified, documentation or reserved, in IPv4 or
/// IPv6, and not an IPv6 form that embeds such an IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        // 100.64.0.0/10 shared address space (carrier NAT).
        || a == 100 && (64..128).contains(&b)
        // 192.0.0.0/24 protocol assignments, 198.18.0.0/15 benchmarking.
        || a == 192 && b == 0 && c == 0
        || a == 198 && (b == 18 || b == 19)
        // 240.0.0.0/4 reserved.
        || a >= 240)
}

/// The IPv4 address in two 16-bit segments of an IPv6 one.
fn v4_in(hi: u16, lo: u16) -> Ipv4Addr {
    let [a, b] = hi.to_be_bytes();
    let [c, d] = lo.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible) reach the IPv4 host.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let seg = ip.segments();
    if seg[..6].iter().all(|s| *s == 0) && !ip.is_unspecified() && !ip.is_loopback() {
        return is_public_v4(v4_in(seg[6], seg[7]));
    }
    // 64:ff9b::/96 NAT64 and 2002::/16 6to4 embed an IPv4 address too.
    if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6].iter().all(|s| *s == 0) {
        return is_public_v4(v4_in(seg[6], seg[7]));
    }
    if seg[0] == 0x2002 {
        return is_public_v4(v4_in(seg[1], seg[2]));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local, 2001:db8::/32 documentation.
        || seg[0] & 0xfe00 == 0xfc00
        || seg[0] & 0xffc0 == 0xfe80
        || seg[0] == 0x2001 && seg[1] == 0x0db8)
}

/// The resolver of untrusted fetches (see the module doc).
#[derive(Debug)]
pub struct GuardedResolver {
    policy: OutboundPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            match (kept.is_empty(), found.first()) {
                (false, _) => Ok(Box::new(kept.into_iter()) as Addrs),
                (true, Some(first)) => Err(format!("{host}: {}", refusal(first.ip())).into()),
                (true, None) => Err(format!("{host}: no address").into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_public_unicast_is_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            assert!(!is_public(ip(private)), "{private}");
        }
        for public in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(is_public(ip(public)), "{public}");
        }
    }

    #[test]
    fn literal_hosts_are_checked_and_ranges_can_be_allowed() {
        let mut policy = OutboundPolicy::default();
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(
            policy
                .check_url(&url("http://127.0.0.1:8080/secret"))
                .is_err()
        );
        assert!(policy.check_url(&url("http://[::ffff:7f00:1]/")).is_err());
        // WHATWG parsing makes these the loopback address too.
        assert!(policy.check_url(&url("http://0x7f000001/")).is_err());
        assert!(policy.check_url(&url("http://2130706433/")).is_err());
        assert!(policy.check_url(&url("ftp://example.org/")).is_err());
        assert!(policy.check_url(&url("https://example.org/")).is_ok());
        policy.allow.push("127.0.0.0/8".parse().unwrap());
        assert!(policy.check_url(&url("http://127.0.0.1:8080/")).is_ok());
        assert!(policy.check_url(&url("http://10.0.0.1/")).is_err());
    }
}
