//! Who may call the API, and what they may do: bearer tokens (static tokens from a file, or
//! JWTs verified against a local JWKS file) and, on the AWS JSON protocol, access keys whose
//! SigV4 signatures are verified (from an access keys file) name a principal; policies in the IAM manner
//! allow a principal actions (`states:StartExecution`, `states:Describe*`) on resources (ARN
//! patterns such as `arn:aws:states:*:*:stateMachine:orders-*`). Anything no policy allows
//! is denied. Without tokens, JWKS or access keys configured, authentication is off and every
//! call is allowed (the embedded default, on loopback).
//!
//! [`Auth::interceptor`] authenticates each call and leaves its [`Principal`] in the request's
//! extensions; each handler then asks [`authorize`] for its action and resource.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tonic::{Request, Status};

/// Authentication and authorization settings (`[auth]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// A TOML file of static tokens: `[[tokens]] principal = "ci"`, `sha256 = "<hex>"` (the
    /// token's SHA-256, so the file holds no secret) or `token = "…"`.
    pub tokens_file: Option<PathBuf>,
    /// A JWKS file (RFC 7517) whose keys verify JWT bearer tokens; the principal is `sub`.
    pub jwks_file: Option<PathBuf>,
    /// A TOML file of AWS access keys whose SigV4 signatures the AWS JSON protocol verifies:
    /// `[[access_keys]] principal = "ci"`, `access_key_id = "…"`, `secret_access_key = "…"`.
    pub access_keys_file: Option<PathBuf>,
    /// Required `iss` and `aud` of JWTs, when set.
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    pub policies: Vec<Policy>,
}

/// What a principal (a pattern: `ci`, `team-*`, `*`) may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub principal: String,
    /// Action patterns: `states:StartExecution`, `states:Describe*`, `states:*`.
    pub actions: Vec<String>,
    /// ARN patterns; `*` is every resource.
    #[serde(default = "everything")]
    pub resources: Vec<String>,
}

fn everything() -> Vec<String> {
    vec!["*".into()]
}

