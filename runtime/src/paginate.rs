//! Paginators: a `Stream` of pages, or of the items on them, for the operations that page.
//!
//! Generic over the client, the operation's input, output and error; instantiated by the
//! generated crate from non-generic functions, so applications' builds compile none of it again.

use super::Error;
use futures_core::Stream;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

type BoxStream<T> = Pin<Box<dyn Stream<Item = T> + Send>>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
/// Sends one request of a paging operation.
pub type SendFn<C, I, O, E> = fn(C, I) -> BoxFuture<Result<O, Error<E>>>;

/// A stream of the answers of a paging operation, one per page, in order.
///
/// It ends after the last page, or with the first error (which it yields). Use it with
/// `futures::StreamExt` (`next().await`, `try_collect()` ...).
#[must_use = "streams do nothing unless polled"]
pub struct Pages<O, E> {
    inner: BoxStream<Result<O, Error<E>>>,
}

/// A stream of the items of every page of a paging operation, in order.
///
/// It fetches pages as it goes and ends after the last item, or with the first error.
#[must_use = "streams do nothing unless polled"]
pub struct Items<T, E> {
    inner: BoxStream<Result<T, Error<E>>>,
}

impl<O, E> Stream for Pages<O, E> {
    type Item = Result<O, Error<E>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T, E> Stream for Items<T, E> {
    type Item = Result<T, Error<E>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
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

enum State<I> {
    Next {
        input: I,
        /// Items on the pages up to this one, counting the pages before the first one asked
        /// for as full.
        seen_items: u64,
        page: i64,
        /// The size of the first page, taken as the page size.
        page_size: Option<u64>,
        tokens: HashSet<String>,
    },
    Done,
}

impl<O: Send + 'static, E: Send + 'static> Pages<O, E> {
    /// Follows the `NextToken` of each answer until it is absent, empty, or one seen before.
    pub fn by_token<C, I>(client: C, input: I, spec: PageSpec<C, I, O, E>) -> Self
    where
        C: Clone + Send + 'static,
        I: Clone + Send + 'static,
    {
        Self::drive(client, input, 1, spec, true)
    }

    /// Asks for page `first`, `first + 1`, ... until the reported total is reached or a page
    /// comes back empty.
    pub fn by_number<C, I>(client: C, input: I, first: i64, spec: PageSpec<C, I, O, E>) -> Self
    where
        C: Clone + Send + 'static,
        I: Clone + Send + 'static,
    {
        Self::drive(client, input, first, spec, false)
    }

    fn drive<C, I>(client: C, input: I, first: i64, spec: PageSpec<C, I, O, E>, by_token: bool) -> Self
    where
        C: Clone + Send + 'static,
        I: Clone + Send + 'static,
    {
        let start =
            State::Next { input, seen_items: 0, page: first.max(1), page_size: None, tokens: HashSet::new() };
        let stream = futures_util::stream::unfold(start, move |state| {
            let client = client.clone();
            async move {
                let State::Next { mut input, mut seen_items, page, page_size, mut tokens } = state else {
                    return None;
                };
                if !by_token {
                    (spec.set)(&mut input, Cursor::Page(page));
                }
                let answer = match (spec.send)(client, input.clone()).await {
                    Ok(a) => a,
                    Err(e) => return Some((Err(e), State::Done)),
                };
                let len = (spec.len)(&answer) as u64;
                let page_size = page_size.unwrap_or(len);
                if seen_items == 0 && page > 1 {
                    // Paging started past page 1: the pages before it count as full.
                    seen_items = page_size.saturating_mul(u64::try_from(page - 1).unwrap_or(0));
                }
                seen_items = seen_items.saturating_add(len);
                let page_size = Some(page_size);
                let next = if by_token {
                    match (spec.next_token)(&answer) {
                        Some(t) if !t.is_empty() && tokens.insert(t.clone()) => {
                            (spec.set)(&mut input, Cursor::Token(t));
                            State::Next { input, seen_items, page, page_size, tokens }
                        }
                        _ => State::Done,
                    }
                } else {
                    let reached = match (spec.total)(&answer) {
                        Some(total) => seen_items >= u64::try_from(total).unwrap_or(0),
                        // Without a total, a page shorter than the first one is the last.
                        None => page_size.is_some_and(|size| len < size),
                    };
                    if len == 0 || reached || page == i64::MAX {
                        State::Done
                    } else {
                        State::Next { input, seen_items, page: page + 1, page_size, tokens }
                    }
                };
                Some((Ok(answer), next))
            }
        });
        Pages { inner: Box::pin(stream) }
    }

    /// The items of every page, taken out of each answer by `items`.
    pub fn items<T: Send + 'static>(self, items: fn(O) -> Vec<T>) -> Items<T, E> {
        use futures_util::StreamExt;
        let stream = self.flat_map(move |page| {
            let batch: Vec<Result<T, Error<E>>> = match page {
                Ok(answer) => items(answer).into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            };
            futures_util::stream::iter(batch)
        });
        Items { inner: Box::pin(stream) }
    }
}
