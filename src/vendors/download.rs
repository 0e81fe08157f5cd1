//! Where a file a vendor points to (a Megaview transcript) may be downloaded from: public
//! addresses, or hosts the operator listed, judged on the address actually connected to.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// One `transcript_hosts` entry: a host, and the port unless the scheme's default is meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHost {
    host: url::Host<String>,
    port: Option<u16>,
}

impl FileHost {
    /// Reads `host` or `host:port` (IPv6 addresses in brackets: `[fd00::1]:9000`). The host
    /// is normalized the way a URL's is, so `0x7f.0.0.1` and `127.1` both mean `127.0.0.1`
    /// and names are lower-cased.
    pub fn parse(entry: &str) -> Result<Self, String> {
        const SHAPE: &str = "must be `host` or `host:port`, without scheme, path or user";
        let forbidden = |c: char| c.is_whitespace() || c.is_control() || "/?#@\\*".contains(c);
        if entry.is_empty() || entry.contains(forbidden) {
            return Err(SHAPE.to_owned());
        }
        let (host, port) = match entry.strip_prefix('[') {
            Some(rest) => {
                let (address, after) = rest.split_once(']').ok_or(SHAPE)?;
                let port = match after {
                    "" => None,
                    _ => Some(after.strip_prefix(':').ok_or(SHAPE)?),
                };
                (&entry[..address.len() + 2], port)
            }
            None => match entry.split_once(':') {
                Some((_, rest)) if rest.contains(':') => {
                    return Err(
                        "an IPv6 address must be written in brackets, e.g. `[fd00::1]:9000`"
                            .to_owned(),
                    );
                }
                Some((host, port)) => (host, Some(port)),
                None => (entry, None),
            },
        };
        let port = port
            .map(|port| {
                port.parse::<u16>()
                    .ok()
                    .filter(|port| *port != 0)
                    .ok_or_else(|| {
                        format!("`{}` is not a port (1 to 65535)", port.escape_default())
                    })
            })
            .transpose()?;
        let host = url::Host::parse(host).map_err(|_| SHAPE.to_owned())?;
        Ok(Self { host, port })
    }

    /// Whether `url` names this host and port. An entry without a port matches only the
    /// URL scheme's default port (80 for http, 443 for https).
    pub fn matches(&self, url: &Url) -> bool {
        let same_host = url.host().is_some_and(|host| host.to_owned() == self.host);
        let same_port = match self.port {
            None => url.port().is_none(),
            Some(port) => url.port_or_known_default() == Some(port),
        };
        same_host && same_port
    }
}

impl std::fmt::Display for FileHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => write!(f, "{}", self.host),
        }
    }
}

/// Which addresses a download may connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Public unicast addresses only: the default for any host a vendor names.
    Public,
    /// Any unicast address, private and loopback included: hosts in `transcript_hosts`.
    Listed,
}

impl Reach {
    /// Whether a download may connect to `ip`.
    pub fn permits(self, ip: IpAddr) -> bool {
        match self {
            Self::Public => is_public(ip),
            Self::Listed => is_unicast(ip),
        }
    }
}

/// Why a download was refused before anything was sent. For logs, never for clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not `http` or `https`.
    Scheme,
    /// The URL carries a user name or password.
    UserInfo,
    /// The URL has no host.
    NoHost,
    /// The host is an address this download may not reach.
    Address,
}

impl Refusal {
    /// What the operator reads in the log.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Scheme => "the URL is not http or https",
            Self::UserInfo => "the URL carries credentials",
            Self::NoHost => "the URL has no host",
            Self::Address => {
                "the host is an address that is not public and not listed in transcript_hosts"
            }
        }
    }
}

/// Decides whether `url` may be fetched and from which addresses: [`Reach::Listed`] when
/// its host and port are in `listed`, [`Reach::Public`] otherwise. An IP literal is judged
/// here; a name is judged by the download client's resolver.
pub fn check(url: &Url, listed: &[FileHost]) -> Result<Reach, Refusal> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Refusal::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::UserInfo);
    }
    let reach = if listed.iter().any(|host| host.matches(url)) {
        Reach::Listed
    } else {
        Reach::Public
    };
    let literal = match url.host() {
        None => return Err(Refusal::NoHost),
        Some(Host::Domain(_)) => None,
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
    };
    match literal {
        Some(ip) if !reach.permits(ip) => Err(Refusal::Address),
        _ => Ok(reach),
    }
}

