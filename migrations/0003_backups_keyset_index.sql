DROP INDEX "backups_account_started_idx";--> statement-breakpoint
CREATE INDEX "backups_account_started_idx" ON "backups" USING btree ("account_id","started_at","id");