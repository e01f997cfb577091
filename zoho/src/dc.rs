//! Data centres, environments and the hard-coded table of where they live.
//!
//! The table is the security boundary of sign-in: `location`, `accounts-server` and `api_domain`
//! arrive through the browser or the network and are only ever *checked against* it, never used
//! as given. [`Endpoints`] is the one place that turns a data centre into a URL.

use std::fmt;
use std::str::FromStr;

/// A Zoho data centre, named by the `location` Zoho puts in its OAuth callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataCenter {
    Us,
    Eu,
    In,
    Au,
    Cn,
    Jp,
    Ca,
    Sa,
    Uk,
}

impl DataCenter {
    pub const ALL: [DataCenter; 9] = [
        DataCenter::Us,
        DataCenter::Eu,
        DataCenter::In,
        DataCenter::Au,
        DataCenter::Cn,
        DataCenter::Jp,
        DataCenter::Ca,
        DataCenter::Sa,
        DataCenter::Uk,
    ];

    /// The `location` value Zoho uses for this data centre (`us`, `eu`, ...).
    pub const fn location(self) -> &'static str {
        match self {
            DataCenter::Us => "us",
            DataCenter::Eu => "eu",
            DataCenter::In => "in",
            DataCenter::Au => "au",
            DataCenter::Cn => "cn",
            DataCenter::Jp => "jp",
            DataCenter::Ca => "ca",
            DataCenter::Sa => "sa",
            DataCenter::Uk => "uk",
        }
    }

    /// Parses a `location` exactly as Zoho sends it (lower case, no spaces).
    pub fn from_location(location: &str) -> Option<DataCenter> {
        DataCenter::ALL
            .into_iter()
            .find(|dc| dc.location() == location)
    }

    /// Zoho's accounts server for this data centre.
    const fn zoho_accounts(self) -> &'static str {
        match self {
            DataCenter::Us => "https://accounts.zoho.com",
            DataCenter::Eu => "https://accounts.zoho.eu",
            DataCenter::In => "https://accounts.zoho.in",
            DataCenter::Au => "https://accounts.zoho.com.au",
            DataCenter::Cn => "https://accounts.zoho.com.cn",
            DataCenter::Jp => "https://accounts.zoho.jp",
            DataCenter::Ca => "https://accounts.zohocloud.ca",
            DataCenter::Sa => "https://accounts.zoho.sa",
            DataCenter::Uk => "https://accounts.zoho.uk",
        }
    }

    /// The top-level domain of Zoho's CRM API domains for this data centre.
    const fn zoho_api_tld(self) -> &'static str {
        match self {
            DataCenter::Us => "com",
            DataCenter::Eu => "eu",
            DataCenter::In => "in",
            DataCenter::Au => "com.au",
            DataCenter::Cn => "com.cn",
            DataCenter::Jp => "jp",
            DataCenter::Ca => "ca",
            DataCenter::Sa => "sa",
            DataCenter::Uk => "uk",
        }
    }
}

impl fmt::Display for DataCenter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.location())
    }
}

impl FromStr for DataCenter {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DataCenter::from_location(s).ok_or(UnknownName)
    }
}

// Stored and sent by name (`"eu"`, `"sandbox"`): the same text as `Display`, read back by
// `FromStr`, so a typed field has the JSON a string field had.
macro_rules! serde_by_name {
    ($type:ty, $expected:literal) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                name.parse().map_err(|_| {
                    serde::de::Error::invalid_value(serde::de::Unexpected::Str(&name), &$expected)
                })
            }
        }
    };
}

serde_by_name!(
    DataCenter,
    "a Zoho data centre's location (us, eu, in, au, cn, jp, ca, sa, uk)"
);
serde_by_name!(Environment, "production, sandbox or developer");

/// A CRM environment. Tokens belong to exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Environment {
    #[default]
    Production,
    Sandbox,
    Developer,
}

impl Environment {
    pub const ALL: [Environment; 3] = [
        Environment::Production,
        Environment::Sandbox,
        Environment::Developer,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Sandbox => "sandbox",
            Environment::Developer => "developer",
        }
    }

    /// The host prefix of Zoho's API domain (`www.zohoapis.com`, `sandbox.zohoapis.com`, ...).
    const fn zoho_api_prefix(self) -> &'static str {
        match self {
            Environment::Production => "www",
            Environment::Sandbox => "sandbox",
            Environment::Developer => "developer",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Environment::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or(UnknownName)
    }
}

/// A name that is not in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownName;

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a known name")
    }
}

impl std::error::Error for UnknownName {}

/// Where the data centres live: Zoho itself, or the simulator at a base URL.
///
/// With `Simulator { base: "http://127.0.0.1:8790" }`, data centre `eu` has its accounts server
/// at `http://127.0.0.1:8790/eu/accounts` and its API domains at `.../eu/production`,
/// `.../eu/sandbox` and `.../eu/developer` (the simulator's URL contract).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoints {
    Zoho,
    Simulator { base: String },
}

