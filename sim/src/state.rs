//! The simulator's state: seed data, tokens, limits, faults and statistics. All of it sits behind
//! one `std::sync::RwLock`, held only for short synchronous sections (never across an await).

use crate::Config;
use crate::seed::{self, ModuleKind, Rec, SeedOrg, SeedUser};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use zoho::fields::Field;
use zoho::oauth::AccessType;
use zoho::pkce::ChallengeMethod;
use zoho::{DataCenter, Environment};

/// Zoho's token limits.
pub const REFRESH_WINDOW_SECS: i64 = 600;

/// Limits that tests may change at run time (`POST /__sim/limits`).
#[derive(Clone, Debug, serde::Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Concurrent CRM requests per org and environment before `429 TOO_MANY_REQUESTS`.
    pub org_concurrency: usize,
    /// Access tokens minted by refresh per refresh token per 10 minutes (then throttled).
    pub refreshes_per_window: usize,
    /// Live access tokens per refresh token (the next one kills the oldest).
    pub live_access_tokens: usize,
    /// Refresh tokens per user and client (the next one deletes the oldest).
    pub refresh_tokens_per_user: usize,
    /// Code exchanges per client per 10 minutes, all users together (0 = no limit).
    pub code_exchanges_per_window: usize,
    /// Lifetime of a grant code, seconds.
    pub code_lifetime_secs: i64,
    /// Lifetime of an access token, seconds.
    pub access_token_lifetime_secs: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            org_concurrency: 25,
            refreshes_per_window: 10,
            live_access_tokens: 15,
            refresh_tokens_per_user: 20,
            code_exchanges_per_window: 10,
            code_lifetime_secs: 120,
            access_token_lifetime_secs: 3600,
        }
    }
}

pub struct Instance {
    pub org_id: String,
    pub zgid: String,
    pub records: HashMap<ModuleKind, BTreeMap<u64, Rec>>,
    pub next_id: u64,
    pub in_flight: Arc<AtomicUsize>,
}

pub struct Code {
    pub client_id: String,
    pub redirect_uri: Option<String>,
    pub user: usize,
    pub dc: DataCenter,
    pub env: Environment,
    pub scopes: Arc<[String]>,
    pub access_type: AccessType,
    /// `prompt=consent`, or a Self Client grant: always a new refresh token when offline.
    pub force_refresh_token: bool,
    pub challenge: Option<(String, ChallengeMethod)>,
    pub expires_at: i64,
}

pub struct Access {
    pub user: usize,
    pub dc: DataCenter,
    pub env: Environment,
    pub scopes: Arc<[String]>,
    pub expires_at: i64,
    pub refresh: Option<String>,
}

