//! AWS Signature Version 4, as the SDKs sign a Step Functions call: the `Authorization`
//! header `AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/states/aws4_request,
//! SignedHeaders=…, Signature=…` is checked against the request (method, path, query, the
//! signed headers and the body's SHA-256) with the secret of the key id, HMAC-SHA256 all the
//! way down, and the signature compared in constant time. A request signed more than 15
//! minutes away from now is refused, as AWS refuses it.

use axum::http::{HeaderMap, Method, Uri};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The algorithm the SDKs sign Step Functions calls with.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How far a signature's time may be from the server's.
const MAX_SKEW_SECONDS: i64 = 15 * 60;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SigV4Error {
    /// The header is not a SigV4 authorization this server can read.
    #[error("{0}")]
    Malformed(String),
    /// No access key has this id.
    #[error("the security token included in the request is invalid: unknown access key id '{0}'")]
    UnknownKey(String),
    /// The signature is not the request's, or it is out of date.
    #[error("{0}")]
    Mismatch(String),
}

/// What the `Authorization` header says.
#[derive(Debug, PartialEq, Eq)]
pub struct Authorization<'a> {
    pub access_key_id: &'a str,
    /// `<date>/<region>/<service>/aws4_request`.
    pub scope: &'a str,
    pub signed_headers: Vec<&'a str>,
    pub signature: &'a str,
}

/// Read an `Authorization: AWS4-HMAC-SHA256 …` header.
pub fn parse(header: &str) -> Result<Authorization<'_>, SigV4Error> {
    let malformed = |why: &str| SigV4Error::Malformed(format!("invalid Authorization header: {why}"));
    let rest = header
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| malformed("only AWS4-HMAC-SHA256 is supported"))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or_else(|| malformed("expected key=value pairs"))?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let credential = credential.ok_or_else(|| malformed("no Credential"))?;
    let (access_key_id, scope) = credential.split_once('/').ok_or_else(|| malformed("Credential has no scope"))?;
    if scope.split('/').count() != 4 || !scope.ends_with("/aws4_request") {
        return Err(malformed("the credential scope must be <date>/<region>/<service>/aws4_request"));
    }
    let signed_headers: Vec<&str> = signed.ok_or_else(|| malformed("no SignedHeaders"))?.split(';').collect();
    if !signed_headers.contains(&"host") {
        return Err(malformed("the host header must be signed"));
    }
    Ok(Authorization {
        access_key_id,
        scope,
        signed_headers,
        signature: signature.ok_or_else(|| malformed("no Signature"))?,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

fn hmac(key: &[u8], data: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac
}

/// A header's values as SigV4 canonicalizes them: trimmed, inner runs of spaces made one,
/// several values joined with commas.
fn canonical_value(headers: &HeaderMap, name: &str) -> String {
    headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(",")
}

/// The query string with its parameters sorted (they arrive encoded).
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(&str, &str)> =
        query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, ""))).collect();
    pairs.sort_unstable();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// The request as SigV4 signs it.
pub fn canonical_request(method: &Method, uri: &Uri, headers: &HeaderMap, signed: &[&str], body: &[u8]) -> String {
    let path = match uri.path() {
        "" => "/",
        p => p,
    };
    let mut out = format!("{method}\n{path}\n{}\n", canonical_query(uri.query().unwrap_or("")));
    for name in signed {
        out.push_str(&format!("{name}:{}\n", canonical_value(headers, name)));
    }
    out.push_str(&format!("\n{}\n{}", signed.join(";"), hex(&Sha256::digest(body))));
    out
}

/// Seconds since the epoch of an `X-Amz-Date` (`20260101T120000Z`).
fn epoch_seconds(amz_date: &str) -> Option<i64> {
    chrono::NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ").ok().map(|t| t.and_utc().timestamp())
}

/// The HMAC whose result is the signature of `canonical` (a canonical request) signed at
/// `amz_date` in `scope` (`<date>/<region>/<service>/aws4_request`) with `secret`.
fn signer(secret: &str, scope: &str, amz_date: &str, canonical: &str) -> Hmac<Sha256> {
    let to_sign = format!("{ALGORITHM}\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in scope.split('/') {
        key = hmac(&key, part.as_bytes()).finalize().into_bytes().to_vec();
    }
    hmac(&key, to_sign.as_bytes())
}

