-- A test send's delivery (PRODUCT.md §5) is marked, so that a resend keeps it a test. Its row is
-- committed before its workflow starts, so it also awaits its start until one is seen to reach
-- Temporal (or it is closed as not started): the dispatcher's sweep starts those still awaiting
-- (the process died between the commit and the start). The partial index holds only those.
alter table deliveries add column test boolean not null default false;
alter table deliveries add column awaiting_start boolean not null default false;
create index deliveries_awaiting_start_idx on deliveries (created_at) where awaiting_start;
