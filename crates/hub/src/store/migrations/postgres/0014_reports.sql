-- The lead's reports: each team's figures for each settled day, in the time zone they were
-- counted in (team 0 holds agents' time online and their load over every team), and
-- indexes for reading a period's events.

CREATE TABLE report_days (
    time_zone TEXT NOT NULL,
    team_id   BIGINT NOT NULL,
    day       TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at   BIGINT NOT NULL,
    facts     TEXT NOT NULL,
    built_at  BIGINT NOT NULL,
    PRIMARY KEY (time_zone, team_id, day)
);
-- A write dated in a kept day drops that day, to be worked out again.
CREATE INDEX report_days_span ON report_days (starts_at);

CREATE INDEX conversations_created ON conversations (created_at);
CREATE INDEX conversations_first_replied ON conversations (first_replied_at) WHERE first_replied_at IS NOT NULL;
CREATE INDEX sla_events_due ON sla_events (due_at);
CREATE INDEX assignments_ended ON assignments (ended_at);
CREATE INDEX presence_log_ended ON presence_log (ended_at);
