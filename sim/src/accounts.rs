//! The accounts server: `/{dc}/accounts/oauth/v2/{auth,token,token/revoke}`.

use crate::state::{Code, REFRESH_WINDOW_SECS, State};
use crate::{Ctx, Req, Resp, Shared};
use serde_json::json;
use std::sync::Arc;
use zoho::oauth::{
    AccessType, TokenError, TokenErrorKind, TokenRequest, TokenResponseBody, parse_scopes,
};
use zoho::pkce::{self, ChallengeMethod};
use zoho::secret::{AccessToken, RefreshToken, constant_time_eq};
use zoho::{DataCenter, Endpoints, Environment, form};

pub(crate) fn handle(
    shared: &Arc<Shared>,
    req: &Req,
    ctx: &mut Ctx,
    dc: DataCenter,
    rest: &[&str],
) -> Resp {
    match (req.method.as_str(), rest) {
        ("GET" | "POST", ["oauth", "v2", "auth"]) => {
            ctx.route = format!("{} /{{dc}}/accounts/oauth/v2/auth", req.method);
            authorize(shared, req, dc)
        }
        ("POST", ["oauth", "v2", "token"]) => {
            ctx.route = "POST /{dc}/accounts/oauth/v2/token".to_owned();
            token(shared, req, ctx, dc)
        }
        ("POST", ["oauth", "v2", "token", "revoke"]) => {
            ctx.route = "POST /{dc}/accounts/oauth/v2/token/revoke".to_owned();
            revoke(shared, req, ctx, dc)
        }
        (_, ["oauth", "v2", ..]) => {
            ctx.route = "accounts: method not allowed".to_owned();
            Resp::text(405, "Method Not Allowed")
        }
        _ => {
            ctx.route = "accounts: not found".to_owned();
            Resp::text(404, "Not Found")
        }
    }
}

fn get<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn error_page(status: u16, title: &str, detail: &str) -> Resp {
    Resp::html(
        status,
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
             <body><h1>{t}</h1><p>{d}</p></body></html>",
            t = esc(title),
            d = esc(detail)
        ),
    )
}

fn redirect_with(redirect_uri: &str, pairs: Vec<(&str, String)>) -> Resp {
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    Resp::redirect(format!("{redirect_uri}{sep}{}", form::build(pairs)))
}

fn authorize(shared: &Arc<Shared>, req: &Req, _dc: DataCenter) -> Resp {
    let cfg = &shared.cfg;
    let p = crate::params::merged(req);
    let client_id = get(&p, "client_id").unwrap_or("");
    if client_id != cfg.client_id {
        return error_page(400, "Invalid Client", "The client_id is not registered.");
    }
    let Some(redirect_uri) = get(&p, "redirect_uri") else {
        return error_page(400, "Invalid Redirect Uri", "redirect_uri is missing.");
    };
    if !cfg.redirect_uris.iter().any(|r| r == redirect_uri) {
        return error_page(
            400,
            "Invalid Redirect Uri",
            "The redirect_uri does not match any registered for this client.",
        );
    }
    let state = get(&p, "state").map(str::to_owned);
    let fail = |error: &str| {
        let mut pairs = vec![("error", error.to_owned())];
        if let Some(s) = &state {
            pairs.push(("state", s.clone()));
        }
        redirect_with(redirect_uri, pairs)
    };
    if get(&p, "response_type") != Some("code") {
        return fail("unsupported_response_type");
    }
    let Ok(scopes) = parse_scopes(get(&p, "scope").unwrap_or("")) else {
        return fail("invalid_scope");
    };
    let access_type = match get(&p, "access_type") {
        None => AccessType::Online,
        Some(a) => match AccessType::parse(&a.to_ascii_lowercase()) {
            Some(a) => a,
            None => return fail("invalid_request"),
        },
    };
    let challenge = match get(&p, "code_challenge") {
        None => None,
        Some(c) => {
            match ChallengeMethod::parse(get(&p, "code_challenge_method").unwrap_or("plain")) {
                Some(m) => Some((c.to_owned(), m)),
                None => return fail("invalid_request"),
            }
        }
    };
    let prompt_consent = get(&p, "prompt") == Some("consent");
    let deny = get(&p, "sim_deny").is_some_and(|v| v != "0" && v != "false")
        || get(&p, "action") == Some("deny");
    if deny {
        return fail("access_denied");
    }
    let Some(email) = get(&p, "sim_user") else {
        return consent_page(shared, req, &p, &scopes);
    };
    let mut st = shared.lock();
    let Some(user) = st.user_by_email(email) else {
        return error_page(400, "Unknown user", &format!("No simulated user {email}."));
    };
    let env = match get(&p, "sim_environment").map(str::parse::<Environment>) {
        None => Environment::Production,
        Some(Ok(e)) => e,
        Some(Err(_)) => return error_page(400, "Unknown environment", "Unknown environment."),
    };
    if !st.user_envs(user).contains(&env) {
        return error_page(
            400,
            "Environment not available",
            &format!("{email} has no {env} environment."),
        );
    }
    let dc = st.user_dc(user);
    let code = st.new_secret();
    let expires_at = st.now() + st.limits.code_lifetime_secs;
    st.codes.insert(
        code.clone(),
        Code {
            client_id: client_id.to_owned(),
            redirect_uri: Some(redirect_uri.to_owned()),
            user,
            dc,
            env,
            scopes: scopes.into(),
            access_type,
            force_refresh_token: prompt_consent,
            challenge,
            expires_at,
        },
    );
    drop(st);
    let accounts = Endpoints::simulator(&req.base).accounts_server(dc);
    let mut pairs = Vec::new();
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    pairs.push(("code", code));
    pairs.push(("location", dc.location().to_owned()));
    pairs.push(("accounts-server", accounts));
    redirect_with(redirect_uri, pairs)
}