/// The download clients: one per [`Reach`], each resolving names through its own filter.
/// Cheap to clone.
///
/// IP literals are judged by [`check`] before any connection; names by the client's own
/// DNS resolver, which hands the connector only addresses it approved, so nothing can
/// change between the check and the connect. The clients follow no redirects and use no
/// proxy (a proxy would resolve names itself, past the check).
#[derive(Clone)]
pub struct Downloader {
    public: reqwest::Client,
    listed: reqwest::Client,
}

impl Downloader {
    /// Builds both clients.
    pub fn new() -> reqwest::Result<Self> {
        Ok(Self {
            public: client(Reach::Public)?,
            listed: client(Reach::Listed)?,
        })
    }

    /// The client that connects only to addresses `reach` permits.
    pub fn client(&self, reach: Reach) -> &reqwest::Client {
        match reach {
            Reach::Public => &self.public,
            Reach::Listed => &self.listed,
        }
    }
}

fn client(reach: Reach) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("conversation-gateway/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(FilteringResolver(reach)))
        .build()
}

/// The system resolver, answering only when every address of the name is one `reach`
/// permits: a name with any address it may not reach is refused whole.
struct FilteringResolver(Reach);

impl Resolve for FilteringResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let reach = self.0;
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if addrs.is_empty() || !addrs.iter().all(|addr| reach.permits(addr.ip())) {
                return Err(Box::new(NotPermitted) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A name resolving to an address a download may not reach.
#[derive(Debug)]
pub struct NotPermitted;

impl fmt::Display for NotPermitted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the host resolves to an address that is not public and is not listed in transcript_hosts",
        )
    }
}

impl std::error::Error for NotPermitted {}

/// Whether `ip` is a public unicast address: none of loopback, private, shared (CGNAT),
/// link-local, unique-local, unspecified, broadcast, multicast, documentation,
/// benchmarking or reserved ranges (IANA's special-purpose registries), also not when
/// embedded in IPv6 (IPv4-mapped, NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

/// IPv4 ranges that are not public.
const NOT_PUBLIC_V4: &[(Ipv4Addr, u8)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network", unspecified
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // shared address space (CGNAT)
    (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local, cloud metadata
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation (TEST-NET-1)
    (Ipv4Addr::new(192, 88, 99, 0), 24),  // 6to4 relay anycast
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation (TEST-NET-2)
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation (TEST-NET-3)
    (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, limited broadcast
];

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    !NOT_PUBLIC_V4.iter().any(|(network, prefix)| {
        let mask = u32::MAX << (32 - u32::from(*prefix));
        bits & mask == u32::from(*network)
    })
}

/// IPv6 ranges inside global unicast (2000::/3) that are not public.
const NOT_PUBLIC_V6: &[(u128, u8)] = &[
    (0x2001_0000 << 96, 23), // IETF protocol assignments (Teredo, benchmarking, ...)
    (0x2001_0db8 << 96, 32), // documentation
    (0x3fff_0000 << 96, 20), // documentation
];

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let bits = u128::from(ip);
    // Only 2000::/3 is global unicast; everything else is loopback, unspecified,
    // IPv4-compatible, discard, unique-local, link-local, site-local, multicast or unassigned.
    bits >> 125 == 1
        && !NOT_PUBLIC_V6.iter().any(|(network, prefix)| {
            let mask = u128::MAX << (128 - u32::from(*prefix));
            bits & mask == *network
        })
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped (`::ffff:0:0/96`), the NAT64
/// well-known prefix (`64:ff9b::/96`) and 6to4 (`2002::/16`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(ip);
    if bits >> 32 == 0xffff || bits >> 32 == 0x0064_ff9b_0000_0000_0000_0000 {
        return Some(Ipv4Addr::from(bits as u32));
    }
    if bits >> 112 == 0x2002 {
        return Some(Ipv4Addr::from((bits >> 80) as u32));
    }
    None
}

