-- Each claim of an Idempotency-Key gets a token: a request that outlived its claim (taken for
-- abandoned after a while) must not answer or release the claim of the request that took the key
-- over. The table is a 24-hour cache, so rows from before this have no token and simply expire.
alter table idempotent_requests add column claim text;
