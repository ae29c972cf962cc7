-- Commerce core: merchants and keys, plugins and bindings, catalog,
-- inventory, customers, discount codes, idempotency.
-- Timestamps are unix milliseconds; money is integer minor units.

create table merchant (
    merchant_id text primary key,
    name text not null,
    slug text not null unique,
    default_currency text not null,
    country text not null,
    created_at bigint not null,
    updated_at bigint not null
);

create table api_key (
    api_key_id text primary key,
    merchant_id text not null references merchant (merchant_id),
    kind text not null check (kind in ('secret', 'publishable')),
    key_hash text not null unique,
    last4 text not null,
    created_at bigint not null,
    revoked_at bigint
);
create index api_key_merchant on api_key (merchant_id, kind);

create table plugin (
    plugin_id text primary key,
    name text not null,
    version text not null,
    extension_point text not null,
    sha256 text not null unique,
    size_bytes bigint not null,
    description text not null,
    config_schema text not null,
    component bytea not null,
    created_at bigint not null,
    updated_at bigint not null,
    unique (name, version)
);

create table plugin_binding (
    merchant_id text not null references merchant (merchant_id),
    extension_point text not null,
    position integer not null,
    plugin_id text not null references plugin (plugin_id),
    config text not null,
    on_error text not null check (on_error in ('fail', 'skip')),
    created_at bigint not null,
    updated_at bigint not null,
    primary key (merchant_id, extension_point, position)
);

create table category (
    category_id text primary key,
    merchant_id text not null references merchant (merchant_id),
    name text not null,
    handle text not null,
    created_at bigint not null,
    updated_at bigint not null,
    unique (merchant_id, handle)
);

create table product (
    product_id text primary key,
    merchant_id text not null references merchant (merchant_id),
    title text not null,
    handle text not null,
    description text not null default '',
    status text not null check (status in ('draft', 'active', 'archived')),
    tags text not null default '[]',
    options text not null default '[]',
    min_price bigint,
    search_text text not null default '',
    deleted_at bigint,
    created_at bigint not null,
    updated_at bigint not null,
    unique (merchant_id, handle)
);
create index product_merchant_status on product (merchant_id, status, product_id);

create index product_search on product using gin (to_tsvector('simple', search_text));

create table product_category (
    merchant_id text not null,
    product_id text not null references product (product_id),
    category_id text not null references category (category_id),
    primary key (merchant_id, product_id, category_id)
);
create index product_category_category on product_category (merchant_id, category_id);

create table variant (
    variant_id text primary key,
    merchant_id text not null references merchant (merchant_id),
    product_id text not null references product (product_id),
    position integer not null,
    sku text not null,
    title text not null,
    options text not null default '{}',
    price_amount bigint not null check (price_amount >= 0),
    currency text not null,
    weight_grams bigint,
    tax_code text,
    inventory_policy text not null default 'deny' check (inventory_policy in ('deny', 'allow_backorder')),
    deleted_at bigint,
    created_at bigint not null,
    updated_at bigint not null,
    unique (merchant_id, sku)
);
create index variant_product on variant (merchant_id, product_id, position);

create table location (
    location_id text primary key,
    merchant_id text not null references merchant (merchant_id),
    name text not null,
    country text,
    created_at bigint not null,
    updated_at bigint not null
);

create table inventory_level (
    merchant_id text not null,
    variant_id text not null references variant (variant_id),
    location_id text not null references location (location_id),
    on_hand bigint not null,
    reserved bigint not null default 0 check (reserved >= 0),
    created_at bigint not null,
    updated_at bigint not null,
    primary key (merchant_id, variant_id, location_id)
);

create table inventory_adjustment (
    inventory_adjustment_id text primary key,
    merchant_id text not null,
    variant_id text not null,
    location_id text not null,
    delta bigint not null,
    on_hand_after bigint not null,
    reason text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index inventory_adjustment_variant on inventory_adjustment (merchant_id, variant_id, created_at);

create table customer (
    customer_id text primary key,
    merchant_id text not null references merchant (merchant_id),
    email text not null,
    password_hash text not null,
    first_name text not null,
    last_name text not null,
    created_at bigint not null,
    updated_at bigint not null,
    unique (merchant_id, email)
);

create table customer_token (
    customer_token_id text primary key,
    merchant_id text not null,
    customer_id text not null references customer (customer_id),
    token_hash text not null unique,
    expires_at bigint not null,
    revoked_at bigint,
    created_at bigint not null,
    updated_at bigint not null
);

create table wishlist_item (
    merchant_id text not null,
    customer_id text not null references customer (customer_id),
    product_id text not null references product (product_id),
    created_at bigint not null,
    updated_at bigint not null,
    primary key (merchant_id, customer_id, product_id)
);

create table discount_code (
    discount_code_id text primary key,
    merchant_id text not null references merchant (merchant_id),
    code text not null,
    code_key text not null,
    usage_limit bigint,
    usage_count bigint not null default 0,
    starts_at bigint,
    ends_at bigint,
    created_at bigint not null,
    updated_at bigint not null,
    unique (merchant_id, code_key),
    check (usage_limit is null or usage_count <= usage_limit)
);

create table idempotency_key (
    scope text not null,
    idempotency_key text not null,
    request_hash text not null,
    status_code integer,
    response_body bytea,
    response_content_type text,
    created_at bigint not null,
    updated_at bigint not null,
    primary key (scope, idempotency_key)
);
create index idempotency_key_created on idempotency_key (created_at);
