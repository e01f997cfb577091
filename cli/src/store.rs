//! The token store: one JSON file, like the token store of Zoho's SDKs ("FileStore": one entry per
//! user and org with the client id and secret, refresh and access tokens and expiry;
//! <https://www.zoho.com/crm/developer/docs/python-sdk/v1/token-persistence.html>).
//!
//! - Where: `--store PATH`, else `ZCRM_STORE`, else `$XDG_CONFIG_HOME/zcrm/tokens.json`
//!   (`~/.config/zcrm/tokens.json`). The directory is made `0700`, the file `0600`.
//! - Written atomically: a temporary file in the same directory (`0600`), synced, renamed over
//!   the store, so a reader sees the old file or the new one, never half of one.
//! - Sealed: the refresh token, the access token and the client secret are AES-256-GCM sealed
//!   (the Worker's [`zcrm_edge::seal`], bound to the entry's key, so a value cannot be moved to
//!   another entry). The key is `ZCRM_STORE_KEY` (`id:base64 32 bytes[,…]`, the first seals,
//!   all open), else a key file beside the store (`tokens.json.key`, `0600`, made on first
//!   login). A copied or backed-up store file alone gives no token; someone who can read the
//!   key file as well (the same OS user) can, so keep `ZCRM_STORE_KEY` in a secret manager
//!   for a job that must hold more than the file's permissions.
//! - Shared by concurrent jobs: every change happens under an exclusive lock of
//!   `tokens.json.lock` (`File::lock`), reading the file again once the lock is held, so two
//!   commands that find the token expired refresh it once.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zcrm_edge::seal::Keyring;
use zoho::secret::{AccessToken, ClientSecret, RefreshToken};
use zoho::{DataCenter, Environment};

use crate::error::{Error, Result};

const VERSION: u32 = 1;
/// Refresh when an access token has less than this left (the Worker's five minutes).
pub const REFRESH_AHEAD_SECS: u64 = 300;
/// How long a command waits for another to release the store's lock.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(120);
/// A store file larger than this is not read (a store of 1,000 users is about 1.5 MB).
const MAX_FILE: u64 = 16 * 1024 * 1024;

/// One signed-in user of one org in one data centre and environment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    /// `user:<dc>:<env>:<org id>:<user id>`, as the Worker keys its users.
    pub key: String,
    pub email: String,
    pub name: String,
    pub user_id: String,
    pub org_id: String,
    pub org_name: String,
    pub data_center: String,
    pub environment: String,
    pub client_id: String,
    /// Sealed.
    pub client_secret: String,
    /// Sealed.
    pub refresh_token: String,
    /// Sealed.
    pub access_token: String,
    /// Seconds since the epoch.
    pub expires_at: u64,
    /// How long Zoho said the access token lives (seconds).
    #[serde(default = "an_hour")]
    pub lifetime_secs: u64,
    pub scope: String,
    pub updated_at: u64,
}

impl Entry {
    pub fn data_center(&self) -> Result<DataCenter> {
        DataCenter::from_location(&self.data_center)
            .ok_or_else(|| Error::failure("The token store names an unknown data centre."))
    }

    /// The refresh token, opened.
    pub fn refresh_token(&self, keys: &Keyring) -> Result<RefreshToken> {
        open(keys, "refresh", &self.key, &self.refresh_token).map(RefreshToken::new)
    }

    /// The access token, opened.
    pub fn access_token(&self, keys: &Keyring) -> Result<AccessToken> {
        open(keys, "access", &self.key, &self.access_token).map(AccessToken::new)
    }

    /// The client secret, opened.
    pub fn client_secret(&self, keys: &Keyring) -> Result<ClientSecret> {
        open(keys, "secret", &self.key, &self.client_secret).map(ClientSecret::new)
    }

    /// Seals the three secrets into the entry, bound to its key.
    pub fn seal(
        &mut self,
        keys: &Keyring,
        refresh: &RefreshToken,
        access: &AccessToken,
        secret: &ClientSecret,
    ) {
        self.refresh_token = seal(keys, "refresh", &self.key, refresh.secret());
        self.client_secret = seal(keys, "secret", &self.key, secret.secret());
        self.seal_access(keys, access);
    }

    /// Whether the access token is due for a refresh at `now`: less than five minutes left (the
    /// Worker's margin), or less than half its life for tokens shorter than ten minutes.
    pub fn refresh_due(&self, now: u64) -> bool {
        let ahead = REFRESH_AHEAD_SECS.min(self.lifetime_secs / 2);
        self.expires_at <= now.saturating_add(ahead)
    }

    pub fn seal_access(&mut self, keys: &Keyring, access: &AccessToken) {
        self.access_token = seal(keys, "access", &self.key, access.secret());
    }

    pub fn environment(&self) -> Result<Environment> {
        self.environment
            .parse()
            .map_err(|_| Error::failure("The token store names an unknown environment."))
    }
}

