-- Carts are looked up by merchant and id. With only `cart_id` as the
-- primary key beside indexes led by `merchant_id`, PostgreSQL's cached
-- generic plan for `merchant_id = $1 and cart_id = $2`, made while the
-- table is small, could pick an index on the merchant alone and then walk
-- every cart of the merchant on each lookup as the table grows (measured
-- under load: 8,600 index entries read per lookup). A unique index on both
-- columns is the lookup's exact match, whatever the statistics say.
create unique index cart_by_merchant on cart (merchant_id, cart_id);
-- Nothing reads carts by (merchant, updated_at); every cart write paid for it.
drop index cart_merchant;
