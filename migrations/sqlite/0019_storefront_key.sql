-- The publishable key is public by design (it ships in every storefront
-- page), so the host keeps it readable to serve /shop/{slug}. Secret keys
-- stay hashed only. Keys issued before this migration have no value here
-- until the merchant's keys are rotated.
alter table api_key add column public_value text;