fn consent_page(
    shared: &Arc<Shared>,
    req: &Req,
    p: &[(String, String)],
    scopes: &[String],
) -> Resp {
    let st = shared.lock();
    let users: String = st
        .users
        .iter()
        .map(|u| {
            let org = &st.orgs[u.org];
            format!(
                "<option value=\"{e}\">{e} ({n}, {org}, {loc}; {envs})</option>",
                e = esc(&u.email),
                n = esc(&u.full_name()),
                org = esc(org.company_name),
                loc = org.dc.location(),
                envs = org
                    .envs
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    drop(st);
    let hidden: String = p
        .iter()
        .filter(|(k, _)| !k.starts_with("sim_") && k != "action")
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                esc(k),
                esc(v)
            )
        })
        .collect();
    let scope_list: String = scopes
        .iter()
        .map(|s| format!("<li><code>{}</code></li>", esc(s)))
        .collect();
    let envs: String = Environment::ALL
        .iter()
        .map(|e| format!("<option value=\"{0}\">{0}</option>", e.as_str()))
        .collect();
    Resp::html(
        200,
        format!(
            r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Zoho Accounts (simulated) - Authorize</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}label{{display:block;margin:1em 0 .3em}}button{{margin-right:1em;padding:.5em 1.5em}}</style>
</head><body>
<h1>zoho-sim: authorize access</h1>
<p>The application <code>{client}</code> asks for access to:</p>
<ul id="scopes">{scope_list}</ul>
<form method="post" action="{path}">
{hidden}
<label for="sim_user">Sign in as</label>
<select id="sim_user" name="sim_user">{users}</select>
<label for="sim_environment">Environment</label>
<select id="sim_environment" name="sim_environment">{envs}</select>
<p><button type="submit" name="action" value="approve" id="approve">Accept</button>
<button type="submit" name="action" value="deny" id="deny">Reject</button></p>
</form>
</body></html>"#,
            client = esc(get(p, "client_id").unwrap_or("")),
            path = esc(&req.path),
        ),
    )
}

fn token_error(shared: &Shared, st: &mut State, kind: TokenErrorKind) -> Resp {
    *st.stats
        .token_errors
        .entry(kind.as_str().to_owned())
        .or_default() += 1;
    let status = if kind == TokenErrorKind::Throttled {
        shared.cfg.throttle_status
    } else {
        200
    };
    Resp::json(
        status,
        &serde_json::to_value(TokenError::new(kind)).unwrap_or_default(),
    )
}

