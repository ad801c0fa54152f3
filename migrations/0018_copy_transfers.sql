-- Issue 18, the second storage location: a copy the agent transfers has its own multipart upload
-- at the second location while it runs (retention/copies.ts).
ALTER TABLE "backup_copies" ADD COLUMN "upload_id" text;--> statement-breakpoint
CREATE INDEX "backup_copies_transfer_idx" ON "backup_copies" USING btree ("account_id") WHERE status = 'pending' AND method = 'transfer';