impl Endpoints {
    /// The simulator at `base` (a trailing `/` is dropped).
    pub fn simulator(base: &str) -> Endpoints {
        Endpoints::Simulator {
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// The accounts server of `dc`, with no trailing slash.
    pub fn accounts_server(&self, dc: DataCenter) -> String {
        match self {
            Endpoints::Zoho => dc.zoho_accounts().to_owned(),
            Endpoints::Simulator { base } => format!("{base}/{}/accounts", dc.location()),
        }
    }

    /// Where every authorization starts: the US accounts server, which knows every user.
    pub fn authorization_server(&self) -> String {
        self.accounts_server(DataCenter::Us)
    }

    /// The CRM API domain of `dc` in `env`, with no trailing slash.
    pub fn api_domain(&self, dc: DataCenter, env: Environment) -> String {
        match self {
            Endpoints::Zoho => format!(
                "https://{}.zohoapis.{}",
                env.zoho_api_prefix(),
                dc.zoho_api_tld()
            ),
            Endpoints::Simulator { base } => format!("{base}/{}/{}", dc.location(), env.as_str()),
        }
    }

    /// The data centre whose accounts server is exactly `server` (one trailing `/` tolerated).
    pub fn data_center_of_accounts_server(&self, server: &str) -> Option<DataCenter> {
        let server = server.strip_suffix('/').unwrap_or(server);
        DataCenter::ALL
            .into_iter()
            .find(|&dc| self.accounts_server(dc) == server)
    }

    /// The data centre and environment whose API domain is exactly `domain`.
    pub fn locate_api_domain(&self, domain: &str) -> Option<(DataCenter, Environment)> {
        let domain = domain.strip_suffix('/').unwrap_or(domain);
        DataCenter::ALL.into_iter().find_map(|dc| {
            Environment::ALL
                .into_iter()
                .find(|&env| self.api_domain(dc, env) == domain)
                .map(|env| (dc, env))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_round_trip_and_are_unique() {
        for dc in DataCenter::ALL {
            assert_eq!(DataCenter::from_location(dc.location()), Some(dc));
            assert_eq!(dc.to_string().parse::<DataCenter>(), Ok(dc));
        }
        assert_eq!(DataCenter::from_location("US"), None);
        assert_eq!(DataCenter::from_location(" us"), None);
        assert_eq!(DataCenter::from_location(""), None);
    }

    #[test]
    fn zoho_table_matches_the_wire_notes() {
        let z = Endpoints::Zoho;
        assert_eq!(
            z.accounts_server(DataCenter::Eu),
            "https://accounts.zoho.eu"
        );
        assert_eq!(
            z.accounts_server(DataCenter::Ca),
            "https://accounts.zohocloud.ca"
        );
        assert_eq!(
            z.accounts_server(DataCenter::Au),
            "https://accounts.zoho.com.au"
        );
        assert_eq!(
            z.api_domain(DataCenter::Us, Environment::Production),
            "https://www.zohoapis.com"
        );
        assert_eq!(
            z.api_domain(DataCenter::Cn, Environment::Sandbox),
            "https://sandbox.zohoapis.com.cn"
        );
        assert_eq!(
            z.api_domain(DataCenter::Jp, Environment::Developer),
            "https://developer.zohoapis.jp"
        );
        assert_eq!(z.authorization_server(), "https://accounts.zoho.com");
    }

    #[test]
    fn simulator_layout() {
        let s = Endpoints::simulator("http://127.0.0.1:8790/");
        assert_eq!(
            s.accounts_server(DataCenter::In),
            "http://127.0.0.1:8790/in/accounts"
        );
        assert_eq!(
            s.api_domain(DataCenter::Eu, Environment::Sandbox),
            "http://127.0.0.1:8790/eu/sandbox"
        );
    }

    #[test]
    fn reverse_lookups_accept_only_exact_table_entries() {
        for endpoints in [
            Endpoints::Zoho,
            Endpoints::simulator("http://127.0.0.1:8790"),
        ] {
            for dc in DataCenter::ALL {
                let accounts = endpoints.accounts_server(dc);
                assert_eq!(
                    endpoints.data_center_of_accounts_server(&accounts),
                    Some(dc)
                );
                assert_eq!(
                    endpoints.data_center_of_accounts_server(&format!("{accounts}/")),
                    Some(dc)
                );
                assert_eq!(
                    endpoints.data_center_of_accounts_server(&format!("{accounts}.evil.example")),
                    None
                );
                for env in Environment::ALL {
                    let api = endpoints.api_domain(dc, env);
                    assert_eq!(endpoints.locate_api_domain(&api), Some((dc, env)));
                    assert_eq!(endpoints.locate_api_domain(&format!("{api}@evil")), None);
                }
            }
        }
        // Zoho's real hosts are not the simulator's, and the other way round.
        let sim = Endpoints::simulator("http://127.0.0.1:8790");
        assert_eq!(
            sim.data_center_of_accounts_server("https://accounts.zoho.eu"),
            None
        );
        assert_eq!(
            Endpoints::Zoho.data_center_of_accounts_server("http://127.0.0.1:8790/eu/accounts"),
            None
        );
        assert_eq!(
            Endpoints::Zoho.data_center_of_accounts_server("https://evil.example"),
            None
        );
    }
}
