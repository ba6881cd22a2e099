use super::*;

fn now() -> Timestamp {
    crate::ts("2026-01-02T03:04:05Z")
}

fn request(url: &str) -> WebhookRequest {
    WebhookRequest {
        url: url.into(),
        ..WebhookRequest::default()
    }
}

#[test]
fn a_secret_is_whsec_and_base64_of_a_32_byte_key_and_never_debugged() {
    let s = WebhookSecret::generate();
    assert!(s.expose().starts_with("whsec_"));
    assert_eq!(s.key().unwrap().len(), 32);
    assert_ne!(s, WebhookSecret::generate());
    assert_eq!(format!("{s:?}"), "WebhookSecret(…)");
    assert_eq!(WebhookSecret::from_stored(s.expose().into()), Some(s));
    assert_eq!(WebhookSecret::from_stored("sk_abc".into()), None);
    assert_eq!(WebhookSecret::from_stored("whsec_%%%".into()), None);
}

#[test]
fn urls_must_be_https_unless_private_targets_are_allowed() {
    assert_eq!(
        check_url(" https://hooks.example.com/in ", false).unwrap(),
        "https://hooks.example.com/in"
    );
    let http = check_url("http://hooks.example.com/in", false).unwrap_err();
    assert_eq!(http.code(), "WEBHOOK_URL_NOT_ALLOWED");
    assert!(check_url("http://hooks.example.com/in", true).is_ok());
    for bad in [
        "hooks.example.com",
        "ftp://hooks.example.com",
        "https://user:pw@hooks.example.com/",
        "",
    ] {
        assert_eq!(
            check_url(bad, true).unwrap_err().code(),
            "INVALID_WEBHOOK_URL",
            "{bad}"
        );
    }
    let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
    assert_eq!(
        check_url(&long, true).unwrap_err().code(),
        "INVALID_WEBHOOK_URL"
    );
}

#[test]
fn internal_address_literals_are_refused_unless_allowed() {
    for ip in [
        "https://127.0.0.1/",
        "https://10.1.2.3/",
        "https://172.16.0.1/",
        "https://192.168.1.1/",
        "https://169.254.169.254/latest/meta-data",
        "https://0.0.0.0/",
        "https://100.64.0.1/",
        "https://[::1]/",
        "https://[fd00::1]/",
        "https://[fe80::1]/",
        "https://[::ffff:127.0.0.1]/",
    ] {
        assert_eq!(
            check_url(ip, false).unwrap_err().code(),
            "WEBHOOK_URL_NOT_ALLOWED",
            "{ip}"
        );
        assert!(check_url(ip, true).is_ok(), "{ip}");
    }
    assert!(check_url("https://93.184.216.34/", false).is_ok());
    assert!(check_url("https://[2606:2800:220:1::1]/", false).is_ok());
}

#[test]
fn event_type_filters_name_recorded_kinds_in_a_fixed_order() {
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        parse_event_types(&names(&["job.failed", "connection.created", "job.failed"])).unwrap(),
        [EventKind::ConnectionCreated, EventKind::JobFailed]
    );
    assert_eq!(parse_event_types(&[]).unwrap(), []);
    assert_eq!(
        parse_event_types(&names(&["job.exploded"])).unwrap_err(),
        WebhookRefusal::UnknownEventType("job.exploded".into())
    );
    // No longer recorded: subscribing to it would never deliver anything.
    assert_eq!(
        parse_event_types(&names(&["job.finished"]))
            .unwrap_err()
            .code(),
        "UNKNOWN_EVENT_TYPE"
    );
}

#[test]
fn an_endpoint_without_a_filter_wants_every_kind() {
    let org = OrgId::new();
    let mut e = decide_create(org, &request("https://a.example/"), false, now()).unwrap();
    assert_eq!(e.status, WebhookStatus::Enabled);
    assert!(EventKind::ALL.into_iter().all(|k| e.wants(k)));
    e.event_types = vec![EventKind::JobFailed];
    assert!(e.wants(EventKind::JobFailed) && !e.wants(EventKind::JobSucceeded));
}

