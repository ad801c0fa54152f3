ALTER TABLE "backups" ADD COLUMN "error_code" text;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "error_params" jsonb;