//! The Worker's settings, read once from its variables and secrets and validated.
//!
//! Variables (`wrangler.toml` `[vars]`, or `--var` locally): `ZOHO_ENVIRONMENT`, `ZOHO_CLIENT_ID`,
//! `ZOHO_REDIRECT_URI`, `LOG_LEVEL`, `CONNECT_TIMEOUT_MS`, `READ_TIMEOUT_MS`, `ALLOWED_MODULES`,
//! `META_TTL_SECS`, `ZOHO_TOKEN_WINDOW_SECS` and, for local work only, `ZOHO_SIM_BASE` (the simulator's URL; refused unless loopback).
//! Secrets (`wrangler secret put`, or `.dev.vars`/`--env-file` locally): `ZOHO_CLIENT_SECRET`,
//! `TOKEN_KEYS` (`id:base64key,...`, the first one seals, all open: so keys can rotate).

use std::fmt;

use zoho::secret::ClientSecret;
use zoho::{Endpoints, Environment};

use crate::seal::Keyring;

pub struct Config {
    pub environment: Environment,
    pub client_id: String,
    pub client_secret: ClientSecret,
    pub redirect_uri: String,
    pub endpoints: Endpoints,
    /// Seals the login cookie: derived from `TOKEN_KEYS` for that use alone (HKDF).
    pub login_keys: Keyring,
    /// Seals the tokens at rest (user records): derived from `TOKEN_KEYS` for that use alone
    /// (HKDF); also opens tokens sealed with `TOKEN_KEYS` themselves, as versions before the
    /// derivation sealed them, until a refresh seals them again.
    pub token_keys: Keyring,
    pub log_level: Level,
    /// Until Zoho's answer headers arrive.
    pub connect_timeout_ms: u32,
    /// Until Zoho's answer body has arrived.
    pub read_timeout_ms: u32,
    /// CRM modules the generic proxy allows.
    pub allowed_modules: Vec<String>,
    /// The Zoho organisations that may sign in (`ALLOWED_ORGS`: `<location>:<org id>`, comma
    /// separated, e.g. `us:60000000000,eu:20000000000`); `None` lets any organisation in.
    pub allowed_orgs: Option<Vec<(zoho::DataCenter, String)>>,
    /// Whether the generic proxy passes bulk writes (`data` of more than one record, a delete
    /// of several `ids`): `PROXY_BULK`, off by default.
    pub proxy_bulk: bool,
    /// Whether the generic proxy passes a write's `trigger` (workflows, approvals, blueprints):
    /// `PROXY_TRIGGER`, off by default (a write then carries `"trigger": []`).
    pub proxy_trigger: bool,
    /// How long an org's field metadata is used before it is fetched again (default an hour).
    pub meta_ttl_secs: u32,
    /// Zoho's token window (10 minutes; shorter only for tests, whose simulator clock moves).
    pub token_window_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_lowercase().as_str() {
            "debug" => Some(Level::Debug),
            "info" => Some(Level::Info),
            "warn" | "warning" => Some(Level::Warn),
            "error" => Some(Level::Error),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// What is wrong with the configuration. Names the variable, never its value.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: &'static str,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.variable, self.problem)
    }
}

impl Config {
    /// Reads the settings through `get` (the Worker's `env`, or a map in tests).
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let required = |variable: &'static str| {
            get(variable)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or(ConfigError {
                    variable,
                    problem: "is not set",
                })
        };
        let invalid =
            |variable: &'static str, problem: &'static str| ConfigError { variable, problem };

        let environment = match get("ZOHO_ENVIRONMENT") {
            None => Environment::Production,
            Some(v) => v.trim().parse().map_err(|_| {
                invalid(
                    "ZOHO_ENVIRONMENT",
                    "must be production, sandbox or developer",
                )
            })?,
        };
        let client_id = required("ZOHO_CLIENT_ID")?;
        if client_id.len() > 200 || !client_id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("ZOHO_CLIENT_ID", "is not a Zoho client id"));
        }
        let client_secret = ClientSecret::new(required("ZOHO_CLIENT_SECRET")?);
        let redirect_uri = required("ZOHO_REDIRECT_URI")?;
        if !(redirect_uri.starts_with("https://") || is_loopback_url(&redirect_uri)) {
            return Err(invalid(
                "ZOHO_REDIRECT_URI",
                "must be an https URL (or http on loopback for local work)",
            ));
        }
        let endpoints = match get("ZOHO_SIM_BASE").filter(|v| !v.trim().is_empty()) {
            None => Endpoints::Zoho,
            Some(base) if is_loopback_url(base.trim()) => Endpoints::simulator(base.trim()),
            Some(_) => {
                return Err(invalid(
                    "ZOHO_SIM_BASE",
                    "must be a loopback URL (the simulator is for local work only)",
                ));
            }
        };
        let keys = Keyring::parse(&required("TOKEN_KEYS")?)
            .map_err(|problem| invalid("TOKEN_KEYS", problem))?;
        let login_keys = keys.derive("login");
        let token_keys = keys.derive("tokens").also_opening(&keys);
        let log_level = match get("LOG_LEVEL") {
            None => Level::Info,
            Some(v) => Level::parse(v.trim())
                .ok_or_else(|| invalid("LOG_LEVEL", "must be debug, info, warn or error"))?,
        };
        let millis = |variable: &'static str, default: u32| match get(variable) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|ms| (100..=120_000).contains(ms))
                .ok_or_else(|| invalid(variable, "must be milliseconds between 100 and 120000")),
        };
        let connect_timeout_ms = millis("CONNECT_TIMEOUT_MS", 10_000)?;
        let read_timeout_ms = millis("READ_TIMEOUT_MS", 20_000)?;
        let meta_ttl_secs = match get("META_TTL_SECS") {
            None => 3600,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|s| (1..=86_400).contains(s))
                .ok_or_else(|| invalid("META_TTL_SECS", "must be seconds between 1 and 86400"))?,
        };
        let token_window_ms = match get("ZOHO_TOKEN_WINDOW_SECS") {
            None => crate::grant::ZOHO_WINDOW_MS,
            Some(v) => {
                v.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|s| (1..=600).contains(s))
                    .ok_or_else(|| {
                        invalid(
                            "ZOHO_TOKEN_WINDOW_SECS",
                            "must be seconds between 1 and 600",
                        )
                    })?
                    * 1000
            }
        };
        let allowed_modules: Vec<String> = get("ALLOWED_MODULES")
            .unwrap_or_else(|| "Leads,Contacts".to_owned())
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .collect();
        if allowed_modules
            .iter()
            .any(|m| m.len() > 50 || !m.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        {
            return Err(invalid(
                "ALLOWED_MODULES",
                "must be module API names separated by commas",
            ));
        }
        let allowed_orgs = match get("ALLOWED_ORGS") {
            None => None,
            Some(v) => Some(parse_allowed_orgs(&v).ok_or_else(|| {
                invalid(
                    "ALLOWED_ORGS",
                    "must be <location>:<org id> pairs separated by commas (us:60000000000,eu:20000000000)",
                )
            })?),
        };
        let flag = |variable: &'static str| match get(variable).as_deref().map(str::trim) {
            None | Some("" | "false" | "0") => Ok(false),
            Some("true" | "1") => Ok(true),
            Some(_) => Err(invalid(variable, "must be true or false")),
        };
        let proxy_bulk = flag("PROXY_BULK")?;
        let proxy_trigger = flag("PROXY_TRIGGER")?;
        Ok(Config {
            allowed_orgs,
            proxy_bulk,
            proxy_trigger,
            environment,
            client_id,
            client_secret,
            redirect_uri,
            endpoints,
            login_keys,
            token_keys,
            log_level,
            connect_timeout_ms,
            read_timeout_ms,
            allowed_modules,
            meta_ttl_secs,
            token_window_ms,
        })
    }
}

/// `us:60000000000,eu:20000000000`: every location a data centre's, every org id 1 to 25 digits,
/// at least one pair.
fn parse_allowed_orgs(v: &str) -> Option<Vec<(zoho::DataCenter, String)>> {
    let orgs = v
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (location, org) = pair.split_once(':')?;
            let dc = zoho::DataCenter::from_location(location.trim())?;
            let org = org.trim();
            ((1..=25).contains(&org.len()) && org.bytes().all(|b| b.is_ascii_digit()))
                .then(|| (dc, org.to_owned()))
        })
        .collect::<Option<Vec<_>>>()?;
    (!orgs.is_empty()).then_some(orgs)
}

impl Config {
    /// The OAuth scopes the portal asks Zoho for, derived from the modules it opens and nothing
    /// else: each module's records (students are Leads, always), field metadata to read, who
    /// the user and the org are.
    pub fn scopes(&self) -> Vec<String> {
        let mut modules = vec!["leads".to_owned()];
        for module in &self.allowed_modules {
            let module = module.to_ascii_lowercase();
            if !modules.contains(&module) {
                modules.push(module);
            }
        }
        modules
            .iter()
            .map(|m| format!("ZohoCRM.modules.{m}.ALL"))
            .chain(
                [
                    "ZohoCRM.settings.fields.READ",
                    "ZohoCRM.users.READ",
                    "ZohoCRM.org.READ",
                ]
                .map(str::to_owned),
            )
            .collect()
    }

