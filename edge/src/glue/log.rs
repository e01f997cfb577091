//! Levelled, structured logs: one JSON object a line ([`crate::logline`]), with the request id.
//! Callers pass only what is safe to log: ids, codes, statuses, durations. Never a token, code
//! or secret. Fields are written with [`fields!`]: `log.info("student_created", fields!("id" =>
//! id))`.

use crate::config::Level;
use crate::logline::{self, Field};

/// A log call's fields: `fields!("user" => key, "status" => 502u16)`.
macro_rules! fields {
    () => {
        &[]
    };
    ($($key:literal => $value:expr),+ $(,)?) => {
        &[$(($key, &$value as &dyn $crate::logline::Field)),+]
    };
}
pub(crate) use fields;

#[derive(Clone)]
pub struct Log {
    pub level: Level,
    pub request_id: String,
}

impl Log {
    pub fn debug(&self, event: &str, fields: &[(&str, &dyn Field)]) {
        self.emit(Level::Debug, event, fields);
    }
    pub fn info(&self, event: &str, fields: &[(&str, &dyn Field)]) {
        self.emit(Level::Info, event, fields);
    }
    pub fn warn(&self, event: &str, fields: &[(&str, &dyn Field)]) {
        self.emit(Level::Warn, event, fields);
    }
    pub fn error(&self, event: &str, fields: &[(&str, &dyn Field)]) {
        self.emit(Level::Error, event, fields);
    }

    fn emit(&self, level: Level, event: &str, fields: &[(&str, &dyn Field)]) {
        if level < self.level {
            return;
        }
        let line = logline::line(level, event, &self.request_id, fields);
        match level {
            Level::Error | Level::Warn => worker::console_error!("{line}"),
            _ => worker::console_log!("{line}"),
        }
    }
}
