-- A test send's delivery (PRODUCT.md §5) is marked, so that a resend keeps it a test and the
-- dispatcher's sweep can start one whose workflow never started (the process died between the
-- row's commit and the start). The partial index holds only those waiting for their first attempt.
alter table deliveries add column test boolean not null default false;
create index deliveries_unstarted_tests_idx on deliveries (created_at) where test and status = 'pending' and attempt_count = 0;
