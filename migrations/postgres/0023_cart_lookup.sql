-- Carts are looked up by merchant and id. With only `cart_id` as the
-- primary key beside indexes led by `merchant_id`, PostgreSQL's cached
-- generic plan for `merchant_id = $1 and cart_id = $2` could pick an index
-- on the merchant alone and then walk every cart of the merchant on each
-- lookup as the table grew (measured under load: 8,600 index entries read
-- per lookup). A unique index on both columns is the lookup's exact match,
-- so no index beats it. (A plan made while the table holds a handful of
-- rows may still scan the table, until the next ANALYZE.)
create unique index cart_by_merchant on cart (merchant_id, cart_id);
-- Nothing reads carts by (merchant, updated_at); every cart write paid for it.
drop index cart_merchant;
