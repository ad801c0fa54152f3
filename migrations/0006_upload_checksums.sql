ALTER TABLE "backups" ADD COLUMN "part_checksum" text;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "storage_checksum" text;
