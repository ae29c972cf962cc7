//! What can go wrong in the commerce core, without HTTP: the HTTP layer
//! maps each variant to a status and a stable code.

use std::collections::BTreeMap;

/// Field path -> message, for validation failures.
pub type FieldErrors = BTreeMap<String, String>;

/// A commerce failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing does not exist for this merchant (or at all).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The input breaks a rule; `errors` says which fields.
    #[error("{message}")]
    Validation {
        /// Every field error in one line, `field: message; …`.
        message: String,
        /// Message by field path, e.g. `lines[0].quantity`.
        errors: FieldErrors,
    },
    /// The request cannot be read as what it claims to be (a forged or
    /// malformed callback).
    #[error("{message}")]
    BadRequest {
        /// Stable snake_case code, e.g. `invalid_signature`.
        code: &'static str,
        /// What is wrong with it, for people.
        message: String,
    },
    /// The request conflicts with the current state (duplicate sku, …).
    #[error("{message}")]
    Conflict {
        /// Stable snake_case code, e.g. `cart_not_open`.
        code: &'static str,
        /// What conflicts, for people.
        message: String,
    },
    /// The request is well-formed but cannot be carried out.
    #[error("{message}")]
    Unprocessable {
        /// Stable snake_case code, e.g. `invalid_discount_code`.
        code: &'static str,
        /// Why it cannot be done, for people.
        message: String,
    },
    /// Some lines cannot be had in the quantity asked; `lines` names them
    /// (line id -> what is available).
    #[error("{message}")]
    OutOfStock {
        /// The lines short of stock, by title and sku.
        message: String,
        /// `lines.<cart line id>` -> "only N available".
        lines: FieldErrors,
    },
    /// The payment provider declined; the message is the provider's reason.
    #[error("{message}")]
    PaymentDeclined {
        /// The provider's reason.
        message: String,
    },
    /// A bound plugin failed and its binding fails closed; the message
    /// names the plugin and the limit it hit.
    #[error("{message}")]
    PluginFailed {
        /// The plugin, the call and what went wrong.
        message: String,
    },
    /// Anything else: logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// `Result` with the commerce error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// One invalid field.
    pub fn field(field: &str, message: impl Into<String>) -> Error {
        let message = message.into();
        Error::Validation {
            message: format!("{field}: {message}"),
            errors: BTreeMap::from([(field.to_owned(), message)]),
        }
    }
}

impl From<crate::db::Error> for Error {
    fn from(e: crate::db::Error) -> Error {
        Error::Internal(anyhow::Error::new(e).context("database error"))
    }
}

/// Collects field errors while parsing a request, then fails with all of them.
#[derive(Default)]
pub struct Check {
    errors: FieldErrors,
}

impl Check {
    /// Records `result`'s error under `field`, keeping its value.
    pub fn field<T>(
        &mut self,
        field: impl Into<String>,
        result: std::result::Result<T, String>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.entry(field.into()).or_insert(e);
                None
            }
        }
    }

    /// Fails with every recorded error, if any; otherwise gives `value`,
    /// the parsed input (`Some` whenever no field failed).
    pub fn finish_with<T>(self, value: Option<T>) -> Result<T> {
        self.finish()?;
        value.ok_or_else(|| Error::Internal(anyhow::anyhow!("an input passed its checks but was not parsed")))
    }

    /// Fails with every recorded error, if any.
    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() {
            return Ok(());
        }
        let message = self.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; ");
        Err(Error::Validation { message, errors: self.errors })
    }
}
