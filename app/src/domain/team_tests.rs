//! Unit tests of `team.rs`.

use super::*;

#[test]
fn audit_times() {
    let f = AuditFilter {
        from: "2026-11-27".into(),
        to: "2026-11-27".into(),
        target: "  4d6f5a52-8d4c-4d4e-9f5e-0d2b8d6a1f00 ".into(),
        ..Default::default()
    }
    .validate()
    .unwrap();
    assert_eq!(f.from.unwrap().to_rfc3339(), "2026-11-27T00:00:00+00:00");
    assert_eq!(f.to.unwrap().to_rfc3339(), "2026-11-27T23:59:59.999+00:00");
    assert!(f.target_id.is_some());
    assert!(AuditFilter {
        from: "yesterday".into(),
        ..Default::default()
    }
    .validate()
    .is_err());
    let t = AuditFilter {
        to: "2026-11-27T10:00:00+01:00".into(),
        ..Default::default()
    }
    .validate()
    .unwrap();
    assert_eq!(t.to.unwrap().to_rfc3339(), "2026-11-27T09:00:00+00:00");
}

#[test]
fn token_forms() {
    let ok = TokenForm {
        name: " ci ".into(),
        role: "developer".into(),
        expires_in_days: Some(0),
    };
    assert_eq!(ok.validate().unwrap(), ("ci".into(), Role::Developer, None));
    let far = TokenForm {
        expires_in_days: Some(TOKEN_MAX_DAYS + 1),
        ..ok.clone()
    };
    assert!(far.validate().is_err());
    let nameless = TokenForm {
        name: "  ".into(),
        ..ok.clone()
    };
    assert!(nameless.validate().is_err());
    let bad_role = TokenForm {
        role: "root".into(),
        ..ok
    };
    assert!(bad_role.validate().is_err());
}

#[test]
fn invite_forms() {
    let f = InviteForm {
        email: " Bob@Example.com".into(),
        role: "admin".into(),
    };
    assert_eq!(
        f.validate().unwrap(),
        ("bob@example.com".into(), Role::Admin)
    );
    assert!(InviteForm {
        email: "bob".into(),
        role: "admin".into()
    }
    .validate()
    .is_err());
    assert!(InviteForm {
        email: "b@e.io".into(),
        role: "god".into()
    }
    .validate()
    .is_err());
}

#[test]
fn problems_round_trip() {
    for p in [
        InvitationProblem::Unknown,
        InvitationProblem::Used,
        InvitationProblem::Expired,
        InvitationProblem::Revoked,
        InvitationProblem::InviterLost,
        InvitationProblem::AlreadyMember,
    ] {
        assert_eq!(InvitationProblem::from_code(p.code()), Some(p));
    }
}

#[test]
fn secrets_are_64_lowercase_hex() {
    assert!(looks_like_secret(&"a1".repeat(32)));
    assert!(!looks_like_secret(&"A1".repeat(32)));
    assert!(!looks_like_secret("abc"));
    assert!(!looks_like_secret(&"g1".repeat(32)));
}
