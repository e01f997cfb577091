//! A small argument parser: positionals, `--flag`, `--flag value` and `--flag=value`.
//!
//! Which options take a value is known up front, so a value that starts with `-` (a phone number
//! like `-`, a search) is still a value. Each command takes the options it knows and
//! [`Args::finish`] refuses anything left over, naming the command whose `--help` to read.

use crate::error::{Error, Result};

/// Options that take a value.
const WITH_VALUE: &[&str] = &[
    "--store",
    "--user",
    "--client-id",
    "--client-secret",
    "--grant",
    "--dc",
    "--environment",
    "--redirect-uri",
    "--scope",
    "--timeout",
    "--search",
    "--page",
    "--per-page",
    "--first-name",
    "--last-name",
    "--college",
    "--course",
    "--email",
    "--phone",
    "--out",
];
/// Options without a value.
const SWITCHES: &[&str] = &[
    "--json",
    "--browser",
    "--all",
    "--dry-run",
    "--help",
    "--version",
];

#[derive(Debug, Default)]
pub struct Args {
    pub positionals: Vec<String>,
    options: Vec<(&'static str, Option<String>)>,
}

impl Args {
    pub fn parse(raw: impl IntoIterator<Item = String>) -> Result<Args> {
        let mut args = Args::default();
        let mut raw = raw.into_iter();
        let mut only_positionals = false;
        while let Some(arg) = raw.next() {
            if only_positionals || !arg.starts_with('-') || arg == "-" {
                args.positionals.push(arg);
                continue;
            }
            if arg == "--" {
                only_positionals = true;
                continue;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                None => (arg.clone(), None),
            };
            let name = match name.as_str() {
                "-h" => "--help".to_owned(),
                _ => name,
            };
            if let Some(&known) = WITH_VALUE.iter().find(|&&k| k == name) {
                let value = match inline {
                    Some(v) => v,
                    None => raw
                        .next()
                        .ok_or_else(|| Error::usage(format!("{known} needs a value.")))?,
                };
                args.push(known, Some(value))?;
            } else if let Some(&known) = SWITCHES.iter().find(|&&k| k == name) {
                if inline.is_some() {
                    return Err(Error::usage(format!("{known} takes no value.")));
                }
                args.push(known, None)?;
            } else {
                let shown = crate::error::printable(&name, 40);
                return Err(Error::usage(format!(
                    "Unknown option {shown}. See zcrm --help."
                )));
            }
        }
        Ok(args)
    }

    fn push(&mut self, name: &'static str, value: Option<String>) -> Result<()> {
        if self.options.iter().any(|(n, _)| *n == name) {
            return Err(Error::usage(format!("{name} is given twice.")));
        }
        self.options.push((name, value));
        Ok(())
    }

    /// Takes an option's value.
    pub fn value(&mut self, name: &str) -> Option<String> {
        let at = self.options.iter().position(|(n, _)| *n == name)?;
        self.options.remove(at).1
    }

    /// Takes a switch.
    pub fn switch(&mut self, name: &str) -> bool {
        match self.options.iter().position(|(n, _)| *n == name) {
            Some(at) => {
                self.options.remove(at);
                true
            }
            None => false,
        }
    }

    /// Takes the next positional.
    pub fn positional(&mut self) -> Option<String> {
        (!self.positionals.is_empty()).then(|| self.positionals.remove(0))
    }

    /// Refuses whatever `command` did not take.
    pub fn finish(&self, command: &str) -> Result<()> {
        if let Some((name, _)) = self.options.first() {
            return Err(Error::usage(format!(
                "{name} does not apply to `zcrm {command}`. See zcrm {command} --help."
            )));
        }
        if let Some(extra) = self.positionals.first() {
            let shown = crate::error::printable(extra, 40);
            return Err(Error::usage(format!(
                "Unexpected argument `{shown}` for `zcrm {command}`. See zcrm {command} --help."
            )));
        }
        Ok(())
    }
}

/// A whole number from `min`, for `name`.
pub fn number(name: &str, value: &str, min: u32, max: u32) -> Result<u32> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            Error::usage(format!(
                "{name} must be a whole number from {min} to {max}."
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[&str]) -> Result<Args> {
        Args::parse(s.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn values_switches_and_positionals() {
        let mut a = parse(&[
            "students",
            "--json",
            "add",
            "--phone",
            "-1",
            "--email=a@b.co",
            "--",
            "--x",
        ])
        .unwrap();
        assert!(a.switch("--json"));
        assert_eq!(a.value("--phone").as_deref(), Some("-1"));
        assert_eq!(a.value("--email").as_deref(), Some("a@b.co"));
        assert_eq!(a.positional().as_deref(), Some("students"));
        assert_eq!(a.positional().as_deref(), Some("add"));
        assert_eq!(a.positional().as_deref(), Some("--x"));
        assert!(a.finish("students add").is_ok());
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for bad in [
            &["--nope"][..],
            &["--dc"],
            &["--json=1"],
            &["--dc", "us", "--dc", "eu"],
        ] {
            assert_eq!(
                parse(bad).unwrap_err().status,
                crate::error::USAGE,
                "{bad:?}"
            );
        }
        let a = parse(&["--all"]).unwrap();
        assert!(a.finish("users").unwrap_err().message.contains("--all"));
        assert!(number("--page", "0", 1, 10).is_err());
        assert_eq!(number("--page", "3", 1, 10).unwrap(), 3);
    }
}
