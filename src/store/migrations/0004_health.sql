-- Endpoint health, auto-disable and per-endpoint rate limits.
alter table applications add column disable_policy jsonb;
-- Attempts before this instant do not count towards the endpoint's health (set on enable).
alter table endpoints add column health_reset_at timestamptz;

-- Attempts carry their endpoint and outcome, so health statistics are one indexed range scan.
alter table attempts add column endpoint_id text;
alter table attempts add column succeeded boolean not null default false;
update attempts a set endpoint_id = d.endpoint_id from deliveries d where d.id = a.delivery_id;
update attempts set succeeded = (error_code is null and response_status between 200 and 299);
create index attempts_endpoint_idx on attempts (endpoint_id, started_at);

-- The next free send slot of a rate-limited endpoint, and its last actual send, shared by every
-- worker process.
create table endpoint_throttle (
  endpoint_id text primary key references endpoints(id) on delete cascade,
  next_slot_at timestamptz not null,
  last_sent_at timestamptz
);
