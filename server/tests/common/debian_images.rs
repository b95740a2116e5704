//! Real application images made from Debian packages, without any image registry: a root
//! file system from `mmdebstrap` (Debian's packages are reachable where no registry is),
//! `docker import`ed as a base, and two application images built `FROM` it — a PostgreSQL 15
//! server and a Python (Flask) web app that checks its `Host` header like Django's
//! `ALLOWED_HOSTS`.
//!
//! Every image is tagged by a hash of what it is made of (`berth-test-cache/…:<hash>`) and
//! kept by the engine as a cache: the first run builds (≈ 45 s for the base, a few seconds
//! for each application), later runs find the tag and reuse it. A file lock makes parallel
//! tests, and parallel test binaries, build each image once. Remove the cache with
//! `docker rmi $(docker images -q 'berth-test-cache/*')`.
//!
//! Std-only and blocking (the docker CLI and mmdebstrap, as a person would run them), so
//! the server's tests and the browser tests share this one file (`#[path]`). From async
//! code, call it through `tokio::task::spawn_blocking`.
#![allow(dead_code)]

use std::process::Command;

/// The Debian suite the images come from.
const SUITE: &str = "bookworm";
/// Packages in the base: PostgreSQL's server, Flask and the PostgreSQL driver for Python.
const PACKAGES: &[&str] = &["postgresql-15", "python3-flask", "python3-psycopg2"];
/// Bumped when the recipe changes in a way the inputs below do not show.
const RECIPE_VERSION: &str = "1";

/// Where the PostgreSQL image keeps its data: mount a named volume here.
pub const POSTGRES_DATA: &str = "/var/lib/postgresql/data";
/// The port the PostgreSQL image listens on.
pub const POSTGRES_PORT: u16 = 5432;
/// The port the web app listens on.
pub const WEB_PORT: u16 = 8000;

/// The PostgreSQL image's entrypoint: creates the cluster on first start (superuser
/// `postgres`, password from `POSTGRES_PASSWORD`, password logins from anywhere); on every
/// later start sets the superuser's password from `POSTGRES_PASSWORD` again (initdb applies
/// it only once, and a changed password must take effect on a redeploy): through a
/// temporary server on the local socket only, where psql reads the value from the
/// environment (`\getenv`) and quotes it itself (`:'pw'`), so no command is built from it.
/// Then runs the server as PID 1 under the `postgres` account, so `docker stop` shuts it
/// down cleanly.
const POSTGRES_ENTRYPOINT: &str = r#"#!/bin/sh
set -eu
bin=/usr/lib/postgresql/15/bin
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
mkdir -p "$PGDATA" /run/postgresql
chown postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  chown postgres "$pwfile"
  as_postgres "$bin/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  echo "initdb: cluster created in $PGDATA"
else
  hba=$(mktemp)
  echo "local all postgres peer" > "$hba"
  chown postgres "$hba"
  as_postgres "$bin/pg_ctl" -D "$PGDATA" -w -s -o "-c listen_addresses= -c hba_file=$hba" start
  printf '%s\n' '\getenv pw POSTGRES_PASSWORD' "ALTER ROLE postgres PASSWORD :'pw';" |
    as_postgres "$bin/psql" -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres
  as_postgres "$bin/pg_ctl" -D "$PGDATA" -w -s -m fast stop
  rm -f "$hba"
  echo "entrypoint: password of postgres set from POSTGRES_PASSWORD"
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups -- \
  "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' "$@"
"#;

/// The web app: `GET /` answers `hello from <hostname> version <APP_VERSION>`; a request
/// whose `Host` (without port) is not in `ALLOWED_HOSTS` (comma-separated; empty allows
/// all) answers 400, as Django does. With `DATABASE_URL`: `GET /notes` lists the notes
/// table one per line, `POST /notes` (form field `note`) adds one; when the database
/// refuses (a wrong password, no server) they answer 503 `database error: <its message>`.
/// With `UPSTREAM_URL` (another service, e.g. `http://api:8000`): `GET /upstream/<path>`
/// answers what `GET <UPSTREAM_URL>/<path>` answers (status and body), or 502
/// `upstream unreachable: <reason>`.
const WEB_APP: &str = r#"import os, socket, urllib.error, urllib.request
import psycopg2
from flask import Flask, abort, request

app = Flask(__name__)
allowed = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]


@app.before_request
def check_host():
    host = request.host.split(":")[0]
    if allowed and host not in allowed:
        abort(400, f"Invalid HTTP_HOST header: {request.host!r}")


@app.get("/")
def index():
    return f"hello from {socket.gethostname()} version {os.environ.get('APP_VERSION', '')}\n"


def db():
    return psycopg2.connect(os.environ["DATABASE_URL"])


@app.errorhandler(psycopg2.OperationalError)
def database_error(e):
    return f"database error: {e}".strip() + "\n", 503, {"Content-Type": "text/plain"}


@app.route("/notes", methods=["GET", "POST"])
def notes():
    with db() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, note text NOT NULL)")
        if request.method == "POST":
            cur.execute("INSERT INTO notes (note) VALUES (%s)", (request.form["note"],))
        cur.execute("SELECT note FROM notes ORDER BY id")
        rows = [r[0] for r in cur.fetchall()]
    return "".join(f"{r}\n" for r in rows), 200, {"Content-Type": "text/plain"}


