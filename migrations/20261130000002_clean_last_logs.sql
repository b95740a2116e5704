-- Crash output recorded before the worker cleaned it may hold terminal escapes and control
-- characters. It is dropped rather than cleaned here: a container still crash-looping gets
-- its (cleaned) last lines again at the worker's next pass, and SQL cannot run the one
-- cleaner (app/src/domain/log_line.rs).
UPDATE containers SET last_logs = NULL WHERE last_logs IS NOT NULL;
