-- The settings table of v1 was never used: generated secrets live in the data directory, and
-- configuration comes from the environment.
drop table if exists settings;
