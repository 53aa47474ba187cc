//! Spec source files and where each YAML node sits in them.
//!
//! serde gives no positions for values it accepted, so validation errors find theirs here: one
//! pass over the YAML events records the position of every key and value by its path
//! (`parameters[0].type`). The index is built only for files that have semantic errors.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

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
    /// The span of the byte offset `offset`, `len` bytes long, clamped to the file and its line.
    ///
    /// Lines are counted as YAML counts them: LF, CRLF and a lone CR each end a line.
    pub fn span_at(&self, offset: usize, len: usize) -> Span {
        let text = &*self.text;
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text.as_bytes()[..offset];
        let mut line = 1;
        let mut line_start = 0;
        for (i, b) in before.iter().enumerate() {
            let breaks = *b == b'\n' || (*b == b'\r' && text.as_bytes().get(i + 1) != Some(&b'\n'));
            if breaks {
                line += 1;
                line_start = i + 1;
            }
        }
        let column = text[line_start..offset].chars().count() + 1;
        let rest_of_line = text[offset..].find(['\n', '\r']).unwrap_or(text.len() - offset);
        let mut len = len.min(rest_of_line).max(usize::from(offset < text.len()));
        // Whole characters only: a length taken from a decoded scalar may end inside one.
        while !text.is_char_boundary(offset + len) {
            len += 1;
        }
        Span { offset, len, line, column }
    }

    /// The span of 1-based `line` and `column` (in characters), or the end of the file past it.
    pub fn span_at_line_col(&self, line: usize, column: usize, len: usize) -> Span {
        let mut offset = 0;
        for (i, l) in lines(&self.text).enumerate() {
            if i + 1 == line {
                let content = l.trim_end_matches(['\n', '\r']);
                let col_bytes: usize =
                    content.chars().take(column.saturating_sub(1)).map(char::len_utf8).sum();
                return self.span_at(offset + col_bytes, len);
            }
            offset += l.len();
        }
        self.span_at(self.text.len(), len)
    }
}

/// The lines of `text`, each with its line break (LF, CRLF or a lone CR), as YAML counts them.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = match rest.find(['\n', '\r']) {
            None => rest.len(),
            Some(i) if rest[i..].starts_with("\r\n") => i + 2,
            Some(i) => i + 1,
        };
        let (line, tail) = rest.split_at(end);
        rest = tail;
        Some(line)
    })
}

/// Positions of the keys and values of one YAML document, by path.
#[derive(Debug, Default)]
pub struct PositionIndex {
    values: HashMap<String, Span>,
    keys: HashMap<String, Span>,
    /// Keys that repeat one earlier in the same mapping: (path, position of the repetition).
    duplicates: Vec<(String, Span)>,
    /// The first alias (`*name`).
    first_alias: Option<Span>,
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

    /// Where the key `path` appears a second time in its mapping, if it does.
    pub fn duplicate_key(&self, path: &str) -> Option<Span> {
        self.duplicates.iter().find(|(p, _)| p == path).map(|(_, s)| *s)
    }

    /// Where the first alias (`*name`) of the document is.
    pub fn first_alias(&self) -> Option<Span> {
        self.first_alias
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
    /// `positioned` is false for a block mapping until its first key gives it a position.
    Map {
        path: String,
        pending_key: Option<String>,
        positioned: bool,
    },
    Seq {
        path: String,
        next: usize,
    },
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
            Some(Frame::Map { path, pending_key, .. }) => {
                pending_key.take().map(|k| if path.is_empty() { k } else { format!("{path}.{k}") })
            }
        }
    }
}

