//! Sign-in's decisions, pure: what a callback must prove before a token call is spent, what
//! Zoho's token answer must say before anything is sent to the API domain it names, and the
//! user record a sign-in makes. `glue/auth.rs` reads the request, makes the calls and logs;
//! every check it relies on is here, with its tests.

use zcrm_api::CallbackRequest;
use zoho::crm::{Org, User};
use zoho::secret::{AccessToken, RefreshToken, constant_time_eq};
use zoho::{DataCenter, Endpoints, Environment};

use crate::records::{UserRecord, user_key};
use crate::seal::Keyring;
use crate::session::Login;

/// Why a callback is refused before any call to Zoho.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackRefusal {
    /// The code is not shaped like one of Zoho's: no token call is spent on it.
    MalformedCode,
    /// No login cookie, one that does not open, or one past its ten minutes.
    NoLogin,
    /// The state is not the one this browser's login was started with.
    StateMismatch,
    /// `location` and `accounts_server` do not name one data centre of the table.
    UnknownDataCenter,
}

/// Checks a callback against the login it answers, in the order that spends least: the code's
/// shape, then the login, then its state (compared in constant time), then the data centre,
/// whose accounts server comes from the table and must be the one the browser names. Gives the
/// data centre and the login (its PKCE verifier is for the code exchange).
pub fn check_callback(
    callback: &CallbackRequest,
    login: Option<Login>,
    now_ms: u64,
    endpoints: &Endpoints,
) -> Result<(DataCenter, Login), CallbackRefusal> {
    if !zoho::oauth::code_is_well_formed(&callback.code) {
        return Err(CallbackRefusal::MalformedCode);
    }
    let login = login
        .filter(|login| login.is_fresh(now_ms))
        .ok_or(CallbackRefusal::NoLogin)?;
    if !constant_time_eq(login.state.as_bytes(), callback.state.as_bytes()) {
        return Err(CallbackRefusal::StateMismatch);
    }
    let dc = DataCenter::from_location(&callback.location)
        .filter(|&dc| {
            endpoints.data_center_of_accounts_server(&callback.accounts_server) == Some(dc)
        })
        .ok_or(CallbackRefusal::UnknownDataCenter)?;
    Ok((dc, login))
}

/// Why Zoho's token answer is not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiDomainRefusal {
    /// The user chose another environment of the same data centre on Zoho's page.
    OtherEnvironment(Environment),
    /// An API domain outside the table: nothing is sent there.
    Foreign,
}

/// The API domain Zoho names must be the table's for the data centre and the portal's
/// environment.
pub fn check_api_domain(
    endpoints: &Endpoints,
    api_domain: &str,
    dc: DataCenter,
    env: Environment,
) -> Result<(), ApiDomainRefusal> {
    match endpoints.locate_api_domain(api_domain) {
        Some(found) if found == (dc, env) => Ok(()),
        Some((found_dc, found_env)) if found_dc == dc => {
            Err(ApiDomainRefusal::OtherEnvironment(found_env))
        }
        _ => Err(ApiDomainRefusal::Foreign),
    }
}

/// What a sign-in learnt: who, where, and the tokens.
pub struct Granted<'a> {
    pub dc: DataCenter,
    pub env: Environment,
    pub user: &'a User,
    pub org: &'a Org,
    pub refresh: &'a RefreshToken,
    pub access: &'a AccessToken,
    pub expires_in_secs: u64,
}

