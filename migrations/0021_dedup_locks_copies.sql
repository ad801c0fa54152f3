ALTER TABLE "dedup_packs" ADD COLUMN "locked_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "dedup_packs" ADD COLUMN "retired_at" timestamp with time zone;--> statement-breakpoint
CREATE TABLE "dedup_pack_copies" (
	"pack_id" uuid NOT NULL,
	"bucket" text NOT NULL,
	"account_id" uuid NOT NULL,
	"object_key" text NOT NULL,
	"sha256" text NOT NULL,
	"locked_until" timestamp with time zone,
	"copied_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dedup_pack_copies_pack_id_bucket_pk" PRIMARY KEY("pack_id","bucket")
);
--> statement-breakpoint
ALTER TABLE "dedup_pack_copies" ADD CONSTRAINT "dedup_pack_copies_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dedup_pack_copies_account_idx" ON "dedup_pack_copies" USING btree ("account_id");
