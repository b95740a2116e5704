//! The `berth` command line as an operator meets it.

use std::process::Command;

fn berth() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    for (key, _) in std::env::vars() {
        if key.starts_with("BERTH_") || key == "DATABASE_URL" {
            cmd.env_remove(key);
        }
    }
    cmd
}

#[test]
fn help_lists_every_setting_with_its_variable_and_default() {
    let out = berth().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "BERTH_ADDR",
        "[default: 127.0.0.1:3000]",
        "BERTH_DATA_DIR",
        "[default: ./data]",
        "DATABASE_URL",
        "BERTH_POSTGRES_BIN",
        "BERTH_SECRET_KEY",
        "BERTH_SECRET_KEY_FILE",
        "BERTH_DOCKER_HOST",
        "BERTH_PUBLIC_URL",
        "BERTH_SITE_ROOT",
        "BERTH_SESSION_IDLE_TIMEOUT",
        "[default: 30m]",
        "BERTH_SESSION_LIFETIME",
        "[default: 12h]",
        "BERTH_TRUSTED_PROXIES",
        "BERTH_LOG_FORMAT",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
}

#[test]
fn printed_config_hides_the_database_password_and_errors_are_clear() {
    let out = berth()
        .env(
            "DATABASE_URL",
            "postgres://berth:hunter2-secret@127.0.0.1:1/berth",
        )
        .env("BERTH_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success(), "port 1 has no Postgres");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("postgres://berth:****@127.0.0.1:1/berth"),
        "{log}"
    );
    assert!(!log.contains("hunter2"), "the password leaked:\n{log}");
    assert!(log.contains("could not connect to Postgres"), "{log}");
}

#[test]
fn bad_settings_are_refused_with_the_reason() {
    let out = berth()
        .env("BERTH_SESSION_LIFETIME", "forever")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("BERTH_SESSION_LIFETIME") || err.contains("--session-lifetime"),
        "{err}"
    );
    assert!(err.contains("not a duration"), "{err}");
}
