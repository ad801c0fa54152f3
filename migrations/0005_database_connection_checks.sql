ALTER TABLE "databases" ADD COLUMN "check_status" text;--> statement-breakpoint
ALTER TABLE "databases" ADD COLUMN "check_requested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "databases" ADD COLUMN "checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "databases" ADD COLUMN "check_result" jsonb;
