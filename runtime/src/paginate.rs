//! Paginators: a `Stream` of pages, or of the items on them, for the operations that page.
//!
//! The paging rules (what to ask for next, when to stop) are not generic and are compiled once,
//! here. What each operation instantiates is small: a boxed closure that sets the cursor and
//! sends, and the streams' `poll_next`.

use super::Error;
use futures_core::Stream;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

type BoxStream<T> = Pin<Box<dyn Stream<Item = T> + Send>>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
/// Puts the cursor (if any) into the input and sends it.
type Fetch<O, E> = Box<dyn FnMut(Option<Cursor>) -> BoxFuture<Result<O, Error<E>>> + Send>;
/// Sends one request of a paging operation.
pub type SendFn<C, I, O, E> = fn(C, I) -> BoxFuture<Result<O, Error<E>>>;

/// A stream of the answers of a paging operation, one per page, in order.
///
/// It ends after the last page, or with the first error (which it yields). Use it with
/// `futures::StreamExt` (`next().await`, `try_collect()` ...).
#[must_use = "streams do nothing unless polled"]
pub struct Pages<O, E> {
    walk: Walk,
    fetch: Fetch<O, E>,
    next_token: fn(&O) -> Option<String>,
    total: fn(&O) -> Option<i64>,
    len: fn(&O) -> usize,
    /// The page being fetched.
    pending: Option<BoxFuture<Result<O, Error<E>>>>,
}

/// A stream of the items of every page of a paging operation, in order.
///
/// It fetches pages as it goes and ends after the last item, or with the first error.
#[must_use = "streams do nothing unless polled"]
pub struct Items<T, E> {
    pages: BoxStream<Result<Vec<T>, Error<E>>>,
    /// The rest of the current page's items.
    current: std::vec::IntoIter<T>,
}

impl<O, E> Stream for Pages<O, E> {
    type Item = Result<O, Error<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(pending) = &mut this.pending {
                let result = std::task::ready!(pending.as_mut().poll(cx));
                this.pending = None;
                if let Ok(answer) = &result {
                    this.walk.after((this.len)(answer), (this.next_token)(answer), (this.total)(answer));
                }
                return Poll::Ready(Some(result));
            }
            match this.walk.take() {
                Some(cursor) => this.pending = Some((this.fetch)(cursor)),
                None => return Poll::Ready(None),
            }
        }
    }
}

// Items are only moved, never pinned in place: the stream is `Unpin` whatever `T` is.
impl<T, E> Unpin for Items<T, E> {}

impl<T, E> Stream for Items<T, E> {
    type Item = Result<T, Error<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.current.next() {
                return Poll::Ready(Some(Ok(item)));
            }
            match std::task::ready!(this.pages.as_mut().poll_next(cx)) {
                Some(Ok(items)) => this.current = items.into_iter(),
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => return Poll::Ready(None),
            }
        }
    }
}

impl<O, E> std::fmt::Debug for Pages<O, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").finish_non_exhaustive()
    }
}

impl<T, E> std::fmt::Debug for Items<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Items").finish_non_exhaustive()
    }
}

/// How one paging operation is driven; filled in by the generated code.
pub struct PageSpec<C, I, O, E> {
    /// Sends one request.
    pub send: SendFn<C, I, O, E>,
    /// Next-token style: puts the token into the input. Page-number style: puts the page number.
    pub set: fn(&mut I, Cursor),
    /// Next-token style: the token for the next page, if any.
    pub next_token: fn(&O) -> Option<String>,
    /// Page-number style: the total item count the answer reports.
    pub total: fn(&O) -> Option<i64>,
    /// How many items the page holds.
    pub len: fn(&O) -> usize,
}

/// Where the next page starts.
pub enum Cursor {
    /// A token from the previous answer.
    Token(String),
    /// A 1-based page number.
    Page(i64),
}

/// Where a walk over the pages is and what it has seen; not generic, so the paging rules are
/// compiled once, in the runtime.
struct Walk {
    by_token: bool,
    next: Next,
    /// Items on the pages up to this one, counting the pages before the first one asked for as
    /// full.
    seen_items: u64,
    page: i64,
    /// The size of the first page, taken as the page size.
    page_size: Option<u64>,
    /// Every token followed so far: one seen twice ends the walk.
    tokens: HashSet<String>,
}

/// What the next request is.
enum Next {
    /// The first page, with the input as given (next-token style).
    First,
    /// A page after putting this cursor into the input.
    At(Cursor),
    /// None: the walk is over (or a request is in flight).
    Done,
}

impl Walk {
    fn new(first: i64, by_token: bool) -> Walk {
        let page = first.max(1);
        let next = if by_token { Next::First } else { Next::At(Cursor::Page(page)) };
        Walk { by_token, next, seen_items: 0, page, page_size: None, tokens: HashSet::new() }
    }

    /// The next request to make: `Some(None)` for the input as it is, `Some(Some(cursor))`
    /// after setting the cursor, `None` when the walk is over. Until [`after`](Self::after)
    /// reports the answer, the walk counts as over (an error ends it).
    fn take(&mut self) -> Option<Option<Cursor>> {
        match std::mem::replace(&mut self.next, Next::Done) {
            Next::First => Some(None),
            Next::At(cursor) => Some(Some(cursor)),
            Next::Done => None,
        }
    }

