-- The event a test send creates (PRODUCT.md §5) is marked, so that a producer reading its event
-- list can tell it from the events it sent.
alter table events add column test boolean not null default false;
update events set test = true where id in (select event_id from deliveries where test);