pub struct Refresh {
    pub client_id: String,
    pub user: usize,
    pub dc: DataCenter,
    pub env: Environment,
    pub scopes: Arc<[String]>,
    /// Live access tokens minted under it, oldest first.
    pub live: VecDeque<String>,
    /// Times of refreshes in the current window.
    pub refreshes: VecDeque<i64>,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
pub struct Fault {
    #[serde(default)]
    pub id: u64,
    /// Glob over the path (`*` matches anything); with a `?`, over path and query.
    pub path: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub body: Option<Value>,
    #[serde(default)]
    pub content_type: Option<String>,
    /// With `status`: the answer's `Location` header (a 307 elsewhere, say).
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub delay_ms: u64,
    #[serde(default)]
    pub drop: bool,
    /// How many matching requests it applies to; 0 = until cleared. Default 1.
    #[serde(default = "one")]
    pub times: u64,
    #[serde(default)]
    pub fired: u64,
}

fn one() -> u64 {
    1
}

#[derive(Default, Clone, serde::Serialize)]
pub struct UserStats {
    pub code_grants: u64,
    pub refreshes: u64,
    pub throttled: u64,
    pub revokes: u64,
    pub crm_requests: u64,
}

#[derive(Default)]
pub struct Stats {
    pub requests_total: u64,
    pub by_route: BTreeMap<String, u64>,
    pub by_path: BTreeMap<String, u64>,
    pub by_server: BTreeMap<String, u64>,
    pub by_dc: BTreeMap<String, u64>,
    pub by_status: BTreeMap<u16, u64>,
    pub token_errors: BTreeMap<String, u64>,
    pub users: BTreeMap<usize, UserStats>,
    pub faults_fired: u64,
    pub concurrency_rejections: u64,
    pub recent: VecDeque<Value>,
}

pub const RECENT_MAX: usize = 1000;

pub struct State {
    pub users: Vec<SeedUser>,
    /// `{"name","id","email"}` of each user, as records show owners.
    pub owner_values: Vec<Value>,
    pub orgs: Vec<SeedOrg>,
    pub instances: HashMap<(usize, Environment), Instance>,
    pub fields: HashMap<ModuleKind, Arc<Vec<Field>>>,
    pub codes: HashMap<String, Code>,
    pub access: HashMap<String, Access>,
    pub refresh: HashMap<String, Refresh>,
    /// Refresh tokens per (user, client), oldest first.
    pub refresh_by_user: HashMap<(usize, String), VecDeque<String>>,
    /// Successful code exchanges per client in the window.
    pub exchanges: HashMap<String, VecDeque<i64>>,
    pub faults: Vec<Fault>,
    pub next_fault_id: u64,
    pub stats: Stats,
    pub limits: Limits,
    pub clock_offset: i64,
    counter: u64,
    hasher: std::collections::hash_map::RandomState,
}

impl State {
    pub fn new(cfg: &Config) -> State {
        let users = seed::users();
        let orgs = seed::orgs(cfg.seed_leads);
        let mut instances = HashMap::new();
        for (oi, org) in orgs.iter().enumerate() {
            let org_users: Vec<usize> = (0..users.len()).filter(|&u| users[u].org == oi).collect();
            for &env in &org.envs {
                let mut records = HashMap::new();
                for m in ModuleKind::ALL {
                    records.insert(m, seed::records(oi, org, env, m, &org_users, &users));
                }
                instances.insert(
                    (oi, env),
                    Instance {
                        org_id: org.org_id(oi, env),
                        zgid: org.zgid(oi, env),
                        records,
                        next_id: seed::id_base(oi, env) + 900_000_000,
                        in_flight: Arc::new(AtomicUsize::new(0)),
                    },
                );
            }
        }
        let fields = ModuleKind::ALL
            .into_iter()
            .map(|m| (m, Arc::new(seed::module_fields(m))))
            .collect();
        State {
            owner_values: users.iter().map(SeedUser::owner_json).collect(),
            users,
            orgs,
            instances,
            fields,
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            refresh_by_user: HashMap::new(),
            exchanges: HashMap::new(),
            faults: Vec::new(),
            next_fault_id: 1,
            stats: Stats::default(),
            limits: cfg.limits.clone(),
            clock_offset: 0,
            counter: 0,
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// The simulator's clock: wall time plus the offset set through `/__sim/clock`.
    pub fn now(&self) -> i64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        wall + self.clock_offset
    }

    /// A fresh secret: `1000.` and 64 hex digits, from a counter hashed with per-process keys.
    pub fn new_secret(&mut self) -> String {
        self.counter += 1;
        let a = self.hasher.hash_one((self.counter, 0xa5u8));
        let b = self.hasher.hash_one((self.counter, 0x5au8));
        let c = self.hasher.hash_one((b, self.counter));
        let d = self.hasher.hash_one((a, self.counter, 7u8));
        format!("1000.{a:016x}{b:016x}.{c:016x}{d:016x}")
    }

    pub fn user_by_email(&self, email: &str) -> Option<usize> {
        self.users
            .iter()
            .position(|u| u.email.eq_ignore_ascii_case(email.trim()))
    }

    pub fn user_dc(&self, user: usize) -> DataCenter {
        self.orgs[self.users[user].org].dc
    }

    pub fn user_envs(&self, user: usize) -> &[Environment] {
        &self.orgs[self.users[user].org].envs
    }

    /// Removes an access token (and its entry in its refresh token's live list).
    pub fn drop_access(&mut self, token: &str) {
        if let Some(a) = self.access.remove(token)
            && let Some(r) = a.refresh.and_then(|r| self.refresh.get_mut(&r))
        {
            r.live.retain(|t| t != token);
        }
    }

    /// Removes a refresh token with its access tokens.
    pub fn drop_refresh(&mut self, token: &str) {
        if let Some(r) = self.refresh.remove(token) {
            for a in &r.live {
                self.access.remove(a);
            }
            if let Some(list) = self.refresh_by_user.get_mut(&(r.user, r.client_id.clone())) {
                list.retain(|t| t != token);
            }
        }
    }

    /// Mints an access token (under `refresh`, if any), enforcing the live-token limit.
    pub fn mint_access(
        &mut self,
        user: usize,
        dc: DataCenter,
        env: Environment,
        scopes: Arc<[String]>,
        refresh: Option<&str>,
    ) -> String {
        let token = self.new_secret();
        let expires_at = self.now() + self.limits.access_token_lifetime_secs;
        self.access.insert(
            token.clone(),
            Access {
                user,
                dc,
                env,
                scopes,
                expires_at,
                refresh: refresh.map(str::to_owned),
            },
        );
        if let Some(r) = refresh.and_then(|r| self.refresh.get_mut(r)) {
            r.live.push_back(token.clone());
            let max = self.limits.live_access_tokens.max(1);
            let mut killed = Vec::new();
            while r.live.len() > max {
                if let Some(old) = r.live.pop_front() {
                    killed.push(old);
                }
            }
            for k in killed {
                self.access.remove(&k);
            }
        }
        token
    }

    /// Mints a refresh token, enforcing the per-user-and-client limit.
    pub fn mint_refresh(
        &mut self,
        client_id: &str,
        user: usize,
        dc: DataCenter,
        env: Environment,
        scopes: Arc<[String]>,
    ) -> String {
        let token = self.new_secret();
        self.refresh.insert(
            token.clone(),
            Refresh {
                client_id: client_id.to_owned(),
                user,
                dc,
                env,
                scopes,
                live: VecDeque::new(),
                refreshes: VecDeque::new(),
            },
        );
        let key = (user, client_id.to_owned());
        let list = self.refresh_by_user.entry(key.clone()).or_default();
        list.push_back(token.clone());
        let max = self.limits.refresh_tokens_per_user.max(1);
        let mut evicted = Vec::new();
        while list.len() > max {
            if let Some(old) = list.pop_front() {
                evicted.push(old);
            }
        }
        for old in evicted {
            self.drop_refresh(&old);
        }
        token
    }

    pub fn user_stats(&mut self, user: usize) -> &mut UserStats {
        self.stats.users.entry(user).or_default()
    }

    /// Finds and consumes the first fault matching the request.
    pub fn take_fault(&mut self, method: &str, path: &str, query: &str) -> Option<Fault> {
        let pos = self.faults.iter().position(|f| {
            f.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && if f.path.contains('?') {
                    glob(&f.path, &format!("{path}?{query}"))
                } else {
                    glob(&f.path, path)
                }
        })?;
        let f = &mut self.faults[pos];
        f.fired += 1;
        let out = f.clone();
        if f.times != 0 && f.fired >= f.times {
            self.faults.remove(pos);
        }
        self.stats.faults_fired += 1;
        Some(out)
    }

    pub fn users_json(&self, base: &str) -> Value {
        let endpoints = zoho::Endpoints::simulator(base);
        let users: Vec<Value> = self
            .users
            .iter()
            .map(|u| {
                let org = &self.orgs[u.org];
                let (role, profile) = u.role_json();
                let domains: Map<String, Value> = org
                    .envs
                    .iter()
                    .map(|&e| (e.as_str().to_owned(), endpoints.api_domain(org.dc, e).into()))
                    .collect();
                // Each environment is an org of its own: the SDK keys its tokens by this zgid.
                let orgs: Map<String, Value> = org
                    .envs
                    .iter()
                    .map(|&e| {
                        let o = json!({"id": org.org_id(u.org, e), "zgid": org.zgid(u.org, e)});
                        (e.as_str().to_owned(), o)
                    })
                    .collect();
                json!({
                    "email": u.email,
                    "id": u.id,
                    "zuid": u.zuid,
                    "full_name": u.full_name(),
                    "location": org.dc.location(),
                    "accounts_server": endpoints.accounts_server(org.dc),
                    "org": {
                        "key": org.key,
                        "company_name": org.company_name,
                        "id": org.org_id(u.org, Environment::Production),
                        "zgid": org.zgid(u.org, Environment::Production),
                    },
                    "role": match u.role { seed::Role::Admin => "admin", seed::Role::Standard => "standard" },
                    "crm_role": role["name"],
                    "profile": profile["name"],
                    "environments": org.envs.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
                    "api_domains": domains,
                    "orgs": orgs,
                })
            })
            .collect();
        json!({ "users": users })
    }

    pub fn stats_json(&self) -> Value {
        let now = self.now();
        let mut users = Map::new();
        for (i, u) in self.users.iter().enumerate() {
            let s = self.stats.users.get(&i).cloned().unwrap_or_default();
            let live = self
                .access
                .values()
                .filter(|a| a.user == i && a.expires_at > now)
                .count();
            let refresh = self.refresh.values().filter(|r| r.user == i).count();
            let mut v = serde_json::to_value(&s).unwrap_or_default();
            v["live_access_tokens"] = live.into();
            v["refresh_tokens"] = refresh.into();
            users.insert(u.email.clone(), v);
        }
        let sum = |f: fn(&UserStats) -> u64| -> u64 { self.stats.users.values().map(f).sum() };
        json!({
            "requests_total": self.stats.requests_total,
            "by_route": self.stats.by_route,
            "by_path": self.stats.by_path,
            "by_server": self.stats.by_server,
            "by_dc": self.stats.by_dc,
            "by_status": self.stats.by_status.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<Map<_, _>>(),
            "token": {
                "code_grants": sum(|s| s.code_grants),
                "refreshes": sum(|s| s.refreshes),
                "throttled": sum(|s| s.throttled),
                "revokes": sum(|s| s.revokes),
                "errors": self.stats.token_errors,
            },
            "users": users,
            "faults_fired": self.stats.faults_fired,
            "concurrency_rejections": self.stats.concurrency_rejections,
        })
    }
}

/// `*` matches any run of characters (including `/`); everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// Counts an in-flight CRM request of an org until dropped.
pub struct Slot(Arc<AtomicUsize>);

impl Slot {
    /// Takes a slot unless `limit` are taken.
    pub fn acquire(counter: &Arc<AtomicUsize>, limit: usize) -> Option<Slot> {
        let prev = counter.fetch_add(1, Ordering::AcqRel);
        if prev >= limit {
            counter.fetch_sub(1, Ordering::AcqRel);
            None
        } else {
            Some(Slot(counter.clone()))
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob(
            "/us/accounts/oauth/v2/token",
            "/us/accounts/oauth/v2/token"
        ));
        assert!(glob("*/oauth/v2/token", "/eu/accounts/oauth/v2/token"));
        assert!(glob(
            "/*/production/crm/v8/Leads*",
            "/us/production/crm/v8/Leads/123"
        ));
        assert!(!glob("/us/*", "/eu/production"));
        assert!(glob("*", ""));
        assert!(!glob("/a", "/ab"));
    }

    #[test]
    fn secrets_are_distinct() {
        let mut s = State::new(&Config::default());
        let a = s.new_secret();
        let b = s.new_secret();
        assert_ne!(a, b);
        assert!(a.starts_with("1000.") && a.len() == 5 + 32 + 1 + 32);
    }
}
