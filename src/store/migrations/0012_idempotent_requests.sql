-- Idempotency-Key records of the API's POSTs other than events (src/store/idempotent-requests.ts):
-- claimed before the request runs, answered after. `response` is sealed (it may carry a secret).
create table idempotent_requests (
  scope text not null,
  key text not null,
  fingerprint text not null,
  status integer,
  response text,
  created_at timestamptz not null,
  primary key (scope, key)
);
-- Expired records are deleted by time.
create index idempotent_requests_created_at on idempotent_requests (created_at);
