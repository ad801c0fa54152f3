CREATE TABLE "restores" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"account_id" uuid NOT NULL,
	"database_id" uuid NOT NULL,
	"database_name" text NOT NULL,
	"backup_id" uuid,
	"backup_started_at" timestamp with time zone NOT NULL,
	"size_bytes" bigint NOT NULL,
	"agent_id" uuid,
	"target_kind" text NOT NULL,
	"target_database_id" uuid,
	"connection_database_id" uuid NOT NULL,
	"engine" text NOT NULL,
	"target_host" text NOT NULL,
	"target_port" integer NOT NULL,
	"target_database" text NOT NULL,
	"replace" boolean DEFAULT false NOT NULL,
	"state" text NOT NULL,
	"phase" text,
	"bytes_done" bigint DEFAULT 0 NOT NULL,
	"bytes_total" bigint,
	"requested_by" text,
	"requested_by_user_id" uuid,
	"requested_by_api_key_id" uuid,
	"requested_at" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone,
	"progress_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"duration_ms" integer,
	"cancel_requested_at" timestamp with time zone,
	"error_code" text,
	"error" text
);
--> statement-breakpoint
ALTER TABLE "restores" ADD CONSTRAINT "restores_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restores" ADD CONSTRAINT "restores_database_id_databases_id_fk" FOREIGN KEY ("database_id") REFERENCES "public"."databases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restores" ADD CONSTRAINT "restores_backup_id_backups_id_fk" FOREIGN KEY ("backup_id") REFERENCES "public"."backups"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "restores" ADD CONSTRAINT "restores_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "restores_account_requested_idx" ON "restores" USING btree ("account_id","requested_at");--> statement-breakpoint
CREATE INDEX "restores_database_requested_idx" ON "restores" USING btree ("database_id","requested_at");--> statement-breakpoint
CREATE INDEX "restores_pending_agent_idx" ON "restores" USING btree ("agent_id") WHERE state = 'pending';
