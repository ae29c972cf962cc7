-- The hosts a payment plugin may reach over HTTP, as the operator allowed
-- them: a JSON array of "host:port".
alter table plugin add column allowed_hosts text not null default '[]';
