CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"name" text NOT NULL,
	"hash" text NOT NULL,
	"scopes" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_hash_unique" UNIQUE("hash")
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" serial PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"notification_id" text,
	"target" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "seen_webhooks" (
	"signature" text PRIMARY KEY NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "rate_per_second" integer;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "burst" integer;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "daily_quota" integer;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_tenant" ON "api_keys" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "audit_events_tenant_notification" ON "audit_events" USING btree ("tenant_id","notification_id");--> statement-breakpoint
CREATE INDEX "audit_events_tenant_id" ON "audit_events" USING btree ("tenant_id","id");--> statement-breakpoint
INSERT INTO "api_keys" ("id", "tenant_id", "name", "hash", "scopes") SELECT 'hk_' || substr("api_key_hash", 1, 10), "id", 'migrated', "api_key_hash", '["send","read","admin"]'::jsonb FROM "tenants" WHERE "api_key_hash" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "tenants" DROP COLUMN "api_key_hash";