/// The user record a sign-in makes, its tokens sealed for its key; `None` when Zoho's user or
/// org id is not an id (then nothing is keyed by it).
pub fn new_record(keys: &Keyring, granted: &Granted<'_>, now_ms: u64) -> Option<UserRecord> {
    let Granted {
        dc, env, user, org, ..
    } = *granted;
    let key = user_key(dc, env, &org.id, &user.id)?;
    let mut record = UserRecord {
        key,
        email: user.email.clone(),
        name: user.full_name.clone(),
        user_id: user.id.clone(),
        org_id: org.id.clone(),
        org_name: org.company_name.clone(),
        zgid: org.zgid.clone(),
        location: dc,
        environment: env,
        refresh_token: String::new(),
        access_token: String::new(),
        access_expires_at: 0,
        updated_at: now_ms,
        version: 0,
    };
    record.seal_tokens(
        keys,
        granted.refresh,
        granted.access,
        now_ms.saturating_add(granted.expires_in_secs.saturating_mul(1000)),
    );
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CODE: &str = "1000.0123456789abcdef0123456789abcdef.fedcba9876543210fedcba9876543210";

    fn login(state: &str, created_at: u64) -> Login {
        Login {
            state: state.to_owned(),
            verifier: "v".repeat(43),
            started_at: created_at,
        }
    }

    fn callback(code: &str, state: &str, location: &str, accounts: &str) -> CallbackRequest {
        CallbackRequest {
            code: code.to_owned(),
            state: state.to_owned(),
            location: location.to_owned(),
            accounts_server: accounts.to_owned(),
        }
    }

    fn endpoints() -> Endpoints {
        Endpoints::Zoho
    }

    #[test]
    fn a_callback_proves_its_login_and_its_data_centre() {
        let e = endpoints();
        let l = login("s1", 1_000);
        let eu = e.accounts_server(DataCenter::Eu);
        let ok = callback(CODE, "s1", "eu", &eu);
        assert_eq!(
            check_callback(&ok, Some(login("s1", 1_000)), 2_000, &e).map(|(dc, _)| dc),
            Ok(DataCenter::Eu)
        );
        assert_eq!(
            check_callback(&ok, None, 2_000, &e).map(|(dc, _)| dc),
            Err(CallbackRefusal::NoLogin)
        );
        assert_eq!(
            check_callback(&ok, Some(l.clone()), 1_000 + 11 * 60_000, &e).map(|(dc, _)| dc),
            Err(CallbackRefusal::NoLogin),
            "a login lives ten minutes"
        );
        let other = callback(CODE, "s2", "eu", &eu);
        assert_eq!(
            check_callback(&other, Some(l.clone()), 2_000, &e).map(|(dc, _)| dc),
            Err(CallbackRefusal::StateMismatch)
        );
        let us_server = callback(CODE, "s1", "eu", &e.accounts_server(DataCenter::Us));
        assert_eq!(
            check_callback(&us_server, Some(l.clone()), 2_000, &e).map(|(dc, _)| dc),
            Err(CallbackRefusal::UnknownDataCenter)
        );
        let junk = callback("x", "s1", "eu", &eu);
        assert_eq!(
            check_callback(&junk, Some(l.clone()), 2_000, &e).map(|(dc, _)| dc),
            Err(CallbackRefusal::MalformedCode),
            "no token call for a junk code, whatever else it carries"
        );
    }

    #[test]
    fn zohos_api_domain_must_be_the_tables() {
        let e = endpoints();
        let (dc, env) = (DataCenter::In, Environment::Production);
        assert_eq!(
            check_api_domain(&e, &e.api_domain(dc, env), dc, env),
            Ok(())
        );
        assert_eq!(
            check_api_domain(&e, &e.api_domain(dc, Environment::Sandbox), dc, env),
            Err(ApiDomainRefusal::OtherEnvironment(Environment::Sandbox))
        );
        assert_eq!(
            check_api_domain(&e, &e.api_domain(DataCenter::Us, env), dc, env),
            Err(ApiDomainRefusal::Foreign)
        );
        assert_eq!(
            check_api_domain(&e, "https://www.zohoapis.in.evil.example", dc, env),
            Err(ApiDomainRefusal::Foreign)
        );
    }

    fn user(id: &str) -> User {
        serde_json::from_value(serde_json::json!({
            "id": id, "email": "a@b.example", "full_name": "A B", "first_name": "A",
            "last_name": "B", "zuid": "9", "role": {"name": "r", "id": "1"},
            "profile": {"name": "p", "id": "2"}, "status": "active"
        }))
        .unwrap()
    }

    fn org(id: &str) -> Org {
        serde_json::from_value(serde_json::json!({
            "id": id, "domain_name": "d", "zgid": "z", "company_name": "Zylker Academy",
            "primary_email": "p@z.example", "country_code": "US", "time_zone": "UTC",
            "currency": "USD", "type": "production"
        }))
        .unwrap()
    }

    #[test]
    fn a_sign_in_makes_one_record_keyed_by_where_and_who() {
        let keys = Keyring::parse("v1:emNybS1lZGdlLWxvY2FsLWRldi1rZXktMzItYnl0ZXM=").unwrap();
        let (u, o) = (user("42"), org("7"));
        let refresh = RefreshToken::new("1000.r");
        let access = AccessToken::new("1000.a");
        let granted = Granted {
            dc: DataCenter::Jp,
            env: Environment::Developer,
            user: &u,
            org: &o,
            refresh: &refresh,
            access: &access,
            expires_in_secs: 3600,
        };
        let r = new_record(&keys, &granted, 5_000).unwrap();
        assert_eq!(r.key, "user:jp:developer:7:42");
        assert_eq!(r.access_expires_at, 5_000 + 3_600_000);
        assert_eq!(r.open_refresh(&keys).unwrap().secret(), "1000.r");
        assert_eq!(r.open_access(&keys).unwrap().secret(), "1000.a");
        assert!(
            !r.refresh_token.contains("1000.r"),
            "sealed, not stored as sent"
        );
        let bad = user("4:2");
        assert!(
            new_record(
                &keys,
                &Granted {
                    user: &bad,
                    ..granted
                },
                5_000
            )
            .is_none()
        );
    }

    proptest! {
        /// Whatever the browser sends, a callback passes only with its own login's state and
        /// a location whose table accounts server is the one named.
        #[test]
        fn only_the_logins_own_state_and_a_table_data_centre_pass(
            state in "[A-Za-z0-9_-]{0,48}",
            sent in "[A-Za-z0-9_-]{0,48}",
            location in prop::sample::select(&["us", "eu", "in", "au", "cn", "jp", "ca", "sa", "uk", "com", "", "US"][..]),
            server in prop::sample::select(&["us", "eu", "in", "au", "cn", "jp", "ca", "sa", "uk"][..]),
            suffix in prop::sample::select(&["", "/", ".evil.example", ":443"][..]),
        ) {
            let e = endpoints();
            let server_dc = DataCenter::from_location(server).unwrap();
            let accounts = format!("{}{suffix}", e.accounts_server(server_dc));
            let l = login(&state, 0);
            let c = callback(CODE, &sent, location, &accounts);
            let got = check_callback(&c, Some(l), 1, &e).map(|(dc, _)| dc);
            if sent != state {
                prop_assert_eq!(got, Err(CallbackRefusal::StateMismatch));
            } else if let Ok(dc) = got {
                prop_assert_eq!(Some(dc), DataCenter::from_location(location));
                prop_assert_eq!(dc, server_dc);
                prop_assert_eq!(e.data_center_of_accounts_server(&accounts), Some(dc));
            } else {
                prop_assert_eq!(got, Err(CallbackRefusal::UnknownDataCenter));
            }
        }
    }
}
