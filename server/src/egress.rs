//! The egress policy: which addresses the LLM gateway may connect to.
//!
//! Anyone who can register can save a provider with any base URL, and the server then makes
//! requests to it with its own network position. Without a policy that is server-side request
//! forgery: a base URL on `127.0.0.1`, a private network or a cloud metadata address
//! (`169.254.169.254`) reaches services that only the server can reach. So by default the
//! gateway connects only to *public* addresses, and an administrator lists what else is
//! allowed in `DM_UPSTREAM_ALLOW` ([`AllowList`]): address ranges (`10.0.0.0/8`), single
//! addresses with or without a port (`127.0.0.1:11434`), host names with or without a port
//! (`localhost:11434`, `ollama.lan`), or `*` for everything.
//!
//! The policy is checked twice. When a provider is saved, [`Egress::check`] resolves the host
//! and refuses the URL if any address it resolves to is not allowed, so the user hears at once.
//! And at connect time, for every request: a literal address is checked by
//! [`Egress::client`], and a host name is resolved by the client's own resolver
//! ([`PolicyResolver`]), which refuses the connection if any address is not allowed. The
//! connection goes to exactly the addresses the resolver checked, so a name that resolved to a
//! public address when it was saved and to `127.0.0.1` now (DNS rebinding) is refused. A
//! resolver sees only a name, not the URL's port, and allow entries may name a port: so
//! [`Egress`] keeps one HTTP client per port, each with a resolver that knows its port
//! (clients are cheap until they connect, and a server talks to few ports). Redirects are never
//! followed (see `AppState::start`), and no proxy from the environment is used, since a proxy
//! would resolve the host itself, past the policy.
//!
//! A refusal is an [`EgressRefused`], which the gateway reports as `VAL_UPSTREAM_FORBIDDEN`.

use futures::future::BoxFuture;
use ipnet::IpNet;
use std::{
    collections::HashMap,
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    str::FromStr,
    sync::{Arc, Mutex},
    time::Duration,
};

/// One entry of `DM_UPSTREAM_ALLOW`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Allowed {
    /// `*`: every address.
    Everything,
    /// An address range (a single address is a /32 or /128), on any port or one port.
    Net { net: IpNet, port: Option<u16> },
    /// A host name (lower case, without a trailing dot), whatever it resolves to, on any port
    /// or one port.
    Host { name: String, port: Option<u16> },
}

/// What an administrator allows beyond public addresses: `DM_UPSTREAM_ALLOW`, a list of
/// entries separated by commas or spaces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<Allowed>,
}

/// Why `DM_UPSTREAM_ALLOW` could not be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{0}` in DM_UPSTREAM_ALLOW is not a range (10.0.0.0/8), an address with an optional port \
     (127.0.0.1:11434, [::1]:8000), a host name with an optional port (localhost:11434) or `*`"
)]
pub struct BadAllowEntry(String);

impl FromStr for AllowList {
    type Err = BadAllowEntry;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let entries = text
            .split([',', ' ', '\n', '\t'])
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| parse_entry(entry).ok_or_else(|| BadAllowEntry(entry.to_string())))
            .collect::<Result<_, _>>()?;
        Ok(AllowList { entries })
    }
}

fn parse_entry(entry: &str) -> Option<Allowed> {
    if entry == "*" {
        return Some(Allowed::Everything);
    }
    if let Ok(net) = entry.parse::<IpNet>() {
        return Some(Allowed::Net {
            net: net.trunc(),
            port: None,
        });
    }
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(Allowed::Net {
            net: IpNet::from(ip),
            port: None,
        });
    }
    if let Ok(addr) = entry.parse::<SocketAddr>() {
        return Some(Allowed::Net {
            net: IpNet::from(addr.ip()),
            port: Some(addr.port()),
        });
    }
    let (name, port) = match entry.rsplit_once(':') {
        Some((name, port)) => (name, Some(port.parse::<u16>().ok()?)),
        None => (entry, None),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    valid.then_some(Allowed::Host { name, port })
}

impl AllowList {
    /// Whether the list allows everything (`*`).
    pub fn allows_everything(&self) -> bool {
        self.entries.contains(&Allowed::Everything)
    }

