-- Merchant insight: each shop's time zone (reports' days, weeks and
-- months) and when an idle cart counts as abandoned; units per order, so
-- sales reports sum orders without reading their lines; indexes for the
-- reports' ranges.
alter table merchant add column time_zone text not null default 'UTC';
alter table merchant add column abandoned_cart_after_ms bigint not null default 14400000;
alter table sales_order add column item_count bigint not null default 0;
update sales_order set item_count = coalesce((select sum(l.quantity) from order_line l
    where l.order_id = sales_order.order_id), 0);
create index sales_order_created on sales_order (merchant_id, created_at);
create index refund_created on refund (merchant_id, created_at);
create index cart_created on cart (merchant_id, created_at);
create index sales_order_cart on sales_order (merchant_id, cart_id);

-- Abandoned carts: when a cart was found abandoned (its recovery e-mail
-- queued, once) and when an abandoned cart later became an order.
alter table cart add column abandoned_at bigint;
alter table cart add column recovered_at bigint;
create index cart_abandonable on cart (updated_at) where status = 'open' and abandoned_at is null
    and email is not null;
