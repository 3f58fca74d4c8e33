-- An empty channel list means the same as none, and the API now stores and returns it as null.
-- Endpoints saved with [] before that read back as null too from here on.
update endpoints set channels = null where channels = '[]'::jsonb;
