ALTER TABLE "notification_channels" ADD COLUMN "routing_key" text;--> statement-breakpoint
ALTER TABLE "notification_channels" ADD COLUMN "syslog_host" text;--> statement-breakpoint
ALTER TABLE "notification_channels" ADD COLUMN "syslog_port" integer;--> statement-breakpoint
ALTER TABLE "notification_channels" ADD COLUMN "syslog_transport" text;--> statement-breakpoint
ALTER TABLE "databases" ADD COLUMN "source" jsonb;