    /// Whether `host` (a name) is allowed by name on `port`, whatever it resolves to.
    fn allows_name(&self, host: &str, port: u16) -> bool {
        let host = host.trim_end_matches('.');
        self.entries.iter().any(|entry| match entry {
            Allowed::Everything => true,
            Allowed::Host { name, port: p } => {
                name.eq_ignore_ascii_case(host) && p.is_none_or(|p| p == port)
            }
            Allowed::Net { .. } => false,
        })
    }

    /// Whether a connection to `ip` on `port` is allowed: a public address, or one the list
    /// names. `Err` says what kind of address was refused.
    fn check_address(&self, ip: IpAddr, port: u16) -> Result<(), &'static str> {
        let Some(kind) = non_public(ip) else {
            return Ok(());
        };
        let listed = self.entries.iter().any(|entry| match entry {
            Allowed::Everything => true,
            Allowed::Net { net, port: p } => {
                net.contains(&canonical(ip)) && p.is_none_or(|p| p == port)
            }
            Allowed::Host { .. } => false,
        });
        if listed {
            Ok(())
        } else {
            Err(kind)
        }
    }
}

/// An IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is the IPv4 address, for matching
/// allow entries.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// What kind of non-public address `ip` is, or `None` for a public one. Public means globally
/// routable unicast: loopback, private, shared (carrier-grade NAT), link-local (which holds the
/// cloud metadata address 169.254.169.254), unique-local (which holds AWS's fd00:ec2::254),
/// multicast, documentation, benchmarking and reserved ranges are not, and neither are IPv6
/// forms that carry an IPv4 address (mapped, NAT64, 6to4) when that address is not public.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address (where cloud metadata services live)")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (carrier-grade NAT) address")
    } else if ip.is_multicast() || ip.is_broadcast() {
        Some("a multicast or broadcast address")
    } else if ip.is_documentation() {
        Some("a documentation address")
    } else if a == 198 && (b == 18 || b == 19) {
        Some("a benchmarking address")
    } else if (a == 192 && b == 0 && c == 0) || a >= 240 {
        Some("a reserved address")
    } else {
        None
    }
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    let segments = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if ip.is_unique_local() {
        Some("a unique-local address")
    } else if ip.is_unicast_link_local() || segments[0] & 0xffc0 == 0xfec0 {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if segments[0] == 0x2001 && segments[1] == 0x0db8 {
        Some("a documentation address")
    } else if segments[..2] == [0x64, 0xff9b] {
        // NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48): the IPv4 address decides.
        non_public_v4(embedded(segments[6], segments[7]))
    } else if segments[0] == 0x2002 {
        // 6to4: the IPv4 address is in the second and third groups.
        non_public_v4(embedded(segments[1], segments[2]))
    } else if segments[0] == 0x2001 && segments[1] == 0 {
        Some("a Teredo tunnel address")
    } else if segments[..6] == [0; 6] || segments[..4] == [0x100, 0, 0, 0] {
        // IPv4-compatible (deprecated) and the discard prefix 100::/64.
        Some("a reserved address")
    } else {
        None
    }
}

/// A base URL the policy refuses, and why, in words for the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EgressRefused {
    /// A literal address that is not allowed.
    #[error(
        "the provider's base URL points to {ip}, {kind}, which this server does not call: use \
         the provider's public address, or ask the administrator to allow it in DM_UPSTREAM_ALLOW"
    )]
    Address { ip: IpAddr, kind: &'static str },
    /// A host name that resolves to an address that is not allowed. The address is not
    /// named: it would tell a user how the server's internal names resolve.
    #[error(
        "the provider's host `{host}` resolves to {kind}, which this server does not call: use \
         the provider's public address, or ask the administrator to allow it in DM_UPSTREAM_ALLOW"
    )]
    Resolved { host: String, kind: &'static str },
    /// A host name that does not resolve.
    #[error("the provider's host `{host}` could not be found: check the base URL")]
    Unresolved { host: String },
    /// Not an http(s) URL with a host.
    #[error("the base URL must be http:// or https:// with a host")]
    NotHttp,
}

/// Resolves host names to addresses: the system's resolver in a running server, a table in
/// tests.
pub trait Lookup: Send + Sync + 'static {
    fn lookup(&self, host: String) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>>;
}

