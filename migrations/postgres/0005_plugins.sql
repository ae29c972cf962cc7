-- Operator limit overrides per plugin (LimitOverrides as JSON; null: the defaults).
alter table plugin add column limits text;
