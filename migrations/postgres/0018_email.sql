-- E-mail: each shop's sender and the address its alerts go to, its own
-- templates, one message per event and kind (by a dedupe key: one order
-- confirmation per order), and password resets.
alter table merchant add column email_from text;
alter table merchant add column notification_email text;
alter table merchant add column storefront_url text;

create table email_template (
    merchant_id text not null references merchant (merchant_id),
    kind text not null,
    subject text not null,
    text_body text not null,
    html_body text not null,
    updated_at bigint not null,
    primary key (merchant_id, kind)
);

create table email_message (
    email_message_id text primary key,
    merchant_id text not null,
    event_id text not null,
    kind text not null,
    dedupe_key text not null,
    -- Filled when it is sent (or found impossible to send).
    recipient text,
    subject text,
    status text not null check (status in ('pending', 'sent', 'failed', 'not_sent')),
    attempts integer not null default 0,
    next_attempt_at bigint not null,
    lease_until bigint not null default 0,
    last_error text,
    -- A token only the recipient may see (a password reset), sealed.
    secret_sealed text,
    sent_at bigint,
    created_at bigint not null,
    updated_at bigint not null,
    unique (merchant_id, dedupe_key)
);
create index email_message_due on email_message (next_attempt_at) where status = 'pending';
create index email_message_log on email_message (merchant_id, email_message_id);

create table password_reset (
    token_hash text primary key,
    merchant_id text not null,
    customer_id text not null,
    expires_at bigint not null,
    used_at bigint,
    created_at bigint not null
);
create index password_reset_customer on password_reset (merchant_id, customer_id);