impl MarkedEventReceiver for IndexBuilder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, style, ..) => match self.next_path() {
                Some(path) => {
                    let mut span = self.span(mark, value.len().max(1));
                    // An empty value (`key:` and nothing) is marked where the next token
                    // starts; its key is the better place.
                    if value.is_empty()
                        && style == TScalarStyle::Plain
                        && let Some(key) = self.index.keys.get(&path)
                    {
                        span = *key;
                    }
                    self.index.values.insert(path, span);
                }
                None => {
                    let span = self.span(mark, value.len().max(1));
                    if let Some(Frame::Map { path, pending_key, positioned }) = self.stack.last_mut() {
                        let full = if path.is_empty() { value.clone() } else { format!("{path}.{value}") };
                        if !*positioned {
                            // A block mapping starts at its first key.
                            self.index.values.insert(path.clone(), span);
                            *positioned = true;
                        }
                        match self.index.keys.entry(full) {
                            Entry::Occupied(e) => self.index.duplicates.push((e.key().clone(), span)),
                            Entry::Vacant(e) => {
                                e.insert(span);
                            }
                        }
                        *pending_key = Some(value);
                    }
                }
            },
            Event::Alias(_) => {
                if self.index.first_alias.is_none() {
                    let at = self.char_to_byte.byte(mark.index());
                    let len = self.file.text.get(at..).map_or(1, |rest| {
                        rest.find(|c: char| c.is_whitespace() || ",]}".contains(c)).unwrap_or(rest.len())
                    });
                    self.index.first_alias = Some(self.file.span_at(at, len));
                }
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
                let at = self.char_to_byte.byte(mark.index());
                let text = &*self.file.text;
                let flow = text[at.min(text.len())..].starts_with(['{', '[']);
                // yaml-rust2 marks a block sequence at its first item; the `-` is before it.
                let at = if flow || is_map {
                    at
                } else {
                    let before = text[..at.min(text.len())].trim_end_matches(' ');
                    if before.ends_with('-') { before.len() - 1 } else { at }
                };
                let positioned = flow || !is_map;
                if positioned {
                    let span = self.file.span_at(at, 1);
                    self.index.values.entry(path.clone()).or_insert(span);
                }
                self.stack.push(if is_map {
                    Frame::Map { path, pending_key: None, positioned }
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
pub(crate) struct CharToByte {
    /// Byte offset of every char whose offset differs from its index (empty for ASCII text).
    offsets: Option<Vec<usize>>,
    len: usize,
}

impl CharToByte {
    pub(crate) fn new(text: &str) -> Self {
        let offsets = (!text.is_ascii()).then(|| text.char_indices().map(|(b, _)| b).collect());
        CharToByte { offsets, len: text.len() }
    }

    pub(crate) fn byte(&self, char_index: usize) -> usize {
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
    fn block_collections_start_at_their_first_key_or_dash() {
        let f = file("name: A\nresponse:\n  - name: Clients\n    type: array\nlist:\n- a\n");
        let idx = PositionIndex::build(&f);
        let m = idx.value("response[0]").unwrap();
        assert_eq!((m.line, m.column), (3, 5));
        let top = idx.value("").unwrap();
        assert_eq!((top.line, top.column), (1, 1));
        let seq = idx.value("list").unwrap();
        assert_eq!((seq.line, seq.column), (6, 1));
        let flow = PositionIndex::build(&file("a: {b: 1}\n"));
        assert_eq!(flow.value("a").unwrap().column, 4);
    }

    #[test]
    fn an_empty_value_is_placed_at_its_key() {
        let f = file("summary:\nmethod: POST\n");
        let s = PositionIndex::build(&f).value("summary").unwrap();
        assert_eq!((s.line, s.column), (1, 1));
    }

    #[test]
    fn records_repeated_keys_and_the_first_alias() {
        let f = file("a: &x 1\nb:\n  c: 1\n  c: 2\nd: [*x, *x]\n");
        let idx = PositionIndex::build(&f);
        let d = idx.duplicate_key("b.c").unwrap();
        assert_eq!((d.line, d.column), (4, 3));
        assert_eq!(idx.key("b.c").unwrap().line, 3);
        assert!(idx.duplicate_key("a").is_none());
        let alias = idx.first_alias().unwrap();
        assert_eq!((alias.line, alias.column, alias.len), (5, 5, 2));
    }

    #[test]
    fn spans_clamp_to_the_file() {
        let f = file("a: b");
        assert_eq!(f.span_at(100, 5).offset, 4);
        assert_eq!(f.span_at_line_col(9, 9, 1).offset, 4);
        let e = file("");
        assert_eq!(e.span_at(0, 3).len, 0);
        let u = file("aé");
        assert_eq!(u.span_at(0, 2).len, 3);
    }

    #[test]
    fn counts_lf_crlf_and_lone_cr_as_line_breaks() {
        let f = file("a\r\nb\rc\nd\re");
        let at = |needle: &str| {
            let s = f.span_at(f.text.find(needle).unwrap(), 1);
            (s.line, s.column)
        };
        assert_eq!([at("a"), at("b"), at("c"), at("d"), at("e")], [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)]);
        assert_eq!(f.span_at_line_col(3, 1, 1).offset, f.text.find('c').unwrap());
        assert_eq!(f.span_at_line_col(5, 1, 1).offset, f.text.find('e').unwrap());
        assert_eq!(f.span_at(0, 10).len, 1);
        assert_eq!(lines("a\r\nb\rc\n").collect::<Vec<_>>(), ["a\r\n", "b\r", "c\n"]);
    }
}
