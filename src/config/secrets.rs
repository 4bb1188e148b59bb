//! An app's secrets, and the one check every secret passes, whether it comes from the
//! environment's `AUTH_SECRET` slots or from the variables a config file names.

use std::fmt;

use authrelay_client::{Secret, SecretError};
use subtle::ConstantTimeEq;

/// The problem of a secret with whitespace or a control character at either end: most
/// often a newline from a file or a copy, which would make the relay's secret differ from
/// the previews' and every state fail.
pub(super) const EDGES_PROBLEM: &str =
    "has whitespace or a control character at its start or end (a trailing newline?); remove it";

/// The secrets, newest first, with the name of the variable each came from.
#[derive(Clone)]
pub struct Secrets {
    secrets: Vec<Secret>,
    names: Vec<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl Secrets {
    /// The secrets, newest first.
    pub fn secrets(&self) -> &[Secret] {
        &self.secrets
    }

    /// The variable name of the secret at `index`.
    pub fn name(&self, index: usize) -> &str {
        self.names.get(index).map_or("?", String::as_str)
    }

    /// The variable names, newest first.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether any secret here equals any in `other` (compared in constant time).
    pub fn shares_any_with(&self, other: &Secrets) -> bool {
        self.secrets
            .iter()
            .any(|a| other.secrets.iter().any(|b| same(a, b.expose_secret())))
    }

    /// The secret that new states are made with: the newest.
    pub fn signing(&self) -> &Secret {
        // Both parsers refuse a configuration without a secret, so this is never empty.
        &self.secrets[0]
    }
}

/// Whether `secret` is `value`, compared in constant time: both are secrets.
fn same(secret: &Secret, value: &str) -> bool {
    bool::from(secret.expose_secret().as_bytes().ct_eq(value.as_bytes()))
}

/// Secrets checked so far, newest first, each with the name of its variable.
pub(super) struct Gathered<N> {
    secrets: Vec<Secret>,
    names: Vec<N>,
}

impl<N> Default for Gathered<N> {
    fn default() -> Self {
        Self {
            secrets: Vec::new(),
            names: Vec::new(),
        }
    }
}

/// Why [`Gathered::push`] refuses a secret.
pub(super) enum Refused<N> {
    /// The variable of this name holds the same secret.
    SameAs(N),
    /// It has whitespace or a control character at its start or end ([`EDGES_PROBLEM`]).
    Edges,
    /// [`Secret::new`] refuses it.
    Secret(SecretError),
}

impl<N: Clone> Gathered<N> {
    /// Adds the secret `value` of the variable `name` as older than those before it.
    pub(super) fn push(&mut self, name: N, value: &str) -> Result<(), Refused<N>> {
        if let Some(i) = self.secrets.iter().position(|s| same(s, value)) {
            return Err(Refused::SameAs(self.names[i].clone()));
        }
        let bad = |c: char| c.is_whitespace() || c.is_control();
        if value.starts_with(bad) || value.ends_with(bad) {
            return Err(Refused::Edges);
        }
        self.secrets
            .push(Secret::new(value).map_err(Refused::Secret)?);
        self.names.push(name);
        Ok(())
    }
}

impl<N: Into<String>> From<Gathered<N>> for Secrets {
    fn from(g: Gathered<N>) -> Self {
        Self {
            secrets: g.secrets,
            names: g.names.into_iter().map(Into::into).collect(),
        }
    }
}
