CREATE TABLE "account_closings" (
	"account_id" uuid PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"effective_at" timestamp with time zone NOT NULL,
	"purge_at" timestamp with time zone NOT NULL,
	"reminded_7d_at" timestamp with time zone,
	"reminded_1d_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "account_closings" ADD CONSTRAINT "account_closings_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "account_closings_purge_idx" ON "account_closings" USING btree ("purge_at");--> statement-breakpoint
CREATE TABLE "account_purges" (
	"account_id" uuid PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"backups" integer DEFAULT 0 NOT NULL,
	"objects" integer DEFAULT 0 NOT NULL,
	"bytes" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
INSERT INTO "account_closings" ("account_id", "reason", "requested_at", "effective_at", "purge_at")
	SELECT "id", 'cancelled', "cancelled_at", "cancelled_at", coalesce("delete_after", "cancelled_at" + interval '30 days')
	FROM "accounts" WHERE "cancelled_at" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "accounts" DROP COLUMN "cancelled_at";--> statement-breakpoint
ALTER TABLE "accounts" DROP COLUMN "delete_after";
