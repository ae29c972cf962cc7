//! Carts, checkout (with Stripe, against a fake), orders and recommendations end to end: a real host on
//! loopback, a real database (SQLite always, PostgreSQL when
//! MERCATO_TEST_POSTGRES_URL is set) and the real compiled plugins.

mod carts;
mod checkout;
mod emails;
mod flows;
mod orders;
mod recommendations;
mod reports;
mod stripe;
mod totals;
mod webhooks;
