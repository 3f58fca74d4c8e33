-- The event-type catalog (PRODUCT.md §6): names a producer publishes, with an example payload
-- that test sends deliver. Global, like the admin key that manages it.
create table event_types (
  name text primary key,
  description text not null default '',
  example jsonb not null,
  archived boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