#[test]
fn creation_checks_every_field() {
    let org = OrgId::new();
    let mut req = request("https://a.example/");
    req.description = Some("  ".into());
    assert_eq!(
        decide_create(org, &req, false, now()).unwrap().description,
        None
    );
    req.description = Some("x".repeat(MAX_DESCRIPTION_LEN + 1));
    assert_eq!(
        decide_create(org, &req, false, now()).unwrap_err(),
        WebhookRefusal::DescriptionTooLong
    );
    assert!(check_room(MAX_WEBHOOKS_PER_ORG - 1).is_ok());
    assert_eq!(
        check_room(MAX_WEBHOOKS_PER_ORG).unwrap_err().code(),
        "WEBHOOK_LIMIT_REACHED"
    );
}

#[test]
fn a_patch_changes_only_what_it_names_and_moves_updated_at_only_on_change() {
    let org = OrgId::new();
    let e = decide_create(org, &request("https://a.example/"), false, now()).unwrap();
    let later = crate::ts("2026-01-03T00:00:00Z");
    let same = decide_patch(&e, &WebhookPatch::default(), false, later).unwrap();
    assert_eq!(same, e);
    let patch = WebhookPatch {
        enabled: Some(false),
        event_types: Some(vec!["job.failed".into()]),
        description: Some(Some("ops".into())),
        ..WebhookPatch::default()
    };
    let next = decide_patch(&e, &patch, false, later).unwrap();
    assert_eq!(next.status, WebhookStatus::Disabled);
    assert_eq!(next.event_types, [EventKind::JobFailed]);
    assert_eq!(next.description.as_deref(), Some("ops"));
    assert_eq!(
        (next.url.as_str(), next.updated_at),
        (e.url.as_str(), later)
    );
    assert_eq!((next.id, &next.secret), (e.id, &e.secret));
    let bad = WebhookPatch {
        url: Some("http://a.example/".into()),
        ..WebhookPatch::default()
    };
    assert_eq!(
        decide_patch(&e, &bad, false, later).unwrap_err().code(),
        "WEBHOOK_URL_NOT_ALLOWED"
    );
}

#[test]
fn cursors_round_trip_and_refuse_anything_else() {
    let c = EventCursor { tx: 812, seq: 40 };
    assert_eq!(c.to_string(), "812.40");
    assert_eq!("812.40".parse::<EventCursor>(), Ok(c));
    assert_eq!("0.0".parse::<EventCursor>(), Ok(EventCursor::default()));
    for bad in [
        "",
        "1",
        "1.",
        ".1",
        "-1.2",
        "1.2.3",
        "a.b",
        "+1.2",
        "99999999999999999999.1",
    ] {
        assert!(bad.parse::<EventCursor>().is_err(), "{bad}");
    }
    assert!(EventCursor { tx: 1, seq: 1 } > EventCursor { tx: 0, seq: 9 });
}

#[test]
fn a_patch_names_what_it_changed() {
    let org = OrgId::new();
    let before = decide_create(org, &request("https://hooks.example/in"), false, now()).unwrap();
    let patched = |p: WebhookPatch| decide_patch(&before, &p, false, now()).unwrap();
    let change = |p: WebhookPatch| WebhookChange::of_patch(&before, &patched(p));

    assert_eq!(change(WebhookPatch::default()), None, "nothing");
    let enabled_again = WebhookPatch {
        enabled: Some(true),
        ..Default::default()
    };
    assert_eq!(change(enabled_again), None, "already enabled");
    let off = WebhookPatch {
        enabled: Some(false),
        ..Default::default()
    };
    assert_eq!(change(off), Some(WebhookChange::Disabled));
    let disabled = patched(WebhookPatch {
        enabled: Some(false),
        ..Default::default()
    });
    let on = decide_patch(
        &disabled,
        &WebhookPatch {
            enabled: Some(true),
            ..Default::default()
        },
        false,
        now(),
    )
    .unwrap();
    assert_eq!(
        WebhookChange::of_patch(&disabled, &on),
        Some(WebhookChange::Enabled)
    );
    let moved = WebhookPatch {
        url: Some("https://hooks.example/elsewhere".into()),
        enabled: Some(false),
        ..Default::default()
    };
    assert_eq!(
        change(moved),
        Some(WebhookChange::Updated),
        "more than the status"
    );
    let described = WebhookPatch {
        description: Some(Some("ledger sync".into())),
        ..Default::default()
    };
    assert_eq!(change(described), Some(WebhookChange::Updated));
    assert_eq!(WebhookChange::SecretRotated.as_str(), "secret_rotated");
}
