-- Reference data every service needs: the administrative hierarchy and the registered publishers.
CREATE EXTENSION IF NOT EXISTS timescaledb;

CREATE TABLE areas (
    code        text PRIMARY KEY CHECK (code ~ '^[0-9A-Za-z._-]{1,32}$'),
    parent_code text REFERENCES areas (code),
    level       text NOT NULL CHECK (level IN ('province', 'district', 'commune', 'village')),
    unit_type   text NOT NULL CHECK (unit_type <> ''),
    name_vi     text NOT NULL CHECK (name_vi <> ''),
    name_en     text NOT NULL CHECK (name_en <> ''),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((level = 'province') = (parent_code IS NULL))
);
CREATE INDEX areas_parent_code_idx ON areas (parent_code);

-- External systems and devices allowed to publish; the id is also their MQTT username.
CREATE TABLE publishers (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    source      text NOT NULL CHECK (source IN ('portal', 'payments', 'coverage')),
    area_code   text NOT NULL REFERENCES areas (code),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);
CREATE INDEX publishers_area_code_idx ON publishers (area_code);