/// Whether `ip` is unicast at all: not unspecified, multicast or broadcast (nor the
/// IPv4-mapped forms of those). What a listed host may resolve to.
fn is_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => !(ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast()),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => is_unicast(IpAddr::V4(v4)),
            None => !(ip.is_unspecified() || ip.is_multicast()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for refused in [
            "127.0.0.1",
            "127.255.255.254",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "198.19.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "100::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0.0.0.0",
            "64:ff9b::a00:1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "2001::1",
            "2001:db8::1",
            "3fff::1",
            "4000::1",
        ] {
            assert!(!is_public(ip(refused)), "{refused} counted as public");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "172.15.255.255",
            "100.128.0.1",
            "192.169.0.1",
            "169.255.0.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip(public)), "{public} counted as not public");
        }
    }

    #[test]
    fn a_listed_host_may_be_private_but_never_unspecified_multicast_or_broadcast() {
        for permitted in ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "fd00::1"] {
            assert!(Reach::Listed.permits(ip(permitted)), "{permitted}");
        }
        for refused in [
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::",
            "ff02::1",
            "::ffff:0.0.0.0",
        ] {
            assert!(!Reach::Listed.permits(ip(refused)), "{refused}");
        }
    }

    fn url(raw: &str) -> Url {
        Url::parse(raw).unwrap()
    }

    #[test]
    fn numeric_spellings_of_loopback_are_normalized_and_refused() {
        for raw in [
            "http://127.0.0.1/x",
            "http://0x7f.0.0.1/x",
            "http://2130706433/x",
            "http://127.1/x",
            "http://0177.0.0.1/x",
            "http://127.0.0.1./x",
            "http://[::1]/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://[::ffff:7f00:1]/x",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/x",
            "https://0.0.0.0:8080/x",
        ] {
            assert_eq!(check(&url(raw), &[]), Err(Refusal::Address), "{raw}");
        }
        assert_eq!(
            url("http://0x7f.0.0.1/").host(),
            Some(Host::Ipv4(Ipv4Addr::LOCALHOST))
        );
    }

    #[test]
    fn names_are_left_to_the_resolver_and_public_literals_pass() {
        assert_eq!(
            check(&url("https://oss.example.com/a.json"), &[]),
            Ok(Reach::Public)
        );
        assert_eq!(
            check(&url("http://localhost:9000/a.json"), &[]),
            Ok(Reach::Public)
        );
        assert_eq!(
            check(&url("https://8.8.8.8/a.json"), &[]),
            Ok(Reach::Public)
        );
    }

    #[test]
    fn only_listed_host_and_port_pairs_may_be_private() {
        let listed = [
            FileHost::parse("127.0.0.1:9000").unwrap(),
            FileHost::parse("minio.internal").unwrap(),
        ];
        assert_eq!(
            check(&url("http://127.0.0.1:9000/a"), &listed),
            Ok(Reach::Listed)
        );
        assert_eq!(
            check(&url("http://127.1:9000/a"), &listed),
            Ok(Reach::Listed)
        );
        assert_eq!(
            check(&url("http://127.0.0.1:9001/a"), &listed),
            Err(Refusal::Address)
        );
        assert_eq!(
            check(&url("http://127.0.0.1/a"), &listed),
            Err(Refusal::Address)
        );
        assert_eq!(
            check(&url("http://MINIO.internal/a"), &listed),
            Ok(Reach::Listed)
        );
        assert_eq!(
            check(&url("https://minio.internal/a"), &listed),
            Ok(Reach::Listed)
        );
        assert_eq!(
            check(&url("http://minio.internal:8080/a"), &listed),
            Ok(Reach::Public)
        );
    }

    #[test]
    fn other_schemes_and_credentials_in_the_url_are_refused() {
        assert_eq!(check(&url("file:///etc/passwd"), &[]), Err(Refusal::Scheme));
        assert_eq!(
            check(&url("gopher://example.com/"), &[]),
            Err(Refusal::Scheme)
        );
        assert_eq!(
            check(&url("https://user:pw@example.com/"), &[]),
            Err(Refusal::UserInfo)
        );
    }

    #[tokio::test]
    async fn the_public_resolver_refuses_a_name_with_a_loopback_address() {
        let name: Name = "localhost".parse().unwrap();
        let refused = FilteringResolver(Reach::Public).resolve(name).await;
        let err = refused
            .err()
            .expect("localhost resolved for a public download");
        assert!(err.downcast_ref::<NotPermitted>().is_some(), "{err}");

        let name: Name = "localhost".parse().unwrap();
        let listed = FilteringResolver(Reach::Listed)
            .resolve(name)
            .await
            .unwrap();
        assert!(listed.into_iter().all(|addr| addr.ip().is_loopback()));
    }
}
