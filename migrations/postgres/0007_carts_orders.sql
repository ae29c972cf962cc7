-- Carts, checkout and orders: carts and their lines, stock reservations,
-- orders with their lines, payment attempts, fulfillments, refunds and
-- returns, the append-only order history and the transactional outbox.
-- Amounts are integer minor units of the row's currency; JSON columns hold
-- what the order was charged (adjustments, tax lines) exactly as priced.

alter table merchant add column prices_include_tax bigint not null default 0;
-- Order numbers count per merchant: `update ... set order_seq = order_seq + 1 returning`.
alter table merchant add column order_seq bigint not null default 0;

create table cart (
    cart_id text primary key,
    merchant_id text not null references merchant (merchant_id),
    currency text not null,
    customer_id text,
    email text,
    shipping_address text,
    billing_address text,
    shipping_option text,
    status text not null default 'open' check (status in ('open', 'completing', 'completed')),
    order_id text,
    version bigint not null default 0,
    created_at bigint not null,
    updated_at bigint not null
);
create index cart_merchant on cart (merchant_id, updated_at);

create table cart_line (
    cart_line_id text primary key,
    merchant_id text not null,
    cart_id text not null references cart (cart_id),
    variant_id text not null,
    quantity bigint not null check (quantity > 0),
    created_at bigint not null,
    updated_at bigint not null,
    unique (cart_id, variant_id)
);
create index cart_line_cart on cart_line (merchant_id, cart_id, cart_line_id);

create table cart_discount_code (
    merchant_id text not null,
    cart_id text not null references cart (cart_id),
    code_key text not null,
    code text not null,
    created_at bigint not null,
    updated_at bigint not null,
    primary key (merchant_id, cart_id, code_key)
);

create table sales_order (
    order_id text primary key,
    merchant_id text not null references merchant (merchant_id),
    number bigint not null,
    cart_id text not null,
    customer_id text,
    email text not null,
    currency text not null,
    status text not null check (status in ('pending_payment', 'paid', 'partially_fulfilled', 'fulfilled',
        'cancelled', 'partially_refunded', 'refunded')),
    payment_status text not null,
    fulfillment_status text not null,
    subtotal bigint not null,
    discount_total bigint not null,
    shipping_total bigint not null,
    tax_total bigint not null,
    total bigint not null,
    captured_amount bigint not null default 0,
    refunded_amount bigint not null default 0 check (refunded_amount >= 0),
    shipping_address text not null,
    billing_address text,
    shipping_option text not null,
    adjustments text not null default '[]',
    shipping_tax_lines text not null default '[]',
    discount_codes text not null default '[]',
    prices_include_tax bigint not null default 0,
    access_token_hash text not null,
    event_seq bigint not null default 0,
    cancelled_at bigint,
    created_at bigint not null,
    updated_at bigint not null,
    unique (merchant_id, number),
    check (refunded_amount <= captured_amount)
);
create index sales_order_merchant on sales_order (merchant_id, order_id);
create index sales_order_customer on sales_order (merchant_id, customer_id, order_id);

create table order_line (
    order_line_id text primary key,
    merchant_id text not null,
    order_id text not null references sales_order (order_id),
    position bigint not null,
    variant_id text not null,
    product_id text not null,
    sku text not null,
    title text not null,
    quantity bigint not null check (quantity > 0),
    unit_price bigint not null,
    subtotal bigint not null,
    discount_total bigint not null,
    tax_total bigint not null,
    total bigint not null,
    adjustments text not null default '[]',
    tax_lines text not null default '[]',
    fulfilled_quantity bigint not null default 0,
    returned_quantity bigint not null default 0,
    refunded_quantity bigint not null default 0,
    created_at bigint not null,
    updated_at bigint not null,
    check (fulfilled_quantity >= 0 and fulfilled_quantity <= quantity),
    check (returned_quantity >= 0 and returned_quantity <= fulfilled_quantity),
    check (refunded_quantity >= 0 and refunded_quantity <= quantity)
);
create index order_line_order on order_line (merchant_id, order_id, position);
create index order_line_product on order_line (merchant_id, product_id, order_id);

-- Stock held for an order until it is paid (consumed), declined or expired
-- (released). One row per order line that tracks stock.
create table reservation (
    reservation_id text primary key,
    merchant_id text not null,
    order_id text not null references sales_order (order_id),
    order_line_id text not null,
    variant_id text not null,
    location_id text not null,
    quantity bigint not null check (quantity > 0),
    status text not null check (status in ('active', 'consumed', 'released')),
    expires_at bigint not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index reservation_order on reservation (merchant_id, order_id);
create index reservation_expiry on reservation (status, expires_at);

create table payment_attempt (
    payment_attempt_id text primary key,
    merchant_id text not null,
    order_id text not null references sales_order (order_id),
    plugin_id text not null,
    provider text not null,
    amount bigint not null,
    currency text not null,
    token text,
    status text not null check (status in ('started', 'succeeded', 'requires_action', 'pending', 'failed',
        'unknown', 'voided')),
    provider_reference text,
    next_action text,
    message text,
    failure_reason text,
    created_at bigint not null,
    updated_at bigint not null
);
create index payment_attempt_order on payment_attempt (merchant_id, order_id);
create index payment_attempt_status on payment_attempt (status, updated_at);
create index payment_attempt_reference on payment_attempt (merchant_id, provider_reference);

create table fulfillment (
    fulfillment_id text primary key,
    merchant_id text not null,
    order_id text not null references sales_order (order_id),
    lines text not null,
    carrier text,
    tracking_number text,
    created_at bigint not null,
    updated_at bigint not null
);
create index fulfillment_order on fulfillment (merchant_id, order_id);

create table refund (
    refund_id text primary key,
    merchant_id text not null,
    order_id text not null references sales_order (order_id),
    amount bigint not null check (amount > 0),
    lines text not null default '[]',
    reason text not null,
    status text not null,
    provider_reference text,
    created_at bigint not null,
    updated_at bigint not null
);
create index refund_order on refund (merchant_id, order_id);

create table order_return (
    order_return_id text primary key,
    merchant_id text not null,
    order_id text not null references sales_order (order_id),
    lines text not null,
    reason text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index order_return_order on order_return (merchant_id, order_id);

-- Append-only: rows are inserted, never updated or deleted.
create table order_event (
    order_event_id text primary key,
    merchant_id text not null,
    order_id text not null references sales_order (order_id),
    seq bigint not null,
    kind text not null,
    data text not null default '{}',
    created_at bigint not null,
    updated_at bigint not null,
    unique (order_id, seq)
);
create index order_event_order on order_event (merchant_id, order_id, seq);

-- Written in the same transaction as every order state change; a delivery
-- worker (webhooks) marks rows delivered.
create table outbox (
    outbox_id text primary key,
    merchant_id text not null,
    topic text not null,
    aggregate_id text not null,
    payload text not null,
    delivered_at bigint,
    created_at bigint not null,
    updated_at bigint not null
);
create index outbox_pending on outbox (delivered_at, created_at);
create index outbox_merchant on outbox (merchant_id, created_at);