@app.get("/upstream/<path:path>")
def upstream(path):
    base = os.environ.get("UPSTREAM_URL")
    if not base:
        abort(404, "UPSTREAM_URL is not set")
    try:
        with urllib.request.urlopen(f"{base.rstrip('/')}/{path}", timeout=5) as r:
            return r.read(), r.status, {"Content-Type": "text/plain"}
    except urllib.error.HTTPError as e:
        return e.read(), e.code, {"Content-Type": "text/plain"}
    except (urllib.error.URLError, OSError) as e:
        return f"upstream unreachable: {getattr(e, 'reason', e)}\n", 502, {"Content-Type": "text/plain"}


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8000")))
"#;

/// The base image (`berth-test-cache/debian:<hash>`): Debian bookworm, minbase, with the
/// packages above and no documentation. Built once, then reused.
pub fn base() -> String {
    let recipe = format!("{SUITE} {PACKAGES:?} {RECIPE_VERSION}");
    let tag = format!("berth-test-cache/debian:{}", hash(&recipe));
    cached(&tag, || {
        let dir = tempdir();
        let rootfs = dir.join("rootfs.tar");
        let mut args = vec![
            "--variant=minbase".to_owned(),
            "--aptopt=APT::Install-Recommends \"false\"".to_owned(),
            format!("--include={}", PACKAGES.join(",")),
        ];
        for excluded in ["doc", "man", "info", "locale"] {
            args.push(format!("--dpkgopt=path-exclude=/usr/share/{excluded}/*"));
        }
        args.extend([SUITE.to_owned(), rootfs.display().to_string()]);
        run_ok("mmdebstrap", &args);
        run_ok(
            "docker",
            &[
                "import".to_owned(),
                "--change".to_owned(),
                "CMD [\"/bin/bash\"]".to_owned(),
                rootfs.display().to_string(),
                tag.clone(),
            ],
        );
        let _ = std::fs::remove_dir_all(&dir);
    });
    tag
}

/// A PostgreSQL 15 server (`berth-test-cache/postgres:<hash>`): needs `POSTGRES_PASSWORD`;
/// data in [`POSTGRES_DATA`]; port [`POSTGRES_PORT`]; superuser `postgres`.
pub fn postgres() -> String {
    let base = base();
    let dockerfile = format!(
        "FROM {base}\nENV PGDATA={POSTGRES_DATA}\nCOPY entrypoint.sh /usr/local/bin/berth-postgres\n\
         EXPOSE {POSTGRES_PORT}\nSTOPSIGNAL SIGINT\n\
         ENTRYPOINT [\"/bin/sh\", \"/usr/local/bin/berth-postgres\"]\nCMD []\n"
    );
    app_image(
        "postgres",
        &dockerfile,
        &[("entrypoint.sh", POSTGRES_ENTRYPOINT)],
    )
}

/// The Flask web app (`berth-test-cache/web:<hash>`) on port [`WEB_PORT`]; see `WEB_APP`
/// above for what it answers and the variables it reads.
pub fn web_app() -> String {
    let base = base();
    let dockerfile = format!(
        "FROM {base}\nCOPY app.py /app/app.py\nENV PYTHONUNBUFFERED=1\nEXPOSE {WEB_PORT}\n\
         CMD [\"python3\", \"/app/app.py\"]\n"
    );
    app_image("web", &dockerfile, &[("app.py", WEB_APP)])
}

/// The files of the web app, for a git repository whose Dockerfile builds `FROM` the base:
/// `(path, contents)` pairs, the Dockerfile among them.
pub fn web_app_repository_files() -> Vec<(String, String)> {
    let base = base();
    vec![
        (
            "Dockerfile".to_owned(),
            format!(
                "FROM {base}\nCOPY app.py /app/app.py\nENV PYTHONUNBUFFERED=1\n\
                 EXPOSE {WEB_PORT}\nCMD [\"python3\", \"/app/app.py\"]\n"
            ),
        ),
        ("app.py".to_owned(), WEB_APP.to_owned()),
    ]
}

/// Builds `berth-test-cache/<name>:<hash of the Dockerfile and files>` unless cached.
fn app_image(name: &str, dockerfile: &str, files: &[(&str, &str)]) -> String {
    let mut recipe = dockerfile.to_owned();
    for (path, contents) in files {
        recipe.push_str(path);
        recipe.push_str(contents);
    }
    let tag = format!("berth-test-cache/{name}:{}", hash(&recipe));
    cached(&tag, || {
        let dir = tempdir();
        std::fs::write(dir.join("Dockerfile"), dockerfile).unwrap();
        for (path, contents) in files {
            std::fs::write(dir.join(path), contents).unwrap();
        }
        run_ok(
            "docker",
            &[
                "build".to_owned(),
                "-q".to_owned(),
                "-t".to_owned(),
                tag.clone(),
                dir.display().to_string(),
            ],
        );
        let _ = std::fs::remove_dir_all(&dir);
    });
    tag
}

/// Runs `build` unless the engine has `tag`, holding a lock shared by every test process.
fn cached(tag: &str, build: impl FnOnce()) {
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(std::env::temp_dir().join("berth-test-cache.lock"))
        .expect("lock file");
    lock.lock().expect("lock the image cache");
    let present = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", tag])
        .output()
        .expect("docker CLI")
        .status
        .success();
    if !present {
        build();
    }
    // Dropping the file releases the lock.
}

/// Runs `program` with `args` and panics with its output when it fails (or is missing:
/// `scripts/setup` installs what the tests run). Here because the e2e tests include this
/// file alone; the cluster fixture uses it too.
pub fn run_ok<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(program: &str, args: &[S]) {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (installed by scripts/setup)"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "berth-test-image-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// FNV-1a, 64 bits, as 16 hex digits: stable across Rust versions, unlike std's hasher.
fn hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}