fn an_hour() -> u64 {
    3600
}

#[derive(Serialize, Deserialize)]
struct StoreFile {
    version: u32,
    entries: Vec<Entry>,
}

pub struct Store {
    path: PathBuf,
}

/// The exclusive lock of the store; released when dropped.
pub struct Lock {
    _file: File,
}

impl Store {
    /// The store at `flag`, `ZCRM_STORE` or the default path.
    pub fn locate(flag: Option<String>) -> Result<Store> {
        let path = match flag.or_else(|| std::env::var("ZCRM_STORE").ok().filter(|s| !s.is_empty()))
        {
            Some(p) => PathBuf::from(p),
            None => {
                let base = std::env::var_os("XDG_CONFIG_HOME")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
                    .ok_or_else(|| {
                        Error::usage("No HOME or XDG_CONFIG_HOME: give the token store with --store PATH or ZCRM_STORE.")
                    })?;
                base.join("zcrm").join("tokens.json")
            }
        };
        if path.file_name().is_none() {
            return Err(Error::usage("The token store path must name a file."));
        }
        Ok(Store { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_owned();
        name.push(suffix);
        self.path.with_file_name(name)
    }

    fn describe(&self, what: &str, e: &std::io::Error) -> Error {
        Error::failure(format!("{what} {}: {e}", self.path.display()))
    }

    fn ensure_dir(&self) -> Result<()> {
        match self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(dir) if !dir.exists() => fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| self.describe("Cannot make the directory of the token store", &e)),
            _ => Ok(()),
        }
    }

