//! Cursor pagination as every list answers it: a page of rows and `next_cursor`, null on the
//! last page; the next request passes it as `cursor`.

/// A list answer: its rows and the cursor of the page after it.
pub trait Paged {
    type Item;
    /// The page's rows and, when more follow, the cursor naming the next page.
    fn into_page(self) -> (Vec<Self::Item>, Option<String>);
}

impl Paged for crate::connections::ConnectionListOut {
    type Item = crate::connections::ConnectionOut;
    fn into_page(self) -> (Vec<Self::Item>, Option<String>) {
        (self.connections, self.next_cursor)
    }
}

impl Paged for crate::accounts::AccountListOut {
    type Item = crate::accounts::AccountOut;
    fn into_page(self) -> (Vec<Self::Item>, Option<String>) {
        (self.bank_feed_accounts, self.next_cursor)
    }
}

impl Paged for crate::transactions::TransactionListOut<'static> {
    type Item = crate::transactions::TransactionOut<'static>;
    fn into_page(self) -> (Vec<Self::Item>, Option<String>) {
        (self.bank_feed_transactions, self.next_cursor)
    }
}
