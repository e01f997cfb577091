//! Levelled, structured logs: one JSON object a line, with the request id. Callers pass only
//! what is safe to log: ids, codes, statuses, durations. Never a token, code or secret.

use serde_json::{Map, Value, json};

use crate::config::Level;

#[derive(Clone)]
pub struct Log {
    pub level: Level,
    pub request_id: String,
}

impl Log {
    pub fn debug(&self, event: &str, fields: Value) {
        self.emit(Level::Debug, event, fields);
    }
    pub fn info(&self, event: &str, fields: Value) {
        self.emit(Level::Info, event, fields);
    }
    pub fn warn(&self, event: &str, fields: Value) {
        self.emit(Level::Warn, event, fields);
    }
    pub fn error(&self, event: &str, fields: Value) {
        self.emit(Level::Error, event, fields);
    }

    fn emit(&self, level: Level, event: &str, fields: Value) {
        if level < self.level {
            return;
        }
        let mut line = Map::new();
        line.insert("level".into(), json!(level.as_str()));
        line.insert("event".into(), json!(event));
        line.insert("request_id".into(), json!(self.request_id));
        if let Value::Object(fields) = fields {
            line.extend(fields);
        }
        let line = Value::Object(line).to_string();
        match level {
            Level::Error | Level::Warn => worker::console_error!("{line}"),
            _ => worker::console_log!("{line}"),
        }
    }
}
