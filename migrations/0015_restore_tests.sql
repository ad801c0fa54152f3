CREATE TABLE "restore_test_settings" (
	"database_id" uuid PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"enabled" boolean NOT NULL,
	"interval_hours" integer NOT NULL,
	"target_kind" text NOT NULL,
	"target_database_id" uuid,
	"time_limit_minutes" integer NOT NULL,
	"alert_after_days" integer NOT NULL,
	"checks" jsonb NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "restore_tests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"account_id" uuid NOT NULL,
	"database_id" uuid NOT NULL,
	"database_name" text NOT NULL,
	"backup_id" uuid,
	"backup_started_at" timestamp with time zone,
	"size_bytes" bigint NOT NULL,
	"agent_id" uuid,
	"trigger" text NOT NULL,
	"requested_by" text,
	"engine" text NOT NULL,
	"target_kind" text NOT NULL,
	"target_database_id" uuid,
	"connection_database_id" uuid NOT NULL,
	"scratch_database" text NOT NULL,
	"time_limit_seconds" integer NOT NULL,
	"checks" jsonb NOT NULL,
	"state" text NOT NULL,
	"phase" text,
	"requested_at" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone,
	"progress_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"cancel_requested_at" timestamp with time zone,
	"restore_ms" integer,
	"total_ms" integer,
	"tables_checked" integer,
	"tables_failed" integer,
	"table_failures" jsonb,
	"check_results" jsonb,
	"error_code" text,
	"error" text,
	"error_hint" text
);
--> statement-breakpoint
ALTER TABLE "restore_test_settings" ADD CONSTRAINT "restore_test_settings_database_id_databases_id_fk" FOREIGN KEY ("database_id") REFERENCES "public"."databases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_test_settings" ADD CONSTRAINT "restore_test_settings_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_test_settings" ADD CONSTRAINT "restore_test_settings_target_database_id_databases_id_fk" FOREIGN KEY ("target_database_id") REFERENCES "public"."databases"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_tests" ADD CONSTRAINT "restore_tests_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_tests" ADD CONSTRAINT "restore_tests_database_id_databases_id_fk" FOREIGN KEY ("database_id") REFERENCES "public"."databases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_tests" ADD CONSTRAINT "restore_tests_backup_id_backups_id_fk" FOREIGN KEY ("backup_id") REFERENCES "public"."backups"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restore_tests" ADD CONSTRAINT "restore_tests_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "restore_tests_database_requested_idx" ON "restore_tests" USING btree ("database_id","requested_at");--> statement-breakpoint
CREATE INDEX "restore_tests_account_requested_idx" ON "restore_tests" USING btree ("account_id","requested_at");--> statement-breakpoint
CREATE INDEX "restore_tests_pending_agent_idx" ON "restore_tests" USING btree ("agent_id") WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX "restore_tests_running_idx" ON "restore_tests" USING btree ("progress_at") WHERE state = 'running';
