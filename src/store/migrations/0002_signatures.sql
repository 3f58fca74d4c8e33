-- Signature schemes, secret rotation and custom headers.
-- Secrets move to their own table: during a rotation an endpoint has several live secrets.
alter table endpoints add column signature_header text;
-- Custom headers are write-only: values sealed like secrets, names kept for display.
alter table endpoints add column headers_ciphertext text;
alter table endpoints add column header_names jsonb not null default '[]';

create table endpoint_secrets (
  id bigint generated always as identity primary key,
  endpoint_id text not null references endpoints(id) on delete cascade,
  secret_ciphertext text not null,
  created_at timestamptz not null default now(),
  -- Null while the secret is the current one; set by a rotation to the end of its grace period.
  expires_at timestamptz
);
create index endpoint_secrets_endpoint_idx on endpoint_secrets (endpoint_id, created_at);

insert into endpoint_secrets (endpoint_id, secret_ciphertext, created_at)
  select id, secret_ciphertext, created_at from endpoints;
alter table endpoints drop column secret_ciphertext;
