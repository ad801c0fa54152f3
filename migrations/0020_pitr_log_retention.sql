-- The binary log retention the agent reads on a MariaDB/MySQL server (binlog_expire_logs_seconds,
-- or expire_logs_days): the control plane checks it against the agent's lag and alerts before the
-- server deletes a binlog the agent has not stored yet (a gap no restore can cross).
ALTER TABLE "pitr_settings" ADD COLUMN "log_retention_seconds" integer;
