//! `zcrm` driven as a binary against the simulator started in-process.

mod common;
mod failures;
mod import_export;
mod login;
mod students;
mod tokens;
