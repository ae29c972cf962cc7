-- The merchant's event feed (GET /v1/admin/events) reads the outbox in id order.
create index outbox_merchant_feed on outbox (merchant_id, outbox_id);
