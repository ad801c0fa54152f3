CREATE TABLE "pitr_settings" (
	"database_id" uuid PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"method" text DEFAULT 'stream' NOT NULL,
	"rpo_seconds" integer NOT NULL,
	"base_backup_every_days" integer NOT NULL,
	"window_days" integer NOT NULL,
	"enabled_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"reported_at" timestamp with time zone,
	"lag_seconds" integer,
	"server_position" text,
	"server_offset" bigint,
	"segment_size_bytes" bigint,
	"slot" jsonb,
	"error_code" text,
	"error" text,
	"checked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "pitr_segments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"account_id" uuid NOT NULL,
	"database_id" uuid NOT NULL,
	"stream" text NOT NULL,
	"name" text NOT NULL,
	"start_position" text NOT NULL,
	"end_position" text NOT NULL,
	"start_offset" bigint NOT NULL,
	"end_offset" bigint NOT NULL,
	"size_bytes" bigint NOT NULL,
	"sha256" text NOT NULL,
	"object_key" text NOT NULL,
	"partial" boolean NOT NULL,
	"closed_at" timestamp with time zone NOT NULL,
	"first_commit_at" timestamp with time zone,
	"last_commit_at" timestamp with time zone,
	"missing_since" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pitr_base_backups" (
	"backup_id" uuid PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"database_id" uuid NOT NULL,
	"stream" text NOT NULL,
	"start_position" text NOT NULL,
	"end_position" text NOT NULL,
	"start_offset" bigint NOT NULL,
	"end_offset" bigint NOT NULL,
	"first_segment" text,
	"consistent_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "pitr_settings" ADD CONSTRAINT "pitr_settings_database_id_databases_id_fk" FOREIGN KEY ("database_id") REFERENCES "public"."databases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pitr_settings" ADD CONSTRAINT "pitr_settings_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pitr_segments" ADD CONSTRAINT "pitr_segments_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pitr_segments" ADD CONSTRAINT "pitr_segments_database_id_databases_id_fk" FOREIGN KEY ("database_id") REFERENCES "public"."databases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pitr_base_backups" ADD CONSTRAINT "pitr_base_backups_backup_id_backups_id_fk" FOREIGN KEY ("backup_id") REFERENCES "public"."backups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pitr_base_backups" ADD CONSTRAINT "pitr_base_backups_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pitr_base_backups" ADD CONSTRAINT "pitr_base_backups_database_id_databases_id_fk" FOREIGN KEY ("database_id") REFERENCES "public"."databases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "pitr_segments_name_key" ON "pitr_segments" USING btree ("database_id","stream","name");--> statement-breakpoint
CREATE INDEX "pitr_segments_offset_idx" ON "pitr_segments" USING btree ("database_id","stream","start_offset");--> statement-breakpoint
CREATE INDEX "pitr_segments_account_idx" ON "pitr_segments" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "pitr_base_backups_database_idx" ON "pitr_base_backups" USING btree ("database_id","consistent_at");
