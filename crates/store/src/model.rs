//! Records kept by the stores.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum MachineKind {
    #[default]
    Express,
    Standard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum LogLevel {
    #[default]
    Off,
    All,
    Error,
    Fatal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Logging {
    pub level: LogLevel,
    pub include_execution_data: bool,
}

/// An immutable definition with its configuration; executions pin one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub revision_id: String,
    pub state_machine_arn: String,
    pub definition: String,
    pub kind: MachineKind,
    pub logging: Logging,
    pub tracing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub number: u32,
    pub arn: String,
    pub revision_id: String,
    pub description: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    pub name: String,
    pub arn: String,
    pub description: String,
    /// (version number, weight in percent); weights add up to 100.
    pub routing: Vec<(u32, u32)>,
    pub created_ms: i64,
    /// When its description or routing last changed (records from before it: 0).
    #[serde(default)]
    pub updated_ms: i64,
}

/// A change to a state machine's metadata: its tags and aliases. Its definition and
/// configuration change through [`StateMachineUpdate`], as a new revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataChange {
    /// Add or overwrite tags.
    Tag(BTreeMap<String, String>),
    /// Remove tags by key (absent keys are no error).
    Untag(Vec<String>),
    /// Change an alias's description and/or routing (routes name existing versions).
    UpdateAlias {
        name: String,
        description: Option<String>,
        routing: Option<Vec<(u32, u32)>>,
        now_ms: i64,
    },
    DeleteAlias(String),
    /// Delete a version: refused (`Conflict`) while an alias routes to it; a version that
    /// does not exist is no error, as on AWS.
    DeleteVersion(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateMachineRecord {
    pub name: String,
    pub arn: String,
    pub current: Revision,
    pub tags: BTreeMap<String, String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub versions: Vec<Version>,
    pub aliases: Vec<Alias>,
    /// The highest version number ever published: numbers of deleted versions are not
    /// reused. Records written before versions could be deleted lack it (0).
    #[serde(default)]
    pub last_version: u32,
}

impl StateMachineRecord {
    /// Whether creating `new` again is the idempotent repeat of this machine's creation.
    pub fn same_settings(&self, new: &NewStateMachine) -> bool {
        self.current.definition == new.definition
            && self.current.kind == new.kind
            && self.current.logging == new.logging
    }

    /// Publish the current revision as a version (or return the version that already holds it);
    /// with `expect_revision`, only if that is still the current revision.
    pub fn publish_version(
        &mut self,
        partition: &crate::arn::Partition,
        expect_revision: Option<&str>,
        description: &str,
        now_ms: i64,
    ) -> Result<Version, crate::StoreError> {
        if let Some(expected) = expect_revision {
            if expected != self.current.revision_id {
                return Err(crate::StoreError::Conflict(format!(
                    "the current revision of '{}' is {}, not {expected}",
                    self.name, self.current.revision_id
                )));
            }
        }
        if let Some(v) = self.versions.iter().find(|v| v.revision_id == self.current.revision_id) {
            return Ok(v.clone());
        }
        let number = self.versions.last().map_or(0, |v| v.number).max(self.last_version) + 1;
        self.last_version = number;
        let v = Version {
            number,
            arn: partition.version(&self.name, number),
            revision_id: self.current.revision_id.clone(),
            description: description.to_string(),
            created_ms: now_ms,
        };
        self.versions.push(v.clone());
        Ok(v)
    }

    fn check_routes(&self, routing: &[(u32, u32)]) -> Result<(), crate::StoreError> {
        for (n, _) in routing {
            if !self.versions.iter().any(|v| v.number == *n) {
                return Err(crate::StoreError::NotFound { what: format!("version {n} of '{}'", self.name) });
            }
        }
        Ok(())
    }

    /// Apply a metadata change.
    pub fn apply(&mut self, change: &MetadataChange) -> Result<(), crate::StoreError> {
        match change {
            MetadataChange::Tag(tags) => self.tags.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone()))),
            MetadataChange::Untag(keys) => self.tags.retain(|k, _| !keys.contains(k)),
            MetadataChange::UpdateAlias { name, description, routing, now_ms } => {
                if let Some(r) = routing {
                    self.check_routes(r)?;
                }
                let alias = self
                    .aliases
                    .iter_mut()
                    .find(|a| a.name == *name)
                    .ok_or_else(|| crate::StoreError::NotFound { what: format!("alias '{name}'") })?;
                if let Some(d) = description {
                    alias.description = d.clone();
                }
                if let Some(r) = routing {
                    alias.routing = r.clone();
                }
                alias.updated_ms = *now_ms;
            }
            MetadataChange::DeleteAlias(name) => {
                let before = self.aliases.len();
                self.aliases.retain(|a| a.name != *name);
                if self.aliases.len() == before {
                    return Err(crate::StoreError::NotFound { what: format!("alias '{name}'") });
                }
            }
            MetadataChange::DeleteVersion(n) => {
                if let Some(a) = self.aliases.iter().find(|a| a.routing.iter().any(|(v, _)| v == n)) {
                    return Err(crate::StoreError::Conflict(format!(
                        "version {n} of '{}' cannot be deleted: alias '{}' routes to it",
                        self.name, a.name
                    )));
                }
                self.versions.retain(|v| v.number != *n);
            }
        }
        Ok(())
    }

    /// Add an alias whose routes name existing versions.
    pub fn add_alias(&mut self, alias: Alias) -> Result<Alias, crate::StoreError> {
        self.check_routes(&alias.routing)?;
        if self.aliases.iter().any(|a| a.name == alias.name) {
            return Err(crate::StoreError::AlreadyExists { what: format!("alias '{}'", alias.name) });
        }
        self.aliases.push(alias.clone());
        Ok(alias)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStateMachine {
    pub name: String,
    pub arn: String,
    pub definition: String,
    pub kind: MachineKind,
    pub logging: Logging,
    pub tracing: bool,
    pub tags: BTreeMap<String, String>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StateMachineUpdate {
    pub definition: Option<String>,
    pub logging: Option<Logging>,
    pub tracing: Option<bool>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl ExecutionStatus {
    /// The name AWS gives the status (`SUCCEEDED`, `TIMED_OUT`…).
    pub fn as_str(&self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    pub execution_arn: String,
    pub name: String,
    /// The ARN the caller named (state machine, version or alias).
    pub state_machine_arn: String,
    pub revision_id: String,
    pub input: String,
    /// SHA-256 of the input, for the dedupe check.
    pub input_hash: String,
    pub status: ExecutionStatus,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finished {
    pub status: ExecutionStatus,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub stop_ms: i64,
}

/// Hex SHA-256 of an execution input, used to tell a retried start from a conflicting one.
pub fn input_hash(input: &str) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(input.as_bytes()))
}

/// Lowercase hexadecimal (per call on every start: no formatting machinery).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn input_hashes_are_lowercase_sha256_hex() {
        assert_eq!(super::input_hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
    }
}