    /// Takes in a page's answer: how many items it holds, the next token it gives (next-token
    /// style) and the total it reports (page-number style).
    fn after(&mut self, len: usize, next_token: Option<String>, total: Option<i64>) {
        let len = len as u64;
        let page_size = *self.page_size.get_or_insert(len);
        if self.seen_items == 0 && self.page > 1 {
            // Paging started past page 1: the pages before it count as full.
            self.seen_items = page_size.saturating_mul(u64::try_from(self.page - 1).unwrap_or(0));
        }
        self.seen_items = self.seen_items.saturating_add(len);
        self.next = if self.by_token {
            match next_token {
                Some(t) if !t.is_empty() && self.tokens.insert(t.clone()) => Next::At(Cursor::Token(t)),
                _ => Next::Done,
            }
        } else {
            let reached = match total {
                Some(total) => self.seen_items >= u64::try_from(total).unwrap_or(0),
                // Without a total, a page shorter than the first one is the last.
                None => len < page_size,
            };
            if len == 0 || reached || self.page == i64::MAX {
                Next::Done
            } else {
                self.page += 1;
                Next::At(Cursor::Page(self.page))
            }
        };
    }
}

impl<O: Send + 'static, E: Send + 'static> Pages<O, E> {
    /// Follows the `NextToken` of each answer until it is absent, empty, or one seen before.
    pub fn by_token<C, I>(client: C, input: I, spec: PageSpec<C, I, O, E>) -> Self
    where
        C: Clone + Send + 'static,
        I: Clone + Send + 'static,
    {
        Self::drive(client, input, Walk::new(1, true), spec)
    }

    /// Asks for page `first`, `first + 1`, ... until the reported total is reached or a page
    /// comes back empty.
    pub fn by_number<C, I>(client: C, input: I, first: i64, spec: PageSpec<C, I, O, E>) -> Self
    where
        C: Clone + Send + 'static,
        I: Clone + Send + 'static,
    {
        Self::drive(client, input, Walk::new(first, false), spec)
    }

    fn drive<C, I>(client: C, mut input: I, walk: Walk, spec: PageSpec<C, I, O, E>) -> Self
    where
        C: Clone + Send + 'static,
        I: Clone + Send + 'static,
    {
        let (send, set) = (spec.send, spec.set);
        Pages {
            walk,
            fetch: Box::new(move |cursor| {
                if let Some(cursor) = cursor {
                    set(&mut input, cursor);
                }
                send(client.clone(), input.clone())
            }),
            next_token: spec.next_token,
            total: spec.total,
            len: spec.len,
            pending: None,
        }
    }

    /// The items of every page, taken out of each answer by `items`.
    pub fn items<T: Send + 'static>(self, items: fn(O) -> Vec<T>) -> Items<T, E> {
        Items { pages: Box::pin(PageItems { pages: self, items }), current: Vec::new().into_iter() }
    }
}

/// The pages' item lists, for [`Items`].
struct PageItems<O, T, E> {
    pages: Pages<O, E>,
    items: fn(O) -> Vec<T>,
}

impl<O, T, E> Stream for PageItems<O, T, E> {
    type Item = Result<Vec<T>, Error<E>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let items = self.items;
        Pin::new(&mut self.pages).poll_next(cx).map(|page| page.map(|answer| answer.map(items)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cursors a walk asks for, given the answers' (len, next token, total).
    fn walk(mut w: Walk, answers: &[(usize, Option<&str>, Option<i64>)]) -> Vec<Option<String>> {
        let mut asked = Vec::new();
        let mut answers = answers.iter();
        while let Some(cursor) = w.take() {
            asked.push(cursor.map(|c| match c {
                Cursor::Token(t) => format!("token {t}"),
                Cursor::Page(p) => format!("page {p}"),
            }));
            let Some(&(len, token, total)) = answers.next() else { break };
            w.after(len, token.map(str::to_owned), total);
        }
        asked
    }

    #[test]
    fn next_token_walks_end_on_an_absent_empty_or_repeated_token() {
        let t = |s: &str| Some(format!("token {s}"));
        let ends = [(2, Some("a"), None), (2, Some("b"), None), (1, None, None)];
        assert_eq!(walk(Walk::new(1, true), &ends), [None, t("a"), t("b")]);
        let empty = [(2, Some("a"), None), (2, Some(""), None)];
        assert_eq!(walk(Walk::new(1, true), &empty), [None, t("a")]);
        let repeated = [(2, Some("a"), None), (2, Some("b"), None), (2, Some("a"), None)];
        assert_eq!(walk(Walk::new(1, true), &repeated), [None, t("a"), t("b")]);
    }

    #[test]
    fn page_number_walks_end_at_the_total_a_short_page_or_an_empty_one() {
        let p = |n: i64| Some(format!("page {n}"));
        let total = [(2, None, Some(5)), (2, None, Some(5)), (1, None, Some(5)), (0, None, Some(5))];
        assert_eq!(walk(Walk::new(1, false), &total), [p(1), p(2), p(3)]);
        // Starting at page 3 of 2-item pages: pages 1 and 2 count as full.
        let past = [(2, None, Some(7)), (1, None, Some(7))];
        assert_eq!(walk(Walk::new(3, false), &past), [p(3), p(4)]);
        let short = [(3, None, None), (3, None, None), (2, None, None)];
        assert_eq!(walk(Walk::new(1, false), &short), [p(1), p(2), p(3)]);
        let empty = [(3, None, None), (0, None, None)];
        assert_eq!(walk(Walk::new(0, false), &empty), [p(1), p(2)]);
        let last = [(1, None, None)];
        assert_eq!(walk(Walk::new(i64::MAX, false), &last), [p(i64::MAX)]);
    }

    #[test]
    fn an_error_ends_the_walk() {
        let mut w = Walk::new(1, false);
        assert!(w.take().is_some());
        // No `after`: the request failed.
        assert!(w.take().is_none());
    }
}
