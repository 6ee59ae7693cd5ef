//! Issue 7: TLS through rustls, certificates never bypassed, plain http only to this
//! machine unless the IT helper allows it.

mod common;

use chrono::Utc;
use tsunagi_core::config::FhirAuthKind;
use tsunagi_core::desk::RoundEnd;
use tsunagi_core::desk::SourceOptions;
use tsunagi_core::model::SourceKind;
use tsunagi_core::receipts::{PaymentMethod, ReceiptInput};
use tsunagi_core::SourceSetup;
use tsunagi_testkit::tls::SelfSignedTls;

#[test]
fn issue_7_a_server_whose_certificate_is_not_trusted_is_named_and_never_used() {
    let tls = SelfSignedTls::start(&["localhost"]);
    let d = common::fhir_desk(
        &format!("https://localhost:{}/fhir", tls.port()),
        Utc::now(),
        5,
    );
    let rt = common::runtime();

    let err = rt.block_on(d.desk.pull()).unwrap_err();
    assert_eq!(err.code(), "source.certificate", "{err}");
    assert!(!err.is_retryable(), "waiting does not fix a certificate");
    let text = err.to_string();
    assert!(
        text.contains("localhost") && text.contains("not issued by an authority"),
        "the message names the server and what is wrong: {text}"
    );
    let status = rt.block_on(d.desk.status()).unwrap();
    let pull = status.last_pull.expect("the failed pull is logged");
    assert_eq!(pull.error.unwrap().code, "source.certificate");
    assert_eq!(status.appointments, 0);

    // A receipt taken meanwhile waits: the sender stops on the certificate, it does not
    // park the receipt as refused by the server.
    rt.block_on(d.desk.add_receipt(ReceiptInput {
        amount: "1200".into(),
        method: PaymentMethod::Cash,
        patient_id: None,
        patient_name: Some("確認 用".into()),
        memo: None,
        staff: None,
        repeat_ok: false,
    }))
    .unwrap();
    let round = rt.block_on(d.desk.drain_round()).unwrap();
    match round.end {
        RoundEnd::Failed {
            error, retryable, ..
        } => {
            assert_eq!(error.code, "source.certificate");
            assert!(!retryable);
        }
        other => panic!("expected the round to stop on the certificate, got {other:?}"),
    }
    let ops = rt.block_on(d.desk.outbox()).unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(
        ops[0].state,
        tsunagi_core::outbox::OpState::Pending,
        "still waiting, not rejected"
    );

    assert_eq!(
        tls.requests_read(),
        0,
        "not one request went over the untrusted connection"
    );
}

#[test]
fn issue_7_plain_http_goes_only_to_this_machine_unless_the_it_helper_allows_it() {
    let d = common::demo_desk(Utc::now(), |_| {});
    let setup = |url: &str| SourceSetup::Fhir {
        base_url: url.into(),
        auth: FhirAuthKind::None,
        username: None,
        secret: None,
    };
    // From the terminal (the IT helper) or not (the window: never allowed to set it).
    let it_helper = |allow: Option<bool>| SourceOptions {
        allow_plain_http: allow,
        confirmed: false,
    };

    let err = d
        .desk
        .configure_source(setup("http://192.0.2.10/fhir"), it_helper(None))
        .unwrap_err();
    assert_eq!(err.code(), "source.not_configured");
    assert!(err.to_string().contains("allow_plain_http"), "{err}");
    assert_eq!(
        d.desk.settings().source,
        SourceKind::Demo,
        "a refused setup changes nothing"
    );

    for local in [
        "http://127.0.0.1:9/fhir",
        "http://localhost:9/fhir",
        "http://[::1]:9/fhir",
    ] {
        d.desk
            .configure_source(setup(local), it_helper(None))
            .unwrap();
    }
    let settings = d
        .desk
        .configure_source(setup("http://192.0.2.10/fhir"), it_helper(Some(true)))
        .unwrap();
    assert!(settings.fhir.unwrap().allow_plain_http);

    // The same rule holds for a config.toml written by hand: the desk does not open
    // on it (nothing connects), and says which setting allows it.
    let dir = tempfile::tempdir().unwrap();
    let data_dir = tsunagi_core::config::DataDir::at(dir.path());
    let mut config = tsunagi_core::config::Config::first_start(None);
    config.source.kind = SourceKind::Fhir;
    config.source.fhir = Some(tsunagi_core::config::FhirConfig::new(
        "http://192.0.2.10/fhir",
    ));
    config.save(&data_dir.config()).unwrap();
    let err = tsunagi_core::Desk::open(tsunagi_core::DeskOptions {
        data_dir,
        keychain: std::sync::Arc::new(tsunagi_core::keychain::Keychain::mock()),
        clock: d.clock.clone(),
        locale: None,
    })
    .unwrap_err();
    assert_eq!(err.code(), "config.invalid");
    assert!(err.to_string().contains("allow_plain_http = true"), "{err}");
}
