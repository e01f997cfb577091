//! Failures and exit statuses: 1 when a request failed, 2 for bad usage or input.
//! Messages name what is wrong and never carry a token, a code or the client secret.

use std::fmt;

#[derive(Debug)]
pub struct Error {
    pub status: u8,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

/// Exit status of a failed request (Zoho refused, the network failed, the store is unusable).
pub const FAILURE: u8 = 1;
/// Exit status of bad usage or input.
pub const USAGE: u8 = 2;

impl Error {
    pub fn usage(message: impl Into<String>) -> Error {
        Error {
            status: USAGE,
            message: message.into(),
        }
    }

    pub fn failure(message: impl Into<String>) -> Error {
        Error {
            status: FAILURE,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Text from outside (Zoho, a file) made safe for a terminal: control characters become `?`,
/// and it is cut at `max` characters.
pub fn printable(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .take(max)
        .map(|c| {
            if c.is_control() || zcrm_api::students::is_invisible_format(c) {
                '?'
            } else {
                c
            }
        })
        .collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}
