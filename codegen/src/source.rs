//! Spec source files and where each YAML node sits in them.
//!
//! serde gives no positions for values it accepted, so validation errors find theirs here: one
//! pass over the YAML events records the position of every key and value by its path
//! (`parameters[0].type`). The index is built only for files that have semantic errors.

use std::collections::HashMap;
use std::sync::Arc;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A spec file's name (as shown to the maintainer) and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the workspace root, e.g. `spec/onsmqtt/service.yaml`.
    pub name: String,
    /// The whole text.
    pub text: Arc<str>,
}

/// A place in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Byte offset.
    pub offset: usize,
    /// Length in bytes (at least 1 unless the file is empty).
    pub len: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
}

impl SourceFile {
    /// The span of the byte offset `offset`, `len` bytes long, clamped to the file.
    pub fn span_at(&self, offset: usize, len: usize) -> Span {
        let text = &*self.text;
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;
        let rest_of_line = text[offset..].find('\n').unwrap_or(text.len() - offset);
        let len = len.min(rest_of_line).max(usize::from(offset < text.len()));
        Span { offset, len, line, column }
    }

    /// The span of 1-based `line` and `column`, or the end of the file past it.
    pub fn span_at_line_col(&self, line: usize, column: usize, len: usize) -> Span {
        let mut offset = 0;
        for (i, l) in self.text.split_inclusive('\n').enumerate() {
            if i + 1 == line {
                let col_bytes: usize = l.chars().take(column.saturating_sub(1)).map(char::len_utf8).sum();
                return self.span_at(offset + col_bytes, len);
            }
            offset += l.len();
        }
        self.span_at(self.text.len(), len)
    }
}

/// Positions of the keys and values of one YAML document, by path.
#[derive(Debug, Default)]
pub struct PositionIndex {
    values: HashMap<String, Span>,
    keys: HashMap<String, Span>,
}

impl PositionIndex {
    /// Indexes `file`. A file that does not parse yields an empty index (its syntax error is
    /// reported elsewhere).
    pub fn build(file: &SourceFile) -> Self {
        let mut builder = IndexBuilder {
            file,
            char_to_byte: CharToByte::new(&file.text),
            stack: Vec::new(),
            index: PositionIndex::default(),
        };
        let _ = Parser::new_from_str(&file.text).load(&mut builder, false);
        builder.index
    }

    /// Where the value at `path` starts, or failing that its closest indexed ancestor.
    pub fn value(&self, path: &str) -> Option<Span> {
        let mut p = path;
        loop {
            if let Some(s) = self.values.get(p) {
                return Some(*s);
            }
            p = parent(p)?;
        }
    }

    /// Where the key naming `path` is, falling back to its value.
    pub fn key(&self, path: &str) -> Option<Span> {
        self.keys.get(path).copied().or_else(|| self.value(path))
    }
}

fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

enum Frame {
    Map { path: String, pending_key: Option<String> },
    Seq { path: String, next: usize },
}

struct IndexBuilder<'a> {
    file: &'a SourceFile,
    char_to_byte: CharToByte,
    stack: Vec<Frame>,
    index: PositionIndex,
}

impl IndexBuilder<'_> {
    fn span(&self, mark: Marker, len: usize) -> Span {
        self.file.span_at(self.char_to_byte.byte(mark.index()), len)
    }

    /// The path of the node that starts now, or `None` when it is a mapping key.
    fn next_path(&mut self) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                Some(p)
            }
            Some(Frame::Map { path, pending_key }) => {
                pending_key.take().map(|k| if path.is_empty() { k } else { format!("{path}.{k}") })
            }
        }
    }
}

impl MarkedEventReceiver for IndexBuilder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, ..) => match self.next_path() {
                Some(path) => {
                    let span = self.span(mark, value.len().max(1));
                    self.index.values.insert(path, span);
                }
                None => {
                    let span = self.span(mark, value.len().max(1));
                    if let Some(Frame::Map { path, pending_key }) = self.stack.last_mut() {
                        let full = if path.is_empty() { value.clone() } else { format!("{path}.{value}") };
                        self.index.keys.insert(full, span);
                        *pending_key = Some(value);
                    }
                }
            },
            Event::Alias(_) => {
                if self.next_path().is_none()
                    && let Some(Frame::Map { pending_key, .. }) = self.stack.last_mut()
                {
                    *pending_key = Some("<alias>".to_owned());
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                // A complex key gets a throwaway path; such specs fail to deserialize anyway.
                let path = self.next_path().unwrap_or_else(|| "<complex key>".to_owned());
                let span = self.span(mark, 1);
                self.index.values.entry(path.clone()).or_insert(span);
                self.stack.push(if is_map {
                    Frame::Map { path, pending_key: None }
                } else {
                    Frame::Seq { path, next: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

/// Maps yaml-rust2's character offsets to byte offsets.
struct CharToByte {
    /// Byte offset of every char whose offset differs from its index (empty for ASCII text).
    offsets: Option<Vec<usize>>,
    len: usize,
}

impl CharToByte {
    fn new(text: &str) -> Self {
        let offsets = (!text.is_ascii()).then(|| text.char_indices().map(|(b, _)| b).collect());
        CharToByte { offsets, len: text.len() }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.offsets {
            None => char_index.min(self.len),
            Some(v) => v.get(char_index).copied().unwrap_or(self.len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile { name: "t.yaml".into(), text: text.into() }
    }

    #[test]
    fn indexes_nested_keys_and_values() {
        let f = file("name: A\nparameters:\n  - name: ClientId\n    type: strin\n  - name: é\n    type: x\n");
        let idx = PositionIndex::build(&f);
        let s = idx.value("parameters[0].type").unwrap();
        assert_eq!((s.line, s.column, s.len), (4, 11, 5));
        let k = idx.key("parameters[0].type").unwrap();
        assert_eq!((k.line, k.column), (4, 5));
        // non-ASCII before the node: columns are counted in characters
        let s = idx.value("parameters[1].type").unwrap();
        assert_eq!((s.line, s.column), (6, 11));
        assert_eq!(&f.text[s.offset..s.offset + s.len], "x");
        // unknown paths fall back to the nearest ancestor
        assert_eq!(idx.value("parameters[1].nope").unwrap().line, 5);
    }

    #[test]
    fn spans_clamp_to_the_file() {
        let f = file("a: b");
        assert_eq!(f.span_at(100, 5).offset, 4);
        assert_eq!(f.span_at_line_col(9, 9, 1).offset, 4);
        let e = file("");
        assert_eq!(e.span_at(0, 3).len, 0);
    }
}