    /// Whether the organisation `org_id` of data centre `dc` may use the portal.
    pub fn org_allowed(&self, dc: zoho::DataCenter, org_id: &str) -> bool {
        self.allowed_orgs
            .as_ref()
            .is_none_or(|orgs| orgs.iter().any(|(d, org)| *d == dc && org == org_id))
    }

    /// The origin the app is served from: the redirect URI's (the redirect page shares the
    /// app's `localStorage`, so they must be one origin).
    pub fn app_origin(&self) -> &str {
        let url = self.redirect_uri.as_str();
        let after_scheme = url.find("://").map_or(0, |i| i + 3);
        let end = url[after_scheme..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |i| after_scheme + i);
        &url[..end]
    }
}

/// `http://127.0.0.1[:port][/...]`, `http://localhost...` or `http://[::1]...`, nothing else.
pub fn is_loopback_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((host, after)) = v6.split_once(']') else {
            return false;
        };
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return false,
            },
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    // Digits only: `u16::from_str` also takes a leading `+`, which no URL parser accepts.
    let port_ok = port.is_none_or(|p| {
        p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|p| p != 0)
    });
    port_ok && matches!(host, "127.0.0.1" | "localhost" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const KEY: &str = "v1:emNybS1lZGdlLWxvY2FsLWRldi1rZXktMzItYnl0ZXM=";

    fn vars(extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut m: HashMap<String, String> = [
            ("ZOHO_CLIENT_ID", "1000.ZCRMEDGEDEV"),
            ("ZOHO_CLIENT_SECRET", "s3cret"),
            ("ZOHO_REDIRECT_URI", "https://portal.example/redirect.html"),
            ("TOKEN_KEYS", KEY),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in extra {
            m.insert((*k).to_owned(), (*v).to_owned());
        }
        m
    }

    #[test]
    fn scopes_follow_the_allowed_modules() {
        assert_eq!(
            parse(&[]).unwrap().scopes(),
            [
                "ZohoCRM.modules.leads.ALL",
                "ZohoCRM.modules.contacts.ALL",
                "ZohoCRM.settings.fields.READ",
                "ZohoCRM.users.READ",
                "ZohoCRM.org.READ"
            ]
        );
        let c = parse(&[("ALLOWED_MODULES", "Deals")]).unwrap();
        assert_eq!(
            c.scopes()[..2],
            ["ZohoCRM.modules.leads.ALL", "ZohoCRM.modules.deals.ALL"]
        );
        assert!(
            !c.scopes()
                .iter()
                .any(|s| s.ends_with("modules.ALL") || s.contains("contacts"))
        );
    }

    #[test]
    fn proxy_flags_are_booleans() {
        let c = parse(&[]).unwrap();
        assert!(!c.proxy_bulk && !c.proxy_trigger);
        let c = parse(&[("PROXY_BULK", "true"), ("PROXY_TRIGGER", "1")]).unwrap();
        assert!(c.proxy_bulk && c.proxy_trigger);
        assert_eq!(
            parse(&[("PROXY_BULK", "yes")]).err().unwrap().variable,
            "PROXY_BULK"
        );
    }

    #[test]
    fn allowed_orgs_are_data_centre_and_org_pairs() {
        assert!(parse(&[]).unwrap().allowed_orgs.is_none());
        let c = parse(&[("ALLOWED_ORGS", " us:60000000000, eu:20000000000 ")]).unwrap();
        assert!(c.org_allowed(zoho::DataCenter::Us, "60000000000"));
        assert!(c.org_allowed(zoho::DataCenter::Eu, "20000000000"));
        assert!(
            !c.org_allowed(zoho::DataCenter::Eu, "60000000000"),
            "the org of another data centre"
        );
        assert!(!c.org_allowed(zoho::DataCenter::Us, "6000000000"));
        assert!(
            parse(&[]).unwrap().org_allowed(zoho::DataCenter::In, "1"),
            "unset: everyone"
        );
        for bad in [
            "",
            ",",
            "us",
            "us:",
            "xx:1",
            "us:12a",
            "us:1:2",
            &format!("us:{}", "1".repeat(26)),
        ] {
            let e = parse(&[("ALLOWED_ORGS", bad)])
                .err()
                .unwrap_or_else(|| panic!("{bad}"));
            assert_eq!(e.variable, "ALLOWED_ORGS", "{bad}");
        }
    }

    fn parse(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m = vars(extra);
        Config::parse(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.environment, Environment::Production);
        assert_eq!(c.endpoints, Endpoints::Zoho);
        assert_eq!(c.log_level, Level::Info);
        assert_eq!(c.allowed_modules, ["Leads", "Contacts"]);
        assert_eq!((c.connect_timeout_ms, c.read_timeout_ms), (10_000, 20_000));
    }

    #[test]
    fn the_simulator_only_on_loopback() {
        let c = parse(&[("ZOHO_SIM_BASE", "http://127.0.0.1:8790")]).unwrap();
        assert_eq!(c.endpoints, Endpoints::simulator("http://127.0.0.1:8790"));
        for bad in [
            "https://accounts.zoho.com",
            "http://127.0.0.1.evil.example:8790",
            "http://evil.example@127.0.0.1:8790",
            "http://10.0.0.1:8790",
            "http://localhost:99999",
            "ftp://127.0.0.1",
        ] {
            let e = parse(&[("ZOHO_SIM_BASE", bad)]).err().unwrap();
            assert_eq!(e.variable, "ZOHO_SIM_BASE", "{bad}");
        }
    }

    #[test]
    fn loopback_urls() {
        for ok in [
            "http://127.0.0.1",
            "http://127.0.0.1:8790/x",
            "http://localhost:8080",
            "http://[::1]:8790",
        ] {
            assert!(is_loopback_url(ok), "{ok}");
        }
        for bad in [
            "https://127.0.0.1",
            "http://127.0.0.2",
            "http://[::1",
            "http://localhost.example",
            "http://127.0.0.1:x",
            "http://127.0.0.1:+80",
            "http://[::1]:+8790/x",
            "http://localhost:",
        ] {
            assert!(!is_loopback_url(bad), "{bad}");
        }
    }

    #[test]
    fn missing_and_invalid_settings_name_the_variable_not_the_value() {
        let m = {
            let mut m = vars(&[]);
            m.remove("ZOHO_CLIENT_SECRET");
            m
        };
        let e = Config::parse(|k| m.get(k).cloned()).err().unwrap();
        assert_eq!(e.to_string(), "ZOHO_CLIENT_SECRET is not set");
        let e = parse(&[("ZOHO_ENVIRONMENT", "staging")]).err().unwrap();
        assert_eq!(e.variable, "ZOHO_ENVIRONMENT");
        let e = parse(&[("TOKEN_KEYS", "v1:c2hvcnQ=")]).err().unwrap();
        assert_eq!(e.variable, "TOKEN_KEYS");
        assert!(!e.to_string().contains("c2hvcnQ"));
        let e = parse(&[("ZOHO_REDIRECT_URI", "http://portal.example/r")])
            .err()
            .unwrap();
        assert_eq!(e.variable, "ZOHO_REDIRECT_URI");
        let e = parse(&[("ALLOWED_MODULES", "Leads,../x")]).err().unwrap();
        assert_eq!(e.variable, "ALLOWED_MODULES");
        let e = parse(&[("READ_TIMEOUT_MS", "5")]).err().unwrap();
        assert_eq!(e.variable, "READ_TIMEOUT_MS");
        let e = parse(&[("META_TTL_SECS", "0")]).err().unwrap();
        assert_eq!(e.variable, "META_TTL_SECS");
        assert_eq!(parse(&[]).unwrap().meta_ttl_secs, 3600);
        assert_eq!(parse(&[("META_TTL_SECS", "2")]).unwrap().meta_ttl_secs, 2);
        assert_eq!(parse(&[]).unwrap().token_window_ms, 600_000);
        assert_eq!(
            parse(&[("ZOHO_TOKEN_WINDOW_SECS", "15")])
                .unwrap()
                .token_window_ms,
            15_000
        );
        for bad in ["0", "601", "x"] {
            let e = parse(&[("ZOHO_TOKEN_WINDOW_SECS", bad)]).err().unwrap();
            assert_eq!(e.variable, "ZOHO_TOKEN_WINDOW_SECS");
        }
    }

    #[test]
    fn the_app_origin_is_the_redirect_uris() {
        assert_eq!(parse(&[]).unwrap().app_origin(), "https://portal.example");
        let c = parse(&[(
            "ZOHO_REDIRECT_URI",
            "http://127.0.0.1:8080/redirect.html?x=1",
        )])
        .unwrap();
        assert_eq!(c.app_origin(), "http://127.0.0.1:8080");
    }

    #[test]
    fn environments() {
        let c = parse(&[("ZOHO_ENVIRONMENT", "sandbox")]).unwrap();
        assert_eq!(c.environment, Environment::Sandbox);
    }
}