/// The caller, as its token named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal(pub String);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid {path}: {why}")]
    Invalid { path: PathBuf, why: String },
    #[error("auth.policies is set but no tokens_file, jwks_file or access_keys_file says who callers are")]
    NoAuthentication,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    tokens: Vec<TokenEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    principal: String,
    token: Option<String>,
    sha256: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessKeysFile {
    access_keys: Vec<AccessKeyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessKeyEntry {
    principal: String,
    access_key_id: String,
    secret_access_key: String,
}

/// Verifies callers and decides what they may do.
pub struct Auth {
    /// Access key id → (secret access key, principal).
    access_keys: HashMap<String, (String, String)>,
    /// SHA-256 of each static token (hex) → principal.
    tokens: HashMap<String, String>,
    jwks: Option<jsonwebtoken::jwk::JwkSet>,
    validation: Option<jsonwebtoken::Validation>,
    policies: Vec<Policy>,
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn read(path: &Path) -> Result<String, AuthError> {
    std::fs::read_to_string(path).map_err(|source| AuthError::Read { path: path.to_path_buf(), source })
}

/// `*` matches any run of characters (ARNs and action names have no other wildcard).
pub fn matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

impl Auth {
    /// `None` when authentication is off (no tokens file and no JWKS).
    pub fn from_config(cfg: &AuthConfig) -> Result<Option<Arc<Auth>>, AuthError> {
        if cfg.tokens_file.is_none() && cfg.jwks_file.is_none() && cfg.access_keys_file.is_none() {
            return if cfg.policies.is_empty() { Ok(None) } else { Err(AuthError::NoAuthentication) };
        }
        let mut tokens = HashMap::new();
        if let Some(path) = &cfg.tokens_file {
            let invalid = |why: String| AuthError::Invalid { path: path.clone(), why };
            let file: TokensFile = toml::from_str(&read(path)?).map_err(|e| invalid(e.to_string()))?;
            for t in file.tokens {
                let digest = match (t.token, t.sha256) {
                    (Some(token), None) => sha256_hex(&token),
                    (None, Some(h)) if h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()) => h.to_lowercase(),
                    _ => {
                        return Err(invalid(format!("token of '{}': give `token` or a 64-digit `sha256`", t.principal)))
                    }
                };
                tokens.insert(digest, t.principal);
            }
        }
        let mut access_keys = HashMap::new();
        if let Some(path) = &cfg.access_keys_file {
            let invalid = |why: String| AuthError::Invalid { path: path.clone(), why };
            let file: AccessKeysFile = toml::from_str(&read(path)?).map_err(|e| invalid(e.to_string()))?;
            for k in file.access_keys {
                if k.access_key_id.is_empty() || k.secret_access_key.is_empty() {
                    return Err(invalid(format!("access key of '{}': id and secret must not be empty", k.principal)));
                }
                if access_keys.insert(k.access_key_id.clone(), (k.secret_access_key, k.principal)).is_some() {
                    return Err(invalid(format!("access key id '{}' is given twice", k.access_key_id)));
                }
            }
        }
        let (jwks, validation) = match &cfg.jwks_file {
            None => (None, None),
            Some(path) => {
                let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&read(path)?)
                    .map_err(|e| AuthError::Invalid { path: path.clone(), why: e.to_string() })?;
                // The algorithm comes from the key, never from the token's header.
                let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
                v.algorithms.clear();
                v.validate_aud = cfg.jwt_audience.is_some();
                if let Some(aud) = &cfg.jwt_audience {
                    v.set_audience(&[aud]);
                }
                if let Some(iss) = &cfg.jwt_issuer {
                    v.set_issuer(&[iss]);
                }
                v.set_required_spec_claims(&["exp", "sub"]);
                (Some(set), Some(v))
            }
        };
        Ok(Some(Arc::new(Auth { access_keys, tokens, jwks, validation, policies: cfg.policies.clone() })))
    }

    /// Who presents `bearer` (the text after `Bearer `), if anyone.
    pub fn authenticate(&self, bearer: &str) -> Result<Principal, Status> {
        if let Some(p) = self.tokens.get(&sha256_hex(bearer)) {
            return Ok(Principal(p.clone()));
        }
        let (Some(jwks), Some(base)) = (&self.jwks, &self.validation) else {
            return Err(Status::unauthenticated("the bearer token is not known"));
        };
        if bearer.matches('.').count() != 2 {
            return Err(Status::unauthenticated("the bearer token is not known"));
        }
        let header =
            jsonwebtoken::decode_header(bearer).map_err(|e| Status::unauthenticated(format!("invalid JWT: {e}")))?;
        let key = match &header.kid {
            Some(kid) => jwks.find(kid),
            None => jwks.keys.first(),
        }
        .ok_or_else(|| Status::unauthenticated("the JWT's key is not in the JWKS"))?;
        let alg = key
            .common
            .key_algorithm
            .and_then(|a| a.to_string().parse::<jsonwebtoken::Algorithm>().ok())
            .unwrap_or(header.alg);
        if alg != header.alg {
            return Err(Status::unauthenticated("the JWT's algorithm does not match its key"));
        }
        let decoding = jsonwebtoken::DecodingKey::from_jwk(key)
            .map_err(|e| Status::unauthenticated(format!("unusable JWKS key: {e}")))?;
        let mut validation = base.clone();
        validation.algorithms = vec![alg];
        #[derive(Deserialize)]
        struct Claims {
            sub: String,
        }
        let data = jsonwebtoken::decode::<Claims>(bearer, &decoding, &validation)
            .map_err(|e| Status::unauthenticated(format!("JWT refused: {e}")))?;
        Ok(Principal(data.claims.sub))
    }

    /// The secret access key of an access key id, and whose key it is.
    pub fn access_key(&self, access_key_id: &str) -> Option<(&str, Principal)> {
        self.access_keys.get(access_key_id).map(|(secret, p)| (secret.as_str(), Principal(p.clone())))
    }

    /// Whether a policy allows `principal` `action` on `resource`.
    pub fn allows(&self, principal: &Principal, action: &str, resource: &str) -> bool {
        self.policies.iter().any(|p| {
            matches(&p.principal, &principal.0)
                && p.actions.iter().any(|a| matches(a, action))
                && p.resources.iter().any(|r| matches(r, resource))
        })
    }

    /// A tonic interceptor: every call needs a known bearer token; its principal travels on
    /// in the request's extensions.
    pub fn interceptor(auth: Option<Arc<Auth>>) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
        move |mut req: Request<()>| {
            let Some(auth) = &auth else { return Ok(req) };
            let header = req
                .metadata()
                .get("authorization")
                .ok_or_else(|| Status::unauthenticated("this server needs a bearer token (authorization: Bearer …)"))?;
            let bearer = header
                .to_str()
                .ok()
                .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
                .ok_or_else(|| Status::unauthenticated("the authorization header must be `Bearer <token>`"))?;
            let principal = auth.authenticate(bearer.trim())?;
            req.extensions_mut().insert(principal);
            Ok(req)
        }
    }
}

/// Allow the call, or PERMISSION_DENIED naming what was asked. Off (`auth` is `None`), every
/// call is allowed.
pub fn authorize<T>(auth: &Option<Arc<Auth>>, req: &Request<T>, action: &str, resource: &str) -> Result<(), Status> {
    let call = crate::Call { principal: req.extensions().get::<Principal>().cloned(), ..Default::default() };
    Ok(crate::ops::authorize(auth.as_deref(), &call, action, resource)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches("*", "anything"));
        assert!(matches("states:Describe*", "states:DescribeExecution"));
        assert!(!matches("states:Describe*", "states:StartExecution"));
        let arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:orders-eu";
        assert!(matches("arn:aws:states:*:*:stateMachine:orders-*", arn));
        assert!(!matches("arn:aws:states:*:*:stateMachine:billing-*", arn));
        assert!(matches("arn:*:orders-eu", arn));
        assert!(!matches("a*a", "a"));
    }

    #[test]
    fn policies_deny_what_they_do_not_allow() {
        let auth = Auth {
            access_keys: HashMap::new(),
            tokens: HashMap::new(),
            jwks: None,
            validation: None,
            policies: vec![Policy {
                principal: "ci".into(),
                actions: vec!["states:StartExecution".into(), "states:Describe*".into()],
                resources: vec!["arn:aws:states:*:*:stateMachine:orders-*".into()],
            }],
        };
        let ci = Principal("ci".into());
        let orders = "arn:aws:states:eu-west-1:1:stateMachine:orders-eu";
        assert!(auth.allows(&ci, "states:StartExecution", orders));
        assert!(auth.allows(&ci, "states:DescribeStateMachine", orders));
        assert!(!auth.allows(&ci, "states:DeleteStateMachine", orders));
        assert!(!auth.allows(&ci, "states:StartExecution", "arn:aws:states:eu-west-1:1:stateMachine:billing"));
        assert!(!auth.allows(&Principal("other".into()), "states:StartExecution", orders));
    }
}