fn token(shared: &Arc<Shared>, req: &Req, ctx: &mut Ctx, dc: DataCenter) -> Resp {
    let cfg = &shared.cfg;
    let p = crate::params::merged(req);
    let parsed = TokenRequest::from_params(p.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut st = shared.lock();
    let treq = match parsed {
        Ok(t) => t,
        Err(e) => return token_error(shared, &mut st, e.kind()),
    };
    if treq.client_id() != cfg.client_id {
        return token_error(shared, &mut st, TokenErrorKind::InvalidClient);
    }
    if !constant_time_eq(
        treq.client_secret().secret().as_bytes(),
        cfg.client_secret.as_bytes(),
    ) {
        return token_error(shared, &mut st, TokenErrorKind::InvalidClientSecret);
    }
    let now = st.now();
    let api_base = Endpoints::simulator(&req.base);
    match treq {
        TokenRequest::AuthorizationCode {
            redirect_uri,
            code,
            code_verifier,
            client_id,
            ..
        } => {
            let code_s = code.secret();
            let Some(c) = st.codes.get(code_s) else {
                return token_error(shared, &mut st, TokenErrorKind::InvalidCode);
            };
            let (c_dc, c_exp, c_user) = (c.dc, c.expires_at, c.user);
            let same_client = c.client_id == client_id;
            let expected_redirect = c.redirect_uri.clone();
            let challenge = c.challenge.clone();
            if c_dc != dc {
                return token_error(shared, &mut st, TokenErrorKind::InvalidClient);
            }
            if c_exp <= now || !same_client {
                st.codes.remove(code_s);
                return token_error(shared, &mut st, TokenErrorKind::InvalidCode);
            }
            if let Some(expected) = &expected_redirect
                && redirect_uri.as_deref() != Some(expected.as_str())
            {
                return token_error(shared, &mut st, TokenErrorKind::InvalidRedirectUri);
            }
            if let Some((challenge, method)) = &challenge {
                let ok = code_verifier
                    .as_ref()
                    .is_some_and(|v| pkce::verify(*method, challenge, v.secret()));
                if !ok {
                    st.codes.remove(code_s);
                    return token_error(shared, &mut st, TokenErrorKind::InvalidCode);
                }
            }
            // Zoho's limit on grant codes counts per client, whoever the users (Zoho Accounts'
            // OAuth documentation, "Token limits").
            let limit = st.limits.code_exchanges_per_window;
            let window = st.exchanges.entry(client_id.clone()).or_default();
            while window
                .front()
                .is_some_and(|t| *t <= now - REFRESH_WINDOW_SECS)
            {
                window.pop_front();
            }
            if limit > 0 && window.len() >= limit {
                st.user_stats(c_user).throttled += 1;
                return token_error(shared, &mut st, TokenErrorKind::Throttled);
            }
            window.push_back(now);
            let Some(c) = st.codes.remove(code_s) else {
                return token_error(shared, &mut st, TokenErrorKind::InvalidCode);
            };
            ctx.user = Some(c.user);
            let has_refresh = st
                .refresh_by_user
                .get(&(c.user, client_id.clone()))
                .is_some_and(|l| !l.is_empty());
            let refresh = (c.access_type == AccessType::Offline
                && (c.force_refresh_token || !has_refresh))
                .then(|| st.mint_refresh(&client_id, c.user, c.dc, c.env, c.scopes.clone()));
            let access = st.mint_access(c.user, c.dc, c.env, c.scopes.clone(), refresh.as_deref());
            st.user_stats(c.user).code_grants += 1;
            let lifetime = st.limits.access_token_lifetime_secs.max(0) as u64;
            let body = TokenResponseBody::new(
                AccessToken::new(access),
                refresh.map(RefreshToken::new),
                Some(c.scopes.join(",")),
                api_base.api_domain(c.dc, c.env),
                lifetime,
                cfg.legacy_expires,
            );
            Resp::json(200, &serde_json::to_value(body).unwrap_or_default())
        }
        TokenRequest::RefreshToken { refresh_token, .. } => {
            let rt = refresh_token.secret();
            let max_refreshes = st.limits.refreshes_per_window;
            let Some(r) = st.refresh.get_mut(rt) else {
                return token_error(shared, &mut st, TokenErrorKind::InvalidCode);
            };
            if r.dc != dc {
                return token_error(shared, &mut st, TokenErrorKind::InvalidClient);
            }
            let (user, rdc, env, scopes) = (r.user, r.dc, r.env, r.scopes.clone());
            while r
                .refreshes
                .front()
                .is_some_and(|t| *t <= now - REFRESH_WINDOW_SECS)
            {
                r.refreshes.pop_front();
            }
            ctx.user = Some(user);
            if r.refreshes.len() >= max_refreshes {
                st.user_stats(user).throttled += 1;
                return token_error(shared, &mut st, TokenErrorKind::Throttled);
            }
            r.refreshes.push_back(now);
            let access = st.mint_access(user, rdc, env, scopes.clone(), Some(rt));
            st.user_stats(user).refreshes += 1;
            let lifetime = st.limits.access_token_lifetime_secs.max(0) as u64;
            let body = TokenResponseBody::new(
                AccessToken::new(access),
                None,
                Some(scopes.join(",")),
                api_base.api_domain(rdc, env),
                lifetime,
                cfg.legacy_expires,
            );
            Resp::json(200, &serde_json::to_value(body).unwrap_or_default())
        }
    }
}

fn revoke(shared: &Arc<Shared>, req: &Req, ctx: &mut Ctx, dc: DataCenter) -> Resp {
    let p = crate::params::merged(req);
    let token = get(&p, "token").unwrap_or("").to_owned();
    let mut st = shared.lock();
    let user = if let Some(r) = st.refresh.get(&token).filter(|r| r.dc == dc) {
        let u = r.user;
        st.drop_refresh(&token);
        Some(u)
    } else if let Some(a) = st.access.get(&token).filter(|a| a.dc == dc) {
        let u = a.user;
        st.drop_access(&token);
        Some(u)
    } else {
        None
    };
    match user {
        Some(u) => {
            ctx.user = Some(u);
            st.user_stats(u).revokes += 1;
            Resp::json(200, &json!({"status": "success"}))
        }
        None => {
            *st.stats
                .token_errors
                .entry("revoke:invalid_token".to_owned())
                .or_default() += 1;
            Resp::json(400, &json!({"status": "failure", "error": "invalid_token"}))
        }
    }
}

/// Mints a Self Client grant code (`POST /__sim/grant`).
pub(crate) fn self_client_grant(
    shared: &Shared,
    base: &str,
    body: &serde_json::Value,
) -> Result<serde_json::Value, (u16, serde_json::Value)> {
    let s = |k: &str| body.get(k).and_then(|v| v.as_str()).unwrap_or("");
    let bad = |status: u16, error: &str, detail: &str| {
        Err((status, json!({"error": error, "detail": detail})))
    };
    let client_id = match s("client_id") {
        "" => shared.cfg.client_id.as_str(),
        c => c,
    };
    if client_id != shared.cfg.client_id {
        return bad(400, "invalid_client", "client_id is not registered");
    }
    let scope = match s("scope") {
        "" => "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ",
        x => x,
    };
    let Ok(scopes) = parse_scopes(scope) else {
        return bad(400, "invalid_scope", scope);
    };
    let access_type = match s("access_type") {
        "" | "offline" => AccessType::Offline,
        "online" => AccessType::Online,
        other => return bad(400, "invalid_access_type", other),
    };
    let mut st = shared.lock();
    let Some(user) = st.user_by_email(s("email")) else {
        return bad(404, "unknown_user", s("email"));
    };
    let env = match s("environment") {
        "" => Environment::Production,
        e => match e.parse() {
            Ok(e) => e,
            Err(_) => return bad(400, "unknown_environment", e),
        },
    };
    if !st.user_envs(user).contains(&env) {
        return bad(400, "environment_not_available", env.as_str());
    }
    let lifetime = body
        .get("code_lifetime_secs")
        .and_then(|v| v.as_i64())
        .unwrap_or(st.limits.code_lifetime_secs);
    let dc = st.user_dc(user);
    let code = st.new_secret();
    let expires_at = st.now() + lifetime;
    st.codes.insert(
        code.clone(),
        Code {
            client_id: client_id.to_owned(),
            redirect_uri: None,
            user,
            dc,
            env,
            scopes: scopes.into(),
            access_type,
            force_refresh_token: true,
            challenge: None,
            expires_at,
        },
    );
    Ok(json!({
        "code": code,
        "location": dc.location(),
        "accounts_server": Endpoints::simulator(base).accounts_server(dc),
        "expires_in": lifetime,
    }))
}
