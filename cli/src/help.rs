//! `zcrm --help` and `zcrm <command> --help`.

pub const MAIN: &str = "\
zcrm: Zoho CRM from the command line (self-client flow), for scripts and cron jobs.

Usage: zcrm [--user EMAIL] [--store PATH] [--json] <command> [options]

Commands:
  login --grant CODE --dc DC     exchange a Self Client grant code, store the tokens
  login --browser [--dc DC]      sign in through the browser (loopback redirect, PKCE)
  users                          the users in the token store (never a token)
  logout [--user EMAIL]          revoke the grant at Zoho and forget it
  students list|get|add|update|delete|import|export
                                 students (Zoho CRM Leads); see zcrm students --help

Options (every command):
  --user EMAIL          which stored user (needed when several are logged in)
  --store PATH          the token store (default $ZCRM_STORE, else
                        $XDG_CONFIG_HOME/zcrm/tokens.json, ~/.config/zcrm/tokens.json)
  --json                one JSON document on stdout, for scripts
  --client-id ID        default $ZOHO_CLIENT_ID
  --client-secret S     default $ZOHO_CLIENT_SECRET (prefer the variable: flags show in ps)
  -h, --help            help; zcrm <command> --help for a command's
  --version

Environment:
  ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET   the client from Zoho's API console
  ZCRM_STORE                           the token store file
  ZCRM_STORE_KEY                       the key sealing the tokens (id:base64 of 32 bytes);
                                       default: a key file beside the store (<store>.key)
  ZOHO_SIM_BASE                        the Zoho simulator's URL (loopback only), standing
                                       in for every data centre

Exit status: 0 success, 1 the request failed, 2 bad usage or input.
Data centres: us eu in au cn jp ca sa uk. Environments: production sandbox developer.
";

pub const LOGIN: &str = "\
Usage: zcrm login --grant CODE --dc DC [--environment production|sandbox|developer]
       zcrm login --browser [--dc DC] [--environment ENV] [--redirect-uri URI]
                  [--scope SCOPES] [--timeout SECS]

--grant CODE   a grant code from Zoho's API console (Self Client > Generate Code) for the
               scopes ZohoCRM.modules.ALL,ZohoCRM.settings.fields.READ,ZohoCRM.users.READ,
               ZohoCRM.org.READ. `--grant -` reads it from stdin (keeps it out of ps).
               The code is exchanged at the accounts server of --dc. --environment, when
               given, must be the one the code was made in (else Zoho's answer tells).
--browser      prints the authorization URL (state, PKCE S256), receives Zoho's redirect on
               the loopback --redirect-uri (default http://127.0.0.1:53682/callback; it must be
               registered for the client), exchanges the code. --timeout: how long to wait
               (default 300 s). --scope: comma-separated (default as above).

The user and org are read from Zoho and the tokens stored, sealed, under data centre,
environment, org and user: logging the same user in again replaces the entry and revokes
the refresh token it held. Prints who is logged in (--json: email, name, org, org_id,
data_center, environment, expires_at).
";

pub const USERS: &str = "\
Usage: zcrm users [--json]

The users in the token store: email, org, data centre, environment, access token expiry.
--json: {\"users\":[{\"email\",\"org\",\"data_center\",\"environment\",\"expires_at\"}]}
";

pub const LOGOUT: &str = "\
Usage: zcrm logout [--user EMAIL] [--dc DC] [--environment ENV]

Revokes the user's refresh token at Zoho (and with it every access token), then removes
the entry from the token store. If Zoho cannot be reached the entry is kept, so a second
try can still revoke it.
";

pub const STUDENTS: &str = "\
Usage: zcrm [--user EMAIL] students <command> [options] [--json]

  list [--search Q] [--page N] [--per-page N] [--all]
        a page of students (20, newest change first); --search matches name, email,
        phone or course; --all reads every page
        --json: {\"students\":[...],\"page\":N,\"more\":bool}
  get ID
  add --last-name L --college C --course COURSE --email E [--first-name F] [--phone P]
  update ID [--first-name F] [--last-name L] [--college C] [--course C] [--email E] [--phone P]
        (an empty value clears an optional field)
  delete ID
        --json: {\"id\":ID,\"deleted\":true}
  import FILE.csv [--dry-run]
  export [--out FILE.csv]

get, add and update print the student (--json: {\"id\",\"first_name\",\"last_name\",\"college\",
\"course\",\"email\",\"phone\"}). add and update check the portal's rules and the course
against Zoho's field metadata before sending anything.
--dc DC and --environment ENV pick among several stored entries of one user.
zcrm students import --help and zcrm students export --help tell more.
";

pub const IMPORT: &str = "\
Usage: zcrm students import FILE.csv [--dry-run] [--json]

FILE.csv: UTF-8, a header row naming the columns first_name, last_name, college, course,
email, phone (any order; `name` instead of first_name and last_name is split at its first
space; an `id` column is ignored, so an export imports). Every row is checked before anything
is sent; then the rows go to Zoho 100 at a time, skipping every email Zoho already has or an
earlier row of the file had, so running the same file again creates nothing twice. Progress
on stderr (a bar on a terminal, plain lines otherwise), then a report of every row (row 1 is
the first row after the header). --dry-run checks everything, sends nothing.

--json: {\"created\":N,\"duplicate\":N,\"invalid\":N,\"rows\":[{\"row\":N,
  \"status\":\"created\"|\"duplicate\"|\"invalid\",\"id\"?,\"field\"?,\"reason\"?}]}
  (--dry-run: status \"valid\" for rows that would be created, and \"dry_run\":true, \"valid\":N;
  after a failed request: status \"failed\" for the rows not imported, and \"failed\":N)
Exit status 0 only if every row was created or skipped as a duplicate; 2 if a row was
refused; 1 if a request failed.
";

pub const EXPORT: &str = "\
Usage: zcrm students export [--out FILE.csv] [--json]

Every student of the org as CSV: id, first_name, last_name, college, course, email, phone,
sorted by id, all records (past Zoho's 2,000 with page_token). Cells starting with = + - @
(and ') get a leading ' so that spreadsheets do not run them as formulas (import removes it).
Without --out the CSV goes to stdout; with --out it is written whole or not at all (0600).
--json (needs --out): {\"exported\":N,\"out\":FILE}
";

/// The help of a command path (`["students", "import"]`).
pub fn of(path: &[String]) -> &'static str {
    match path
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["login", ..] => LOGIN,
        ["users", ..] => USERS,
        ["logout", ..] => LOGOUT,
        ["students", "import", ..] => IMPORT,
        ["students", "export", ..] => EXPORT,
        ["students", ..] => STUDENTS,
        _ => MAIN,
    }
}
