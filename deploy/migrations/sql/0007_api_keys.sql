-- API keys: a name, one scope (read ⊂ operate ⊂ admin) and the SHA-256 of the secret part; the
-- key itself is shown once when created and never stored. Revoked keys stay for the record.
CREATE TABLE api_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    scope       text        NOT NULL CHECK (scope IN ('read', 'operate', 'admin')),
    prefix      text        NOT NULL UNIQUE,  -- public part of the key, to find its row
    secret_hash bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
