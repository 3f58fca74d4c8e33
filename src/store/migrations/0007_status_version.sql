-- Counts every disable and every re-enable of an endpoint. A delivery workflow compares the
-- version a disable notice carries with the version its attempts read, so a notice that a
-- re-enable overtook is recognised without comparing clocks of different machines.
alter table endpoints add column status_version integer not null default 0;
