//! Diagnostics: every problem with a spec names its file, line, column, operation and field,
//! quotes the line, and says what was expected.

use crate::source::{SourceFile, Span};
use miette::{Diagnostic, NamedSource, SourceSpan};
use std::fmt;

/// Lines longer than this (in bytes) are not quoted in diagnostics.
const MAX_SNIPPET_LINE: usize = 1000;

/// One problem in one spec file.
#[derive(Debug, Clone, thiserror::Error, Diagnostic)]
#[error("{location}: {context}{message}")]
pub struct SpecError {
    /// `file:line:column`.
    pub location: String,
    /// `operation `X`, field `y`: ` (empty when not known).
    pub context: String,
    /// What is wrong.
    pub message: String,
    /// The file, for rendering the snippet.
    #[source_code]
    pub src: NamedSource<std::sync::Arc<str>>,
    /// The offending text.
    #[label("{label}")]
    pub span: SourceSpan,
    /// Short text under the marker.
    pub label: String,
    /// What was expected, or how to fix it.
    #[help]
    pub help: Option<String>,
}

impl SpecError {
    /// A problem at `span` of `file`.
    pub fn new(
        file: &SourceFile,
        span: Span,
        operation: Option<&str>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        let mut context = String::new();
        if let Some(op) = operation {
            context.push_str(&format!("operation `{op}`"));
        }
        if let Some(field) = field.filter(|f| !f.is_empty()) {
            if !context.is_empty() {
                context.push_str(", ");
            }
            context.push_str(&format!("field `{field}`"));
        }
        if !context.is_empty() {
            context.push_str(": ");
        }
        // A snippet of a very long line is no help to read, and the renderer cannot pad that
        // far: such a problem is shown by its location alone.
        let text = &*file.text;
        let line_start = text[..span.offset.min(text.len())].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        let line_len = text[line_start..].find(['\n', '\r']).unwrap_or(text.len() - line_start);
        let (src, span_at) = if line_len > MAX_SNIPPET_LINE {
            (
                NamedSource::new(file.name.clone(), std::sync::Arc::<str>::from("")),
                SourceSpan::new(0.into(), 0),
            )
        } else {
            (
                NamedSource::new(file.name.clone(), file.text.clone()),
                SourceSpan::new(span.offset.into(), span.len),
            )
        };
        SpecError {
            location: format!("{}:{}:{}", file.name, span.line, span.column),
            context,
            message: message.into(),
            src,
            span: span_at,
            label: "here".to_owned(),
            help: None,
        }
    }

    /// Adds what was expected.
    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Replaces the text under the marker.
    #[must_use]
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }
}

/// Every problem found in a spec: the generator reports all of a file's problems at once.
#[derive(Debug, Clone, Default, thiserror::Error, Diagnostic)]
#[error("the spec has {} problem{}", .errors.len(), if .errors.len() == 1 { "" } else { "s" })]
pub struct SpecErrors {
    /// The problems, in file order.
    #[related]
    pub errors: Vec<SpecError>,
}

impl SpecErrors {
    /// Whether nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Adds one problem.
    pub fn push(&mut self, e: SpecError) {
        self.errors.push(e);
    }

    /// Renders every problem as plain text (no colour), as `cargo xtask codegen` prints them
    /// when the terminal has no colour, and as the diagnostic snapshots keep them.
    pub fn render_plain(&self) -> String {
        let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false);
        let mut out = String::new();
        for e in &self.errors {
            let _ = handler.render_report(&mut out, e);
        }
        out
    }
}

/// A problem reading the spec folder itself (not a spec file's content).
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum LoadError {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// What could not be read.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Problems in the spec files.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Spec(#[from] SpecErrors),
    /// The spec folder holds something it may not (or lacks something it must hold).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Folder(#[from] FolderErrors),
}

/// One problem with the spec folder itself: a missing or odd entry.
#[derive(Debug, Clone, thiserror::Error, Diagnostic)]
#[error("{path}: {message}")]
pub struct FolderError {
    /// The entry, as it is named on disk (bytes that are not UTF-8 shown as `\xNN`).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    #[help]
    pub help: Option<String>,
}

/// Every problem found in a spec folder's entries.
#[derive(Debug, Clone, Default, thiserror::Error, Diagnostic)]
#[error("the spec folder has {} problem{}", .errors.len(), if .errors.len() == 1 { "" } else { "s" })]
pub struct FolderErrors {
    /// The problems, in name order.
    #[related]
    pub errors: Vec<FolderError>,
}

impl fmt::Display for crate::source::Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}
