-- What the machines of one Xero app share (see xero/pg.py); idempotent, run once per process.
CREATE SCHEMA IF NOT EXISTS xero_pipeline;

-- The token store: one row per Xero app (client id), the record TokenManager keeps.
CREATE TABLE IF NOT EXISTS xero_pipeline.tokens (
    client_id  text PRIMARY KEY,
    data       jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- No call before `until`: the app after an appminute 429 (name 'app'), a tenant after a
-- day 429 (name 'day:<tenant id>'). Times are the server's, the one clock every machine shares.
CREATE TABLE IF NOT EXISTS xero_pipeline.blocked_until (
    name       text PRIMARY KEY,
    until      timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
