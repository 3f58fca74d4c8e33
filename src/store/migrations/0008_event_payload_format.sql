-- The payload format an event is delivered in, fixed when the event is committed (ARCHITECTURE.md
-- invariant 3: the same bytes on every attempt). Changing the application's format afterwards
-- applies to new events only. Rows from before this column read the application's format.
alter table events add column payload_format text;