/// The system resolver (`getaddrinfo`, with `/etc/hosts`), off the async runtime.
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: String) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>> {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|addr| addr.ip()).collect())
        })
    }
}

/// The resolver the server uses; tests put in their own (see [`Resolver::table`]).
#[derive(Clone)]
pub struct Resolver(pub Arc<dyn Lookup>);

impl Default for Resolver {
    fn default() -> Self {
        Resolver(Arc::new(SystemLookup))
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Resolver")
    }
}

/// A resolver that answers from a table, each name with a list of answers given in turn (the
/// last one repeats), and asks the system for other names: a DNS server that changes its
/// answer, for tests of rebinding.
pub struct TableLookup {
    answers: Mutex<HashMap<String, Turns>>,
}

/// A name's answers in turn, and which one comes next.
type Turns = (Vec<Vec<IpAddr>>, usize);

impl Resolver {
    pub fn table(entries: &[(&str, &[&[IpAddr]])]) -> Self {
        let answers = entries
            .iter()
            .map(|(name, turns)| {
                let turns = turns.iter().map(|ips| ips.to_vec()).collect();
                (name.to_ascii_lowercase(), (turns, 0))
            })
            .collect();
        Resolver(Arc::new(TableLookup {
            answers: Mutex::new(answers),
        }))
    }
}

impl Lookup for TableLookup {
    fn lookup(&self, host: String) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>> {
        let answer = self.answers.lock().ok().and_then(|mut answers| {
            let (turns, next) = answers.get_mut(&host.to_ascii_lowercase())?;
            let answer = turns.get(*next).or(turns.last()).cloned();
            *next += 1;
            answer
        });
        match answer {
            Some(ips) => Box::pin(async move { Ok(ips) }),
            None => SystemLookup.lookup(host),
        }
    }
}

/// The most HTTP clients kept, one per port.
const MAX_CLIENTS: usize = 32;

/// The gateway's way out: the policy, the resolver, and one HTTP client per port (at most
/// [`MAX_CLIENTS`]).
pub struct Egress {
    allow: Arc<AllowList>,
    lookup: Arc<dyn Lookup>,
    connect_timeout: Duration,
    clients: Mutex<HashMap<u16, reqwest::Client>>,
}

impl Egress {
    pub fn new(allow: AllowList, resolver: Resolver, connect_timeout: Duration) -> Self {
        Egress {
            allow: Arc::new(allow),
            lookup: resolver.0,
            connect_timeout,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The host and port a request to `url` connects to.
    fn target(url: &reqwest::Url) -> Result<(url::Host<&str>, u16), EgressRefused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(EgressRefused::NotHttp);
        }
        let host = url.host().ok_or(EgressRefused::NotHttp)?;
        let port = url.port_or_known_default().ok_or(EgressRefused::NotHttp)?;
        Ok((host, port))
    }

    /// Checks `url` when a provider is saved: a literal address must be allowed, and so must
    /// every address a host name resolves to now.
    pub async fn check(&self, url: &reqwest::Url) -> Result<(), EgressRefused> {
        let (host, port) = Self::target(url)?;
        let name = match host {
            url::Host::Ipv4(ip) => return self.check_literal(IpAddr::V4(ip), port),
            url::Host::Ipv6(ip) => return self.check_literal(IpAddr::V6(ip), port),
            url::Host::Domain(name) => name.to_string(),
        };
        if self.allow.allows_name(&name, port) {
            return Ok(());
        }
        let ips = self.lookup.lookup(name.clone()).await.unwrap_or_default();
        check_resolved(&self.allow, &name, port, &ips)
    }

    fn check_literal(&self, ip: IpAddr, port: u16) -> Result<(), EgressRefused> {
        self.allow
            .check_address(ip, port)
            .map_err(|kind| EgressRefused::Address { ip, kind })
    }

    /// The client to send a request to `url` with, after checking a literal address; a host
    /// name is checked by the client's resolver when it connects.
    pub fn client(&self, url: &reqwest::Url) -> Result<reqwest::Client, EgressRefused> {
        let (host, port) = Self::target(url)?;
        match host {
            url::Host::Ipv4(ip) => self.check_literal(IpAddr::V4(ip), port)?,
            url::Host::Ipv6(ip) => self.check_literal(IpAddr::V6(ip), port)?,
            url::Host::Domain(_) => {}
        }
        self.client_for_port(port).map_err(|e| {
            tracing::error!(error = %e, "cannot build an HTTP client");
            EgressRefused::Unresolved {
                host: host.to_string(),
            }
        })
    }

