/** One versioned schema change. The same SQL runs on PostgreSQL and on PGlite. */
export interface Migration {
  /** Strictly increasing; recorded in `baton_schema_migrations`. */
  version: number;
  name: string;
  sql: string;
}

/**
 * The registry's schema, in order. Never edit a released migration: append a new one.
 * Tables: `pipeline_run` (one row per run), `pipeline_step` (one row per step path, every kind),
 * `stage_attempt` (one row per task attempt), `pending_review` (one row per approval gate reached;
 * on Step Functions also the execution ARN and the task token that resumes it) and `review_decision`
 * (the audit trail: one row per verdict, the gate's and each section's). Migration 5 adds model usage
 * and cost per attempt and per run.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, steps, attempts, reviews',
    sql: `
CREATE TABLE pipeline_run (
  run_id        text PRIMARY KEY,
  pipeline      text NOT NULL,
  engine        text NOT NULL,
  execution_id  text,
  status        text NOT NULL CHECK (status IN ('running', 'waiting', 'succeeded', 'failed')),
  current_step  text,
  status_since  timestamptz NOT NULL,
  started_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  finished_at   timestamptz,
  input_ref     jsonb,
  output_ref    jsonb,
  error_code    text,
  error_message text,
  error_class   text,
  input_tokens  bigint NOT NULL DEFAULT 0,
  output_tokens bigint NOT NULL DEFAULT 0,
  model_calls   integer NOT NULL DEFAULT 0
);
CREATE INDEX pipeline_run_status_idx ON pipeline_run (status, started_at DESC);
CREATE INDEX pipeline_run_pipeline_idx ON pipeline_run (pipeline, started_at DESC);
CREATE INDEX pipeline_run_finished_idx ON pipeline_run (finished_at) WHERE status = 'failed';

CREATE TABLE pipeline_step (
  run_id        text NOT NULL REFERENCES pipeline_run (run_id) ON DELETE CASCADE,
  step_path     text NOT NULL,
  kind          text NOT NULL,
  map_index     integer,
  status        text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  started_at    timestamptz NOT NULL,
  finished_at   timestamptz,
  error_code    text,
  error_message text,
  error_class   text,
  PRIMARY KEY (run_id, step_path)
);
CREATE INDEX pipeline_step_running_idx ON pipeline_step (run_id, started_at DESC) WHERE status = 'running';

CREATE TABLE stage_attempt (
  run_id           text NOT NULL REFERENCES pipeline_run (run_id) ON DELETE CASCADE,
  step_path        text NOT NULL,
  map_index        integer,
  attempt          integer NOT NULL CHECK (attempt >= 1),
  stage            text NOT NULL,
  status           text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  started_at       timestamptz NOT NULL,
  finished_at      timestamptz,
  error_code       text,
  error_message    text,
  error_class      text,
  retryable        boolean,
  retry_delay_ms   integer,
  input_tokens     integer NOT NULL DEFAULT 0,
  output_tokens    integer NOT NULL DEFAULT 0,
  model_calls      integer NOT NULL DEFAULT 0,
  latency_ms       integer,
  model_latency_ms integer,
  PRIMARY KEY (run_id, step_path, attempt)
);
CREATE INDEX stage_attempt_failed_idx ON stage_attempt (finished_at) WHERE status = 'failed';

CREATE TABLE pending_review (
  run_id      text NOT NULL REFERENCES pipeline_run (run_id) ON DELETE CASCADE,
  gate        text NOT NULL,
  step_path   text NOT NULL,
  reviewer    text,
  payload_ref jsonb,
  token_hash  text NOT NULL,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz,
  decided_at  timestamptz,
  decision    text CHECK (decision IN ('approved', 'rejected', 'timeout')),
  decided_by  text,
  comment     text,
  PRIMARY KEY (run_id, step_path)
);
CREATE INDEX pending_review_open_idx ON pending_review (created_at) WHERE decided_at IS NULL;
`,
  },
  {
    version: 2,
    name: 'attempt history across redrives',
    sql: `
ALTER TABLE pipeline_run ADD COLUMN execution integer NOT NULL DEFAULT 1;
ALTER TABLE stage_attempt ADD COLUMN execution integer NOT NULL DEFAULT 1;
ALTER TABLE stage_attempt DROP CONSTRAINT stage_attempt_pkey;
ALTER TABLE stage_attempt ADD PRIMARY KEY (run_id, execution, step_path, attempt);
`,
  },
  {
    version: 3,
    name: 'run labels, task-token reviews',
    sql: `
ALTER TABLE pipeline_run ADD COLUMN report_id text;
ALTER TABLE pipeline_run ADD COLUMN reviewer_id text;
CREATE INDEX pipeline_run_report_idx ON pipeline_run (report_id, started_at DESC) WHERE report_id IS NOT NULL;

ALTER TABLE pending_review ADD COLUMN execution_arn text;
ALTER TABLE pending_review ADD COLUMN task_token text;
-- serves open(arn, gate) and close(arn, step) (a handful of rows per execution, open ones filtered
-- after) and list(arn), which also reads decided reviews: not partial on decided_at for that reason
CREATE INDEX pending_review_execution_idx ON pending_review (execution_arn, gate) WHERE execution_arn IS NOT NULL;
`,
  },
  {
    version: 4,
    name: 'review decision audit trail, section reviews, run titles',
    sql: `
ALTER TABLE pipeline_run ADD COLUMN title text;
-- the sections a decision may give verdicts for, and what each section's text was made by
ALTER TABLE pending_review ADD COLUMN sections jsonb;
ALTER TABLE pending_review ADD COLUMN section_versions jsonb;

-- one row per verdict: the gate's decision (section_id '') and one per section verdict; never updated
CREATE TABLE review_decision (
  run_id        text NOT NULL REFERENCES pipeline_run (run_id) ON DELETE CASCADE,
  step_path     text NOT NULL,
  gate          text NOT NULL,
  round         integer,
  section_id    text NOT NULL DEFAULT '',
  section_title text,
  verdict       text NOT NULL CHECK (verdict IN ('approved', 'rejected', 'timeout', 'approve', 'send-back', 'accept-missing')),
  note          text,
  decided_by    text,
  decided_at    timestamptz NOT NULL,
  model_id      text,
  prompt_sha256 text,
  output_key    text,
  PRIMARY KEY (run_id, step_path, section_id, decided_at)
);
CREATE INDEX review_decision_run_idx ON review_decision (run_id, decided_at);
`,
  },
  {
    version: 5,
    name: 'model usage and cost per attempt and run',
    sql: `
-- what each attempt's metrics say beyond tokens: estimates the limiter reserved, throttles, time
-- waiting for budget, input charged for failed calls, and the cost from the engine's price table
-- (NULL: no price applied, as when the engine has no price table; 0 is a priced call that cost nothing)
ALTER TABLE stage_attempt ADD COLUMN estimated_input_tokens integer NOT NULL DEFAULT 0;
ALTER TABLE stage_attempt ADD COLUMN estimated_output_tokens integer NOT NULL DEFAULT 0;
ALTER TABLE stage_attempt ADD COLUMN throttled_calls integer NOT NULL DEFAULT 0;
ALTER TABLE stage_attempt ADD COLUMN budget_wait_ms integer NOT NULL DEFAULT 0;
ALTER TABLE stage_attempt ADD COLUMN failed_input_tokens integer NOT NULL DEFAULT 0;
ALTER TABLE stage_attempt ADD COLUMN cost float8;
ALTER TABLE stage_attempt ADD COLUMN model_id text;
ALTER TABLE stage_attempt ADD COLUMN unpriced_models jsonb;
-- the run's totals over every attempt of every execution (recomputed from stage_attempt)
ALTER TABLE pipeline_run ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE pipeline_run ADD COLUMN throttled_calls integer NOT NULL DEFAULT 0;
ALTER TABLE pipeline_run ADD COLUMN estimated_input_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE pipeline_run ADD COLUMN estimated_output_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE pipeline_run ADD COLUMN budget_wait_ms bigint NOT NULL DEFAULT 0;
ALTER TABLE pipeline_run ADD COLUMN failed_input_tokens bigint NOT NULL DEFAULT 0;
ALTER TABLE pipeline_run ADD COLUMN cost float8;
-- serves usage over a time range (this week's cost by pipeline)
CREATE INDEX stage_attempt_finished_idx ON stage_attempt (finished_at);
`,
  },
];
