//! The first users' stack, end to end through `secretgate scan`: a Next.js
//! dashboard with NextAuth, n8n, Anthropic, a Polymarket bot, a Vapi / Twilio /
//! ElevenLabs voice agent, PostgreSQL, a tracked `.env` and hard-coded
//! passwords. Every planted secret must be found, and none of the placeholders
//! and references beside them.

mod common;

use base64::Engine as _;
use common::*;
use serde_json::Value;

fn n8n_api_key(seed: u64) -> String {
    let b64 = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
    let header = b64(r#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64(&format!(
        r#"{{"sub":"{}-1c2d-4e5f-8a9b-0c1d2e3f4a5b","iss":"n8n","aud":"public-api","iat":1735689600}}"#,
        random_string(seed, 8, HEX)
    ));
    format!(
        "{header}.{payload}.{}",
        random_string(seed + 1, 43, URLSAFE)
    )
}

fn uuid(seed: u64) -> String {
    let hex = random_string(seed, 32, HEX);
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// (what, the secret, the rule ids that may report it)
struct Planted {
    what: &'static str,
    secret: String,
    rules: &'static [&'static str],
}

fn findings_with_secret<'a>(report: &'a Value, secret: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .map(|all| all.iter().filter(|f| f["secret"] == secret).collect())
        .unwrap_or_default()
}

