-- Nothing reads events by (merchant, created_at): the feed reads them by
-- (merchant, outbox_id) (`outbox_merchant_feed`, ids sort by time), and the
-- worker by `outbox_undispatched`. Every event written paid for it.
drop index outbox_merchant;