/// Check the signature of a request whose `Authorization` header is `auth`, with `secret`
/// the secret access key of its key id, at `now` (seconds since the epoch).
pub fn verify(
    auth: &Authorization<'_>,
    secret: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), SigV4Error> {
    let amz_date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| SigV4Error::Malformed("a signed request needs an X-Amz-Date header".into()))?;
    let signed_at = epoch_seconds(amz_date)
        .ok_or_else(|| SigV4Error::Malformed(format!("X-Amz-Date '{amz_date}' is not of the form YYYYMMDDTHHMMSSZ")))?;
    if (now - signed_at).abs() > MAX_SKEW_SECONDS {
        return Err(SigV4Error::Mismatch(format!(
            "Signature expired: {amz_date} is more than 15 minutes away from the server's time"
        )));
    }
    let mut scope = auth.scope.split('/');
    let (date, service) = (scope.next(), scope.nth(1));
    let (Some(date), Some(service)) = (date, service) else {
        return Err(SigV4Error::Malformed("invalid credential scope".into()));
    };
    if !amz_date.starts_with(date) {
        return Err(SigV4Error::Mismatch(format!("the credential scope's date {date} is not the day of {amz_date}")));
    }
    if service != "states" {
        return Err(SigV4Error::Mismatch(format!(
            "Credential should be scoped to correct service: 'states', not '{service}'"
        )));
    }
    let canonical = canonical_request(method, uri, headers, &auth.signed_headers, body);
    let given = unhex(auth.signature).ok_or_else(|| SigV4Error::Mismatch("the signature is not hexadecimal".into()))?;
    signer(secret, auth.scope, amz_date, &canonical).verify_slice(&given).map_err(|_| {
        SigV4Error::Mismatch(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."
                .into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented example of a signed request (the IAM ListUsers GET of the SigV4
    /// guide's walkthrough): its signing key, canonical request and signature.
    #[test]
    fn the_documented_example_verifies() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "iam.amazonaws.com".parse().expect("value"));
        headers.insert("content-type", "application/x-www-form-urlencoded; charset=utf-8".parse().expect("value"));
        headers.insert("x-amz-date", "20150830T123600Z".parse().expect("value"));
        let auth = parse(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
        )
        .expect("parses");
        assert_eq!(auth.access_key_id, "AKIDEXAMPLE");
        let uri: Uri = "/?Action=ListUsers&Version=2010-05-08".parse().expect("uri");
        let canonical = canonical_request(&Method::GET, &uri, &headers, &auth.signed_headers, b"");
        assert_eq!(
            hex(&Sha256::digest(canonical.as_bytes())),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        let signature = signer("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", auth.scope, "20150830T123600Z", &canonical)
            .finalize()
            .into_bytes();
        assert_eq!(hex(&signature), auth.signature);
        // The example is scoped to IAM; Step Functions calls must be scoped to `states`.
        let now = epoch_seconds("20150830T123600Z").expect("date");
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let scoped_to_iam = verify(&auth, secret, &Method::GET, &uri, &headers, b"", now);
        assert!(matches!(scoped_to_iam, Err(SigV4Error::Mismatch(m)) if m.contains("'states'")));
    }

    fn signed_request(secret: &str, body: &[u8]) -> (HeaderMap, String) {
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:8083".parse().expect("value"));
        headers.insert("x-amz-date", "20260101T120000Z".parse().expect("value"));
        headers.insert("x-amz-target", "AWSStepFunctions.ListStateMachines".parse().expect("value"));
        let signed = ["host", "x-amz-date", "x-amz-target"];
        let canonical = canonical_request(&Method::POST, &Uri::from_static("/"), &headers, &signed, body);
        let scope = "20260101/us-east-1/states/aws4_request";
        let signature = hex(&signer(secret, scope, "20260101T120000Z", &canonical).finalize().into_bytes());
        (
            headers,
            format!(
                "{ALGORITHM} Credential=AKID/{scope}, SignedHeaders=host;x-amz-date;x-amz-target, Signature={signature}"
            ),
        )
    }

    #[test]
    fn a_changed_body_secret_or_time_fails() {
        let now = epoch_seconds("20260101T120000Z").expect("date");
        let (headers, header) = signed_request("secret", b"{}");
        let auth = parse(&header).expect("parses");
        let check = |secret: &str, body: &[u8], now: i64| {
            verify(&auth, secret, &Method::POST, &Uri::from_static("/"), &headers, body, now)
        };
        assert_eq!(check("secret", b"{}", now), Ok(()));
        assert_eq!(check("secret", b"{}", now + 600), Ok(()), "within the allowed skew");
        assert!(matches!(check("wrong", b"{}", now), Err(SigV4Error::Mismatch(_))));
        assert!(matches!(check("secret", b"{\"maxResults\":1}", now), Err(SigV4Error::Mismatch(_))));
        assert!(matches!(check("secret", b"{}", now + 3600), Err(SigV4Error::Mismatch(m)) if m.contains("expired")));
        assert!(matches!(parse("AWS4-HMAC-SHA256 Credential=x"), Err(SigV4Error::Malformed(_))));
    }
}
