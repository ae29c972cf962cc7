//! The records `commerce` and `db` share: what the database stores and the
//! rules read, without behaviour of either. `db` reads and writes them;
//! `commerce` decides with them (and re-exports them where callers expect
//! them); neither reaches into the other for a type.

pub mod cart;
pub mod catalog;
pub mod customers;
pub mod discounts;
pub mod emails;
pub mod events;
pub mod ids;
pub mod inventory;
pub mod merchants;
pub mod orders;
pub mod plugins;
pub mod providers;
pub mod reports;
pub mod secret;
pub mod time;
pub mod webhooks;
