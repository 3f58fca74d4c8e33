-- Application keys: stored as SHA-256 of the key (keys are 256-bit random, so a fast hash is
-- enough); the prefix is kept to tell keys apart in lists.
create table api_keys (
  id text primary key,
  app_id text not null references applications(id) on delete cascade,
  name text not null default '',
  prefix text not null,
  key_hash text not null unique,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);
create index api_keys_app_idx on api_keys (app_id, id);
