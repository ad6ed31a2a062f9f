//! ARNs in AWS's format, so users recognise them and tools that parse them keep working.

/// Where ARNs say they live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub region: String,
    pub account: String,
}

impl Default for Partition {
    fn default() -> Self {
        Partition { region: "us-east-1".into(), account: "000000000000".into() }
    }
}

/// What a state machine ARN points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Qualifier {
    Latest,
    Version(u32),
    Alias(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateMachineRef {
    pub name: String,
    pub qualifier: Qualifier,
}

impl Partition {
    pub fn state_machine(&self, name: &str) -> String {
        format!("arn:aws:states:{}:{}:stateMachine:{name}", self.region, self.account)
    }

    pub fn version(&self, name: &str, number: u32) -> String {
        format!("{}:{number}", self.state_machine(name))
    }

    pub fn alias(&self, name: &str, alias: &str) -> String {
        format!("{}:{alias}", self.state_machine(name))
    }

    /// Express execution ARNs carry a unique suffix, as AWS's do.
    pub fn express_execution(&self, state_machine: &str, name: &str, unique: &str) -> String {
        format!("arn:aws:states:{}:{}:express:{state_machine}:{name}:{unique}", self.region, self.account)
    }
}

/// Parse `arn:aws:states:REGION:ACCOUNT:stateMachine:NAME[:VERSION|:ALIAS]`.
pub fn parse_state_machine(arn: &str) -> Option<StateMachineRef> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() < 7 || parts[0] != "arn" || parts[2] != "states" || parts[5] != "stateMachine" {
        return None;
    }
    let name = parts[6];
    if !valid_name(name) {
        return None;
    }
    let qualifier = match parts.get(7) {
        None => Qualifier::Latest,
        Some(q) if parts.len() == 8 => match q.parse::<u32>() {
            Ok(n) => Qualifier::Version(n),
            Err(_) if valid_name(q) => Qualifier::Alias(q.to_string()),
            Err(_) => return None,
        },
        Some(_) => return None,
    };
    Some(StateMachineRef { name: name.to_string(), qualifier })
}

/// The state machine name inside an express execution ARN.
pub fn execution_state_machine(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.split(':').collect();
    (parts.len() >= 8 && parts[0] == "arn" && parts[5] == "express").then(|| parts[6])
}

/// AWS's rule for state machine, execution and alias names: 1–80 characters, no whitespace,
/// brackets, wildcards, punctuation that breaks ARNs, or control characters.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 80
        && name.chars().all(|c| !c.is_whitespace() && !c.is_control() && !"<>{}[]?*\"#%\\^|~`$&,;:/".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let p = Partition::default();
        let arn = p.state_machine("orders");
        assert_eq!(arn, "arn:aws:states:us-east-1:000000000000:stateMachine:orders");
        assert_eq!(parse_state_machine(&arn).map(|r| r.qualifier), Some(Qualifier::Latest));
        assert_eq!(parse_state_machine(&p.version("orders", 3)).map(|r| r.qualifier), Some(Qualifier::Version(3)));
        assert_eq!(
            parse_state_machine(&p.alias("orders", "prod")).map(|r| r.qualifier),
            Some(Qualifier::Alias("prod".into()))
        );
        assert_eq!(parse_state_machine("arn:aws:states:r:a:activity:x"), None);
        assert_eq!(parse_state_machine("nonsense"), None);
        let e = p.express_execution("orders", "run-1", "abc");
        assert_eq!(execution_state_machine(&e), Some("orders"));
        assert!(!valid_name("has space") && !valid_name("") && valid_name("ok-name_1"));
    }
}
