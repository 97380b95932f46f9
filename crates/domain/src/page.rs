//! Keyset pagination shared by every list: a page is "the next `limit` items
//! after the item with this id" in the list's own order, so an item that
//! existed when the first page was read is neither skipped nor repeated, however
//! many items are added or removed meanwhile (unlike OFFSET).

use crate::DomainError;

/// The most items one page may hold.
pub const MAX_PAGE_SIZE: u32 = 500;
/// The page size when the client names none.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// Which page of a list to read: at most `limit` items after the item whose id is `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    limit: u32,
    after: Option<i64>,
}

impl PageRequest {
    /// A validated request; `limit` defaults to [`DEFAULT_PAGE_SIZE`] and must be 1..=[`MAX_PAGE_SIZE`].
    pub fn new(limit: Option<u32>, after: Option<i64>) -> Result<Self, DomainError> {
        let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(DomainError::validation(format!(
                "limit must be between 1 and {MAX_PAGE_SIZE}"
            )));
        }
        Ok(Self { limit, after })
    }

    /// The first page of the default size.
    pub fn first() -> Self {
        Self {
            limit: DEFAULT_PAGE_SIZE,
            after: None,
        }
    }

    /// How many items the page may hold.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// How many rows a store reads: one more than the limit, to learn whether more follow.
    pub fn fetch(&self) -> u64 {
        u64::from(self.limit) + 1
    }

    /// The id of the last item of the previous page, if any.
    pub fn after(&self) -> Option<i64> {
        self.after
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::first()
    }
}

/// One page of a list and the id the next page starts after (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in the list's order.
    pub items: Vec<T>,
    /// The id of the last item when more follow; the next request's `after`.
    pub next_after: Option<i64>,
}

impl<T> Page<T> {
    /// A page from up to [`PageRequest::fetch`] rows read in list order after
    /// the cursor; the extra row only tells that another page follows.
    pub fn from_rows(mut rows: Vec<T>, request: PageRequest, id: impl Fn(&T) -> i64) -> Self {
        let limit = request.limit() as usize;
        let next_after = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(&id)
        } else {
            None
        };
        Self {
            items: rows,
            next_after,
        }
    }

    /// The same page with every item converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_after: self.next_after,
        }
    }

    /// The same page with every item converted, or the first conversion's error.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            next_after: self.next_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_one_to_five_hundred_are_refused() {
        assert_eq!(PageRequest::new(None, None).unwrap().limit(), 100);
        assert_eq!(PageRequest::new(Some(1), Some(7)).unwrap().after(), Some(7));
        assert_eq!(PageRequest::new(Some(500), None).unwrap().fetch(), 501);
        for bad in [0, 501] {
            assert!(matches!(
                PageRequest::new(Some(bad), None),
                Err(DomainError::Validation(_))
            ));
        }
    }

    #[test]
    fn the_extra_row_only_says_more_follow() {
        let request = PageRequest::new(Some(2), None).unwrap();
        let full = Page::from_rows(vec![10, 20, 30], request, |&x| x);
        assert_eq!((full.items, full.next_after), (vec![10, 20], Some(20)));
        let last = Page::from_rows(vec![10, 20], request, |&x| x);
        assert_eq!((last.items, last.next_after), (vec![10, 20], None));
        let empty = Page::from_rows(Vec::<i64>::new(), request, |&x| x);
        assert_eq!(empty.next_after, None);
        assert_eq!(
            Page::from_rows(vec![1, 2, 3], request, |&x| x)
                .map(|x| x * 2)
                .items,
            vec![2, 4]
        );
    }
}
