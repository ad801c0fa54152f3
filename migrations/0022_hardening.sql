-- The SSO client secret leaves the `sso` JSON for a column of its own that holds it sealed with
-- the service's data key (lib/secret-box.ts, as TOTP seeds and storage location keys are).
-- SQL cannot seal (the key is a Worker secret, never in the database), so existing secrets are
-- moved here as they are and sealed by the Worker: at the next SSO log-in of the account, and by
-- the cron job `reseal-sso-secrets` within minutes of the deploy. The JSON keeps no copy.
ALTER TABLE "accounts" ADD COLUMN "sso_client_secret" text;--> statement-breakpoint
UPDATE "accounts" SET "sso_client_secret" = "sso"->>'clientSecret', "sso" = "sso" - 'clientSecret' WHERE "sso" ? 'clientSecret';
--> statement-breakpoint
-- Lists paged by (created_at, id) with cursors that carry milliseconds (lib/page.ts): API keys,
-- members, agents and billing transactions. Values with microseconds (defaultNow, Paddle's
-- timestamps) would let rows of the same millisecond as a page's last one fall between pages, as
-- 0019 found for the audit log; existing values are rounded once.
ALTER TABLE "api_keys" ALTER COLUMN "created_at" TYPE timestamp(3) with time zone;--> statement-breakpoint
ALTER TABLE "users" ALTER COLUMN "created_at" TYPE timestamp(3) with time zone;--> statement-breakpoint
ALTER TABLE "agents" ALTER COLUMN "created_at" TYPE timestamp(3) with time zone;--> statement-breakpoint
ALTER TABLE "billing_transactions" ALTER COLUMN "created_at" TYPE timestamp(3) with time zone;
