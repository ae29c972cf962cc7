-- Every order keeps the trail of plugin calls that priced it (JSON), so it
-- explains itself after its plugins are upgraded. Null for orders placed
-- before this migration.
alter table sales_order add column explain text;
