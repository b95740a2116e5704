use super::*;

#[test]
fn node_ids_are_swarmkits_25_lowercase_base36_characters() {
    assert!(valid_node_id("k3v8tq2n0zq5w0b7m1x4c9d2e"));
    assert!(!valid_node_id(""));
    assert!(!valid_node_id("k3v8tq2n0zq5w0b7m1x4c9d2")); // 24
    assert!(!valid_node_id("k3v8tq2n0zq5w0b7m1x4c9d2ef")); // 26
    assert!(!valid_node_id("K3V8TQ2N0ZQ5W0B7M1X4C9D2E"));
    assert!(!valid_node_id("k3v8tq2n0zq5w0b7m1x4c9d2-"));
    assert!(!valid_node_id("00000000-0000-0000-0000-000000000000"));
}

#[test]
fn availability_is_one_of_three_lowercase_words() {
    assert_eq!(Availability::parse("drain"), Ok(Availability::Drain));
    assert_eq!(Availability::parse("pause"), Ok(Availability::Pause));
    assert_eq!(Availability::parse("active"), Ok(Availability::Active));
    for bad in ["", "Drain", "paused", "activate", " drain"] {
        let e = Availability::parse(bad).unwrap_err();
        assert_eq!(e.field, "availability", "{bad}");
    }
    for a in Availability::ALL {
        assert_eq!(Availability::parse(a.as_str()), Ok(a));
        assert_eq!(
            serde_json::to_value(a).unwrap(),
            serde_json::json!(a.as_str())
        );
    }
}

#[test]
fn label_keys_follow_dockers_rules() {
    for good in ["zone", "berth.zone", "disk-type", "gpu_count", "a", "Zone2"] {
        assert_eq!(validate_label_key(good), Ok(()), "{good}");
    }
    let long = "k".repeat(LABEL_KEY_MAX);
    assert_eq!(validate_label_key(&long), Ok(()));
    for (bad, says) in [
        ("", "empty"),
        ("a=b", "'='"),
        ("has space", "letters"),
        ("slash/key", "letters"),
        ("é", "letters"),
        (".zone", "starts and ends"),
        ("zone-", "starts and ends"),
        ("com.docker.swarm", "reserves"),
        ("IO.Docker.x", "reserves"),
        ("org.dockerproject.y", "reserves"),
    ] {
        let e = validate_label_key(bad).unwrap_err();
        assert_eq!(e.field, "key");
        assert!(e.message.contains(says), "{bad}: {}", e.message);
    }
    let e = validate_label_key(&"k".repeat(LABEL_KEY_MAX + 1)).unwrap_err();
    assert!(e.message.contains("128"));
}

#[test]
fn label_values_may_be_empty_but_not_long_or_controlled() {
    assert_eq!(validate_label_value(""), Ok(()));
    assert_eq!(validate_label_value("eu-west = 1 / ssd"), Ok(()));
    assert_eq!(validate_label_value(&"v".repeat(LABEL_VALUE_MAX)), Ok(()));
    let e = validate_label_value(&"v".repeat(LABEL_VALUE_MAX + 1)).unwrap_err();
    assert_eq!(e.field, "value");
    assert!(validate_label_value("a\nb").is_err());
    assert!(validate_label_value("a\u{0}b").is_err());
}

#[test]
fn the_join_command_hides_the_token_unless_told() {
    let shown = JoinCommand::new("10.0.0.1:2377", "SWMTKN-1-abc", true);
    assert_eq!(
        shown.command,
        "docker swarm join --token SWMTKN-1-abc 10.0.0.1:2377"
    );
    assert_eq!(shown.token.as_deref(), Some("SWMTKN-1-abc"));
    assert!(!shown.token_hidden);
    let hidden = JoinCommand::new("10.0.0.1:2377", "SWMTKN-1-abc", false);
    assert!(!hidden.command.contains("SWMTKN"));
    assert_eq!(
        hidden.command,
        "docker swarm join --token <token> 10.0.0.1:2377"
    );
    assert_eq!(hidden.token, None);
    assert!(hidden.token_hidden);
}

#[test]
fn bytes_read_as_mib_or_gib() {
    assert_eq!(format_bytes(512 * 1024 * 1024), "512 MiB");
    assert_eq!(format_bytes(8 * 1024 * 1024 * 1024), "8.0 GiB");
    assert_eq!(format_bytes(-1), "0 MiB");
}
