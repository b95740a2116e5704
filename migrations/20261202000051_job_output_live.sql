-- A line of a run's output is announced as `job_output` (was `jobs`): a page showing the
-- run's output stream reads the new lines, and the jobs card is no longer re-read per line
-- (as deployment log lines are `log`, apart from `deployments`).

DROP TRIGGER job_run_logs_live ON job_run_logs;
CREATE TRIGGER job_run_logs_live AFTER INSERT ON job_run_logs
    FOR EACH ROW EXECUTE FUNCTION berth_live_notify('job_output');
