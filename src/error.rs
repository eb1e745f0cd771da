//! Typed errors. `InputError` is everything the planner can fix in the input (exit code 2);
//! `Error` adds failures that are not the input's fault (exit code 1).

use std::fmt;
use std::path::PathBuf;

/// Bad input: names the file, and in the message the feature, the property and what was
/// expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    pub message: String,
}

impl InputError {
    pub fn new(file: impl fmt::Display, message: impl Into<String>) -> InputError {
        InputError {
            file: file.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

impl std::error::Error for InputError {}

/// Any failure of a quartier run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("the solver failed: {0}")]
    Solver(String),
    /// The time limit of `[solver] time_limit_s` ended the solve before it had a plan.
    #[error("the solver failed: {0}")]
    TimeLimit(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The process exit code for this failure: 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) => 2,
            Error::Solver(_) | Error::TimeLimit(_) | Error::Io { .. } => 1,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Input that contradicts itself but still allows a meaningful plan: said, not silently
/// absorbed. Names the file, the feature and the place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub file: String,
    pub message: String,
}

impl Warning {
    pub fn new(file: impl fmt::Display, message: impl Into<String>) -> Warning {
        Warning {
            file: file.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}