    /// Takes the exclusive lock, waiting for another command to release it.
    pub fn lock(&self) -> Result<Lock> {
        self.ensure_dir()?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(self.sibling(".lock"))
            .map_err(|e| self.describe("Cannot open the lock of the token store", &e))?;
        // Another command holds it while it refreshes or writes (a second or so at most);
        // a command stuck for minutes is not waited for forever.
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Lock { _file: file }),
                Err(fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Error::failure(format!(
                        "Another zcrm has held the lock of the token store {} for {} s; is one stuck?",
                        self.path.display(),
                        LOCK_WAIT.as_secs()
                    )));
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(self.describe("Cannot lock the token store", &e));
                }
            }
        }
    }

    /// Every entry (none when the file does not exist yet).
    pub fn read(&self) -> Result<Vec<Entry>> {
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.describe("Cannot read the token store", &e)),
        };
        let meta = file
            .metadata()
            .map_err(|e| self.describe("Cannot read the token store", &e))?;
        if meta.len() > MAX_FILE {
            return Err(Error::failure(format!(
                "The token store {} is larger than 16 MiB; it is not a zcrm token store.",
                self.path.display()
            )));
        }
        if meta.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "warning: the token store {} can be read by other users; it is rewritten 0600 on the next change.",
                self.path.display()
            );
        }
        let mut text = String::new();
        file.read_to_string(&mut text)
            .map_err(|e| self.describe("Cannot read the token store", &e))?;
        let parsed: StoreFile = serde_json::from_str(&text).map_err(|_| {
            Error::failure(format!(
                "The token store {} is not a zcrm token store (malformed JSON).",
                self.path.display()
            ))
        })?;
        if parsed.version != VERSION {
            return Err(Error::failure(format!(
                "The token store {} has version {}; this zcrm reads version {VERSION}.",
                self.path.display(),
                parsed.version
            )));
        }
        Ok(parsed.entries)
    }

    /// Replaces the file's entries (under the lock): temporary file, sync, rename.
    pub fn write(&self, _lock: &Lock, entries: &[Entry]) -> Result<()> {
        self.ensure_dir()?;
        let text = serde_json::to_string_pretty(&StoreFile {
            version: VERSION,
            entries: entries.to_vec(),
        })
        .map_err(|_| Error::failure("Cannot encode the token store."))?;
        let tmp = self.sibling(&format!(".tmp{}", std::process::id()));
        let result = (|| {
            let mut file = create_private(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            fs::rename(&tmp, &self.path)?;
            if let Some(dir) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
                File::open(dir)?.sync_all()?;
            }
            Ok(())
        })();
        result.map_err(|e: std::io::Error| {
            let _ = fs::remove_file(&tmp);
            self.describe("Cannot write the token store", &e)
        })
    }

    /// The sealing keys: `ZCRM_STORE_KEY`, else the key file (made when `create` and missing).
    pub fn keys(&self, create: bool) -> Result<Keyring> {
        if let Some(spec) = std::env::var("ZCRM_STORE_KEY")
            .ok()
            .filter(|s| !s.trim().is_empty())
        {
            return Keyring::parse(&spec).map_err(|problem| {
                Error::usage(format!(
                    "ZCRM_STORE_KEY {problem} (expected id:base64 of 32 bytes)."
                ))
            });
        }
        let path = self.sibling(".key");
        match fs::read_to_string(&path) {
            Ok(spec) => Keyring::parse(spec.trim()).map_err(|problem| {
                Error::failure(format!("The key file {} {problem}.", path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                self.ensure_dir()?;
                self.make_key_file(&path)?;
                self.keys(false)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::failure(format!(
                "The key file {} is missing, so the stored tokens cannot be opened. Log in again.",
                path.display()
            ))),
            Err(e) => Err(Error::failure(format!(
                "Cannot read the key file {}: {e}",
                path.display()
            ))),
        }
    }

    /// Writes a new random key beside the store; if another command made one first, that one
    /// stays (a hard link fails when the name exists, so the key is never half written).
    fn make_key_file(&self, path: &Path) -> Result<()> {
        let mut key = [0u8; 32];
        zcrm_edge::session::random_bytes(&mut key);
        let spec = format!("k1:{}\n", zoho::base64::encode_standard(&key));
        let tmp = self.sibling(&format!(".key.tmp{}", std::process::id()));
        let result = (|| {
            let mut file = create_private(&tmp)?;
            file.write_all(spec.as_bytes())?;
            file.sync_all()?;
            match fs::hard_link(&tmp, path) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
                _ => Ok(()),
            }
        })();
        let _ = fs::remove_file(&tmp);
        result.map_err(|e| {
            Error::failure(format!("Cannot write the key file {}: {e}", path.display()))
        })
    }
}

/// Creates (or truncates) a file only its owner can read and write.
pub fn create_private(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)?;
    // The mode given applies only to a new file.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// Purposes of sealed values: what and whose.
fn purpose(what: &str, key: &str) -> String {
    format!("zcrm:{what}:{key}")
}

fn seal(keys: &Keyring, what: &str, key: &str, secret: &str) -> String {
    keys.seal(&purpose(what, key), secret.as_bytes())
}

fn open(keys: &Keyring, what: &str, key: &str, sealed: &str) -> Result<String> {
    keys.open(&purpose(what, key), sealed)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            Error::failure(
                "The stored tokens cannot be opened with this key (ZCRM_STORE_KEY or the key file changed). Log in again.",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_store(name: &str) -> Store {
        let dir = std::env::temp_dir().join(format!("zcrm-store-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        Store {
            path: dir.join("sub").join("tokens.json"),
        }
    }

    fn entry(key: &str) -> Entry {
        Entry {
            key: key.into(),
            email: "a@b.example".into(),
            name: "A".into(),
            user_id: "1".into(),
            org_id: "2".into(),
            org_name: "O".into(),
            data_center: "us".into(),
            environment: "production".into(),
            client_id: "1000.X".into(),
            client_secret: String::new(),
            refresh_token: String::new(),
            access_token: String::new(),
            expires_at: 0,
            lifetime_secs: 3600,
            scope: String::new(),
            updated_at: 0,
        }
    }

    #[test]
    fn writes_atomically_with_private_modes() {
        let store = temp_store("modes");
        assert!(store.read().unwrap().is_empty());
        let lock = store.lock().unwrap();
        store
            .write(&lock, &[entry("user:us:production:2:1")])
            .unwrap();
        drop(lock);
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(store.path()), 0o600);
        assert_eq!(mode(store.path().parent().unwrap()), 0o700);
        assert_eq!(store.read().unwrap()[0].key, "user:us:production:2:1");
        let leftovers: Vec<_> = fs::read_dir(store.path().parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        fs::write(store.path(), "{nope").unwrap();
        assert!(
            store
                .read()
                .unwrap_err()
                .message
                .contains("not a zcrm token store")
        );
    }

    #[test]
    fn refresh_is_due_ahead_of_expiry() {
        let mut e = entry("k");
        e.expires_at = 10_000;
        assert!(!e.refresh_due(10_000 - 301));
        assert!(e.refresh_due(10_000 - 300));
        assert!(e.refresh_due(20_000));
        e.lifetime_secs = 240;
        assert!(
            !e.refresh_due(10_000 - 121),
            "a short-lived token is not refreshed at once"
        );
        assert!(e.refresh_due(10_000 - 120));
    }

    #[test]
    fn sealed_values_are_bound_to_their_entry() {
        let store = temp_store("keys");
        let keys = store.keys(true).unwrap();
        let again = store.keys(false).unwrap();
        let sealed = seal(&keys, "refresh", "user:us:production:2:1", "1000.secret");
        assert!(!sealed.contains("secret"));
        assert_eq!(
            open(&again, "refresh", "user:us:production:2:1", &sealed).unwrap(),
            "1000.secret"
        );
        assert!(open(&keys, "refresh", "user:us:production:2:9", &sealed).is_err());
        assert!(open(&keys, "access", "user:us:production:2:1", &sealed).is_err());
        let key_file = store.sibling(".key");
        assert_eq!(
            fs::metadata(key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
