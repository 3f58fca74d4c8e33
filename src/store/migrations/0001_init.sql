-- Hookline schema v1. Statements are separated by a semicolon at the end of a line.
create table settings (
  name text primary key,
  value text not null
);

create table applications (
  id text primary key,
  uid text unique,
  name text not null,
  retry_schedule jsonb not null,
  payload_format text not null,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table endpoints (
  id text primary key,
  app_id text not null references applications(id) on delete cascade,
  uid text,
  url text not null,
  description text not null default '',
  event_types jsonb not null,
  channels jsonb,
  signature_scheme text not null,
  secret_ciphertext text not null,
  timeout_ms integer not null,
  rate_limit_per_s integer,
  retry_schedule jsonb,
  status text not null default 'active',
  disabled_reason text,
  disabled_at timestamptz,
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (app_id, uid)
);
create index endpoints_app_id_idx on endpoints (app_id, id);

-- `payload` and `previous_payload` hold the producer's JSON text verbatim: jsonb would reorder keys.
create table events (
  id text primary key,
  app_id text not null references applications(id) on delete cascade,
  type text not null,
  payload text not null,
  previous_payload text,
  channels jsonb,
  endpoint_ids jsonb,
  idempotency_key text,
  created_at timestamptz not null default now(),
  dispatched_at timestamptz
);
create index events_app_id_idx on events (app_id, id);
create unique index events_idempotency_idx on events (app_id, idempotency_key) where idempotency_key is not null;
create index events_undispatched_idx on events (created_at) where dispatched_at is null;

create table deliveries (
  id text primary key,
  app_id text not null references applications(id) on delete cascade,
  event_id text not null references events(id) on delete cascade,
  endpoint_id text not null references endpoints(id) on delete cascade,
  event_type text not null,
  status text not null,
  attempt_count integer not null default 0,
  last_attempt_at timestamptz,
  next_attempt_at timestamptz,
  failure_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (event_id, endpoint_id)
);
create index deliveries_app_id_idx on deliveries (app_id, id);
create index deliveries_endpoint_idx on deliveries (endpoint_id, id);

create table attempts (
  id text primary key,
  delivery_id text not null references deliveries(id) on delete cascade,
  attempt_number integer not null,
  trigger text not null,
  url text not null,
  started_at timestamptz not null,
  duration_ms integer not null,
  response_status integer,
  response_headers jsonb not null default '{}',
  response_body text not null default '',
  response_body_truncated boolean not null default false,
  error_code text,
  error_message text,
  next_attempt_at timestamptz,
  unique (delivery_id, attempt_number)
);