#[test]
fn agency_stack_secrets_are_all_found_and_placeholders_are_not() {
    let tree = Tree::new();
    let anthropic = anthropic_key(100);
    let n8n = n8n_api_key(101);
    let db_password = random_string(102, 18, BASE62);
    let wallet = random_string(103, 64, HEX);
    let clob_key = uuid(104);
    let clob_secret = format!("{}=", random_string(105, 43, URLSAFE));
    let clob_pass = random_string(106, 64, HEX);
    let vapi = uuid(107);
    let twilio_token = random_string(108, 32, HEX);
    let elevenlabs = format!("sk_{}", random_string(109, 48, HEX));
    let n8n_webhook_secret = random_string(110, 32, BASE62);

    tree.write(
        ".env",
        format!(
            "NEXTAUTH_URL=http://localhost:3000\n\
             NEXTAUTH_SECRET=dev-secret-change-in-production\n\
             ANTHROPIC_API_KEY={anthropic}\n\
             DATABASE_URL=postgresql://dashboard:{db_password}@db.internal.agency.io:5432/dashboard\n\
             OWNER_PASSWORD=tars2026\n\
             N8N_API_KEY={n8n}\n\
             N8N_WEBHOOK_SECRET={n8n_webhook_secret}\n\
             VAPI_PRIVATE_KEY={vapi}\n\
             TWILIO_ACCOUNT_SID=AC{}\n\
             TWILIO_AUTH_TOKEN={twilio_token}\n\
             ELEVENLABS_API_KEY={elevenlabs}\n",
            random_string(111, 32, HEX)
        ),
    );
    tree.write(
        "bot/.env.production",
        format!(
            "PK=0x{wallet}\nCLOB_API_KEY={clob_key}\nCLOB_SECRET={clob_secret}\nCLOB_PASS_PHRASE={clob_pass}\n"
        ),
    );
    tree.write(
        "src/lib/auth.ts",
        "import NextAuth from 'next-auth';\n\
         const OWNER_PASSWORD = \"tars2026\";\n\
         export const authOptions = {\n  secret: process.env.NEXTAUTH_SECRET || 'dev-secret-change-in-production',\n};\n",
    );
    // Placeholders, references and documentation beside the real thing.
    tree.write(
        ".env.example",
        "NEXTAUTH_SECRET=\n\
         ANTHROPIC_API_KEY=sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxx\n\
         DATABASE_URL=postgresql://user:password@localhost:5432/dashboard\n\
         OWNER_PASSWORD=${OWNER_PASSWORD}\n\
         PK=0x<your-private-key>\n",
    );
    tree.write(
        "src/lib/db.ts",
        "const password = process.env.OWNER_PASSWORD;\n\
         const url = `postgresql://${user}:${pass}@${host}/db`;\n\
         if (!process.env.NEXTAUTH_SECRET) throw new Error('NEXTAUTH_SECRET is required');\n",
    );

    let (code, report) = scan_json(tree.path(), &[]);
    assert_eq!(code, 1);

    let planted = [
        Planted {
            what: "NextAuth default secret",
            secret: "dev-secret-change-in-production".into(),
            rules: &["nextauth-weak-secret"],
        },
        Planted {
            what: "Anthropic key",
            secret: anthropic.clone(),
            rules: &["anthropic-api-key"],
        },
        Planted {
            what: "PostgreSQL password",
            secret: db_password,
            rules: &["postgres-url-password"],
        },
        Planted {
            what: "owner password",
            secret: "tars2026".into(),
            rules: &["generic-password-env", "generic-password"],
        },
        Planted {
            what: "n8n API key",
            secret: n8n,
            rules: &["n8n-api-key"],
        },
        Planted {
            what: "n8n webhook secret",
            secret: n8n_webhook_secret,
            rules: &["n8n-secret-env"],
        },
        Planted {
            what: "Vapi private key",
            secret: vapi,
            rules: &["vapi-private-key"],
        },
        Planted {
            what: "Twilio auth token",
            secret: twilio_token,
            rules: &["twilio-auth-token"],
        },
        Planted {
            what: "ElevenLabs key",
            secret: elevenlabs,
            rules: &["elevenlabs-api-key"],
        },
        Planted {
            what: "wallet private key",
            secret: wallet,
            rules: &["evm-private-key"],
        },
        Planted {
            what: "CLOB API key",
            secret: clob_key,
            rules: &["polymarket-clob-api-key"],
        },
        Planted {
            what: "CLOB secret",
            secret: clob_secret,
            rules: &["polymarket-clob-secret"],
        },
        Planted {
            what: "CLOB passphrase",
            secret: clob_pass,
            rules: &["polymarket-clob-passphrase"],
        },
    ];
    let mut missing = Vec::new();
    for plant in &planted {
        let found = findings_with_secret(&report, &plant.secret);
        if found.is_empty() {
            missing.push(format!("{}: not found", plant.what));
        } else if !found
            .iter()
            .any(|f| plant.rules.iter().any(|r| f["rule"] == *r))
        {
            let rules: Vec<&Value> = found.iter().map(|f| &f["rule"]).collect();
            missing.push(format!(
                "{}: found by {rules:?}, expected one of {:?}",
                plant.what, plant.rules
            ));
        }
    }
    assert!(missing.is_empty(), "{missing:#?}\nreport: {report:#}");

    // The hard-coded password and the fallback in code are found where they are.
    let in_code: Vec<&Value> = report["findings"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|f| f["path"] == "src/lib/auth.ts")
                .collect()
        })
        .unwrap_or_default();
    let lines: Vec<i64> = in_code.iter().filter_map(|f| f["line"].as_i64()).collect();
    assert!(
        lines.contains(&2),
        "OWNER_PASSWORD literal in code not found: {in_code:#?}"
    );
    assert!(
        lines.contains(&4),
        "NEXTAUTH_SECRET fallback not found: {in_code:#?}"
    );

    // Tracked env files are reported as files; the example file is not.
    let files: Vec<&str> = report["findings"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|f| f["kind"] == "file")
                .filter_map(|f| f["path"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(files.contains(&".env"), "{files:?}");
    assert!(files.contains(&"bot/.env.production"), "{files:?}");

    // Nothing from the placeholders and references.
    let noise: Vec<&Value> = report["findings"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|f| f["path"] == ".env.example" || f["path"] == "src/lib/db.ts")
                .collect()
        })
        .unwrap_or_default();
    assert!(noise.is_empty(), "false alarms: {noise:#?}");

    // One secret, one finding: nothing is reported twice on the same line.
    let mut seen = std::collections::HashSet::new();
    for f in report["findings"].as_array().into_iter().flatten() {
        if f["kind"] == "secret" {
            let key = (
                f["path"].to_string(),
                f["line"].to_string(),
                f["secret"].to_string(),
            );
            assert!(seen.insert(key), "reported twice: {f:#}");
        }
    }
}
