CREATE TABLE "inbox_token_revocations" (
	"tenant_id" text NOT NULL,
	"recipient_hash" text NOT NULL,
	"revoked_at" timestamp with time zone NOT NULL,
	CONSTRAINT "inbox_token_revocations_tenant_id_recipient_hash_pk" PRIMARY KEY("tenant_id","recipient_hash")
);
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "inbox_token_revocations" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "inbox_token_revocations" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "inbox_token_revocations" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