    /// The client of `port`, built on first use.
    fn client_for_port(&self, port: u16) -> Result<reqwest::Client, reqwest::Error> {
        // A panic elsewhere cannot leave the map half-written: use it as it is.
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = clients.get(&port) {
            return Ok(client.clone());
        }
        if clients.len() >= MAX_CLIENTS {
            // Ports are chosen by users: keep their number, and so the memory of the clients
            // (each holds its own TLS set-up), bounded. A dropped client only costs the
            // connections it pooled.
            if let Some(victim) = clients.keys().copied().find(|p| *p != 443) {
                clients.remove(&victim);
            }
        }
        let client = build_client(
            PolicyResolver {
                allow: self.allow.clone(),
                lookup: self.lookup.clone(),
                port,
            },
            self.connect_timeout,
        )?;
        clients.insert(port, client.clone());
        Ok(client)
    }

    /// Builds the client for the most common port at start-up, so that a TLS set-up error
    /// stops the server rather than the first call.
    pub fn warm_up(&self) -> Result<(), reqwest::Error> {
        self.client_for_port(443).map(drop)
    }
}

fn check_resolved(
    allow: &AllowList,
    host: &str,
    port: u16,
    ips: &[IpAddr],
) -> Result<(), EgressRefused> {
    if ips.is_empty() {
        return Err(EgressRefused::Unresolved {
            host: host.to_string(),
        });
    }
    for ip in ips {
        allow
            .check_address(*ip, port)
            .map_err(|kind| EgressRefused::Resolved {
                host: host.to_string(),
                kind,
            })?;
    }
    Ok(())
}

fn build_client(
    resolver: PolicyResolver,
    connect_timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        // A provider's redirect is never followed: it could send the request (and its API
        // key) to an address the provider's URL does not name, an internal one included. The
        // redirect reaches the user as an error that says so.
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would resolve the provider's host itself, past the resolver below.
        .no_proxy()
        .dns_resolver(Arc::new(resolver))
        .build()
}

/// The resolver of the client for one port: resolves a name and refuses it unless every
/// address is allowed on that port (or the name itself is allowed).
struct PolicyResolver {
    allow: Arc<AllowList>,
    lookup: Arc<dyn Lookup>,
    port: u16,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let allow = self.allow.clone();
        let lookup = self.lookup.lookup(host.clone());
        let port = self.port;
        Box::pin(async move {
            let ips = lookup.await?;
            if !allow.allows_name(&host, port) {
                check_resolved(&allow, &host, port, &ips).map_err(|refused| {
                    tracing::warn!(%host, port, "connection refused by the upstream policy");
                    Box::new(refused) as Box<dyn std::error::Error + Send + Sync>
                })?;
            }
            let addrs: reqwest::dns::Addrs =
                Box::new(ips.into_iter().map(move |ip| SocketAddr::new(ip, port)));
            Ok(addrs)
        })
    }
}

/// The policy's refusal inside a failed request, if that is why it failed.
pub fn refusal(error: &reqwest::Error) -> Option<EgressRefused> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<EgressRefused>() {
            return Some(refused.clone());
        }
        source = e.source();
    }
    None
}

