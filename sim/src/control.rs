//! The control API under `/__sim/`: JSON in and out.

use crate::state::{Fault, Limits};
use crate::{Req, Resp, Shared, accounts};
use serde_json::{Value, json};

pub(crate) fn handle(shared: &Shared, req: &Req) -> Resp {
    let path = req.path.trim_start_matches("/__sim").trim_matches('/');
    let body: Value = if req.body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(e) => {
                return Resp::json(
                    400,
                    &json!({"error": "invalid_json", "detail": e.to_string()}),
                );
            }
        }
    };
    match (req.method.as_str(), path) {
        ("GET", "" | "health") => Resp::json(200, &json!({"status": "ok"})),
        ("GET", "users") => Resp::json(200, &shared.lock().users_json(&req.base)),
        ("POST", "grant") => match accounts::self_client_grant(shared, &req.base, &body) {
            Ok(v) => Resp::json(200, &v),
            Err((status, v)) => Resp::json(status, &v),
        },
        ("GET", "clock") => Resp::json(200, &clock_json(shared)),
        ("POST", "clock") => {
            let Some(secs) = body.get("advance_secs").and_then(Value::as_i64) else {
                return Resp::json(400, &json!({"error": "advance_secs (integer) is required"}));
            };
            shared.lock().clock_offset += secs;
            Resp::json(200, &clock_json(shared))
        }
        ("GET", "faults") => {
            let st = shared.lock();
            Resp::json(200, &json!({"faults": st.faults}))
        }
        ("POST", "faults") => {
            let mut fault: Fault = match serde_json::from_value(body) {
                Ok(f) => f,
                Err(e) => {
                    return Resp::json(
                        400,
                        &json!({"error": "invalid_fault", "detail": e.to_string()}),
                    );
                }
            };
            if fault.status.is_none() && !fault.drop && fault.delay_ms == 0 {
                return Resp::json(
                    400,
                    &json!({"error": "invalid_fault", "detail": "give status, drop or delay_ms"}),
                );
            }
            if let Some(s) = fault.status
                && !(100..=999).contains(&s)
            {
                return Resp::json(
                    400,
                    &json!({"error": "invalid_fault", "detail": "bad status"}),
                );
            }
            let mut st = shared.lock();
            fault.id = st.next_fault_id;
            fault.fired = 0;
            st.next_fault_id += 1;
            let id = fault.id;
            st.faults.push(fault);
            Resp::json(200, &json!({"id": id}))
        }
        ("DELETE", "faults") => {
            shared.lock().faults.clear();
            Resp::json(200, &json!({"status": "ok"}))
        }
        ("GET", "stats") => Resp::json(200, &shared.lock().stats_json()),
        ("DELETE", "stats") => {
            shared.lock().stats = Default::default();
            Resp::json(200, &json!({"status": "ok"}))
        }
        ("GET", "requests") => {
            let st = shared.lock();
            let recent: Vec<&Value> = st.stats.recent.iter().collect();
            Resp::json(200, &json!({"requests": recent}))
        }
        ("GET", "limits") => Resp::json(200, &json!(shared.lock().limits)),
        ("POST", "limits") => {
            let mut st = shared.lock();
            let mut current = serde_json::to_value(&st.limits).unwrap_or_default();
            if let (Some(cur), Some(new)) = (current.as_object_mut(), body.as_object()) {
                for (k, v) in new {
                    if !cur.contains_key(k) {
                        return Resp::json(400, &json!({"error": "unknown_limit", "detail": k}));
                    }
                    cur.insert(k.clone(), v.clone());
                }
            }
            match serde_json::from_value::<Limits>(current) {
                Ok(l) => {
                    st.limits = l;
                    Resp::json(200, &json!(st.limits))
                }
                Err(e) => Resp::json(
                    400,
                    &json!({"error": "invalid_limits", "detail": e.to_string()}),
                ),
            }
        }
        ("POST", "reset") => {
            shared.reset();
            Resp::json(200, &json!({"status": "ok"}))
        }
        _ => Resp::json(404, &json!({"error": "not_found", "path": req.path})),
    }
}

fn clock_json(shared: &Shared) -> Value {
    let st = shared.lock();
    let now = st.now();
    json!({"now": now, "now_iso": crate::seed::iso_time(now, 0), "offset_secs": st.clock_offset})
}
