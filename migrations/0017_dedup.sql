CREATE TABLE "dedup_packs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"account_id" uuid NOT NULL,
	"database_id" uuid NOT NULL,
	"object_key" text NOT NULL,
	"upload_id" text,
	"size_bytes" bigint NOT NULL,
	"checksum" text NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dedup_chunks" (
	"account_id" uuid NOT NULL,
	"chunk_id" text NOT NULL,
	"pack_id" uuid NOT NULL,
	"offset" bigint NOT NULL,
	"length" integer NOT NULL,
	CONSTRAINT "dedup_chunks_account_id_chunk_id_pk" PRIMARY KEY("account_id","chunk_id")
);
--> statement-breakpoint
CREATE TABLE "dedup_refs" (
	"backup_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"account_id" uuid NOT NULL,
	"chunk_id" text NOT NULL,
	CONSTRAINT "dedup_refs_backup_id_seq_pk" PRIMARY KEY("backup_id","seq")
);
--> statement-breakpoint
ALTER TABLE "dedup_packs" ADD CONSTRAINT "dedup_packs_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dedup_chunks" ADD CONSTRAINT "dedup_chunks_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dedup_chunks" ADD CONSTRAINT "dedup_chunks_pack_id_dedup_packs_id_fk" FOREIGN KEY ("pack_id") REFERENCES "public"."dedup_packs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dedup_refs" ADD CONSTRAINT "dedup_refs_backup_id_backups_id_fk" FOREIGN KEY ("backup_id") REFERENCES "public"."backups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dedup_packs_account_idx" ON "dedup_packs" USING btree ("account_id","status");--> statement-breakpoint
CREATE INDEX "dedup_chunks_pack_idx" ON "dedup_chunks" USING btree ("pack_id");--> statement-breakpoint
CREATE INDEX "dedup_refs_chunk_idx" ON "dedup_refs" USING btree ("account_id","chunk_id");--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "dedup" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "backups" ADD COLUMN "logical_bytes" bigint;--> statement-breakpoint
ALTER TABLE "databases" ADD COLUMN "dedup" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
CREATE TABLE "dedup_pending" (
	"account_id" uuid PRIMARY KEY NOT NULL
);
--> statement-breakpoint
ALTER TABLE "dedup_pending" ADD CONSTRAINT "dedup_pending_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE FUNCTION dedup_mark_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO dedup_pending (account_id)
    SELECT DISTINCT o.account_id FROM old_refs o JOIN accounts a ON a.id = o.account_id
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER dedup_refs_deleted AFTER DELETE ON dedup_refs
  REFERENCING OLD TABLE AS old_refs FOR EACH STATEMENT EXECUTE FUNCTION dedup_mark_pending();