#[cfg(test)]
// Tests fail loudly on purpose; `unwrap` is the shortest way to say "this must work".
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn classifies_addresses() {
        let check = |text: &str, public: bool| {
            assert_eq!(non_public(ip(text)).is_none(), public, "{text}");
        };
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "104.18.6.192",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::6810:1",
            "2a00:1450:4001::200e",
            "::ffff:1.1.1.1",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ] {
            check(public, true);
        }
        for refused in [
            "127.0.0.1",
            "127.10.0.3",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.100.100.200",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.18.0.1",
            "192.0.0.170",
            "240.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fd00:ec2::254",
            "fc00::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "2002:7f00:0001::1",
            "2001:0:4136:e378::1",
            "::127.0.0.1",
            "100::1",
        ] {
            check(refused, false);
        }
    }

    #[test]
    fn reads_allow_lists() {
        let list: AllowList = "127.0.0.1:11434, 10.0.0.0/8 [::1]:8000 localhost:3199 Ollama.LAN."
            .parse()
            .unwrap();
        assert_eq!(list.entries.len(), 5);
        assert!(list.check_address(ip("127.0.0.1"), 11434).is_ok());
        assert!(list.check_address(ip("127.0.0.1"), 11435).is_err());
        assert!(list.check_address(ip("::ffff:127.0.0.1"), 11434).is_ok());
        assert!(list.check_address(ip("10.200.1.1"), 1).is_ok());
        assert!(list.check_address(ip("11.0.0.1"), 1).is_ok(), "public");
        assert!(list.check_address(ip("192.168.0.1"), 1).is_err());
        assert!(list.check_address(ip("::1"), 8000).is_ok());
        assert!(list.check_address(ip("::1"), 80).is_err());
        assert!(list.allows_name("localhost", 3199));
        assert!(!list.allows_name("localhost", 3198));
        assert!(list.allows_name("ollama.lan", 1));
        assert!(list.allows_name("OLLAMA.lan.", 1));
        assert!(!list.allows_name("evil.lan", 1));
        assert!(!list.allows_everything());
        let everything: AllowList = "*".parse().unwrap();
        assert!(everything.allows_everything());
        assert!(everything.check_address(ip("169.254.169.254"), 80).is_ok());
        assert_eq!("".parse::<AllowList>().unwrap(), AllowList::default());
        for bad in [
            "10.0.0.0/33",
            "host:port",
            "a..b",
            "http://x",
            "1.2.3.4:99999",
        ] {
            assert!(bad.parse::<AllowList>().is_err(), "{bad}");
        }
    }

    #[test]
    fn clients_per_port_are_bounded() {
        let egress = Egress::new(
            AllowList::default(),
            Resolver::default(),
            Duration::from_secs(1),
        );
        egress.warm_up().unwrap();
        for port in 1000..1100u16 {
            let url = reqwest::Url::parse(&format!("https://example.com:{port}/v1")).unwrap();
            egress.client(&url).unwrap();
        }
        let clients = egress.clients.lock().unwrap();
        assert_eq!(clients.len(), MAX_CLIENTS);
        assert!(clients.contains_key(&443), "the common port stays");
        assert!(clients.contains_key(&1099), "the newest is there");
    }

    #[tokio::test]
    async fn save_time_checks_literals_and_every_resolved_address() {
        let resolver = Resolver::table(&[
            ("public.example", &[&[ip("93.184.215.14")]]),
            ("sneaky.example", &[&[ip("93.184.215.14"), ip("10.0.0.5")]]),
            ("loop.example", &[&[ip("127.0.0.1")]]),
            ("nowhere.example", &[&[]]),
        ]);
        let egress = Egress::new(
            "127.0.0.1:11434".parse().unwrap(),
            resolver,
            Duration::from_secs(1),
        );
        let check = |url: &str| {
            let url = reqwest::Url::parse(url).unwrap();
            let egress = &egress;
            async move { egress.check(&url).await }
        };
        assert_eq!(check("https://public.example/v1").await, Ok(()));
        assert_eq!(check("http://127.0.0.1:11434/v1").await, Ok(()));
        assert!(matches!(
            check("http://127.0.0.1:6379/").await,
            Err(EgressRefused::Address {
                kind: "a loopback address",
                ..
            })
        ));
        assert!(matches!(
            check("http://[::1]:11434/").await,
            Err(EgressRefused::Address { .. })
        ));
        assert!(matches!(
            check("http://169.254.169.254/latest").await,
            Err(EgressRefused::Address { .. })
        ));
        assert!(matches!(
            check("https://sneaky.example/").await,
            Err(EgressRefused::Resolved {
                kind: "a private address",
                ..
            })
        ));
        assert!(matches!(
            check("https://loop.example/").await,
            Err(EgressRefused::Resolved { .. })
        ));
        assert!(matches!(
            check("https://nowhere.example/").await,
            Err(EgressRefused::Unresolved { .. })
        ));
        let message = check("https://loop.example/")
            .await
            .unwrap_err()
            .to_string();
        assert!(!message.contains("127.0.0.1"), "{message}");
    }
}
