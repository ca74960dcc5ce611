-- Templates and their versions, experiments and who saw which variant, and the links messages carry
-- through the click redirect; each tenant table under the row-level security policy of 0007.
CREATE TABLE "experiment_exposures" (
	"tenant_id" text NOT NULL,
	"experiment_id" text NOT NULL,
	"recipient_id" text NOT NULL,
	"variant" text NOT NULL,
	"exposed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"converted_at" timestamp with time zone,
	"failed_at" timestamp with time zone,
	"unsubscribed_at" timestamp with time zone,
	CONSTRAINT "experiment_exposures_experiment_id_recipient_id_pk" PRIMARY KEY("experiment_id","recipient_id")
);
--> statement-breakpoint
CREATE TABLE "experiments" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"template_key" text NOT NULL,
	"variants" jsonb NOT NULL,
	"metric" text NOT NULL,
	"alpha" double precision NOT NULL,
	"expected_lift" double precision,
	"min_samples" integer NOT NULL,
	"min_duration_seconds" integer NOT NULL,
	"max_duration_seconds" integer,
	"guardrails" jsonb,
	"state" text NOT NULL,
	"result" jsonb,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "template_versions" (
	"tenant_id" text NOT NULL,
	"key" text NOT NULL,
	"version" integer NOT NULL,
	"content_hash" text NOT NULL,
	"content" jsonb NOT NULL,
	"compiled_email_html" text,
	"references" jsonb NOT NULL,
	"missing_translations" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "template_versions_tenant_id_key_version_pk" PRIMARY KEY("tenant_id","key","version")
);
--> statement-breakpoint
CREATE TABLE "templates" (
	"tenant_id" text NOT NULL,
	"key" text NOT NULL,
	"live_version" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "templates_tenant_id_key_pk" PRIMARY KEY("tenant_id","key")
);
--> statement-breakpoint
CREATE TABLE "tracked_links" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"notification_id" text NOT NULL,
	"recipient_id" text NOT NULL,
	"channel" text NOT NULL,
	"step" integer DEFAULT 0 NOT NULL,
	"url" text NOT NULL,
	"experiment_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"clicked_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "detail" text;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "default_locale" text;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "click_tracking" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "templates" ADD CONSTRAINT "templates_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "experiment_exposures_variant" ON "experiment_exposures" USING btree ("experiment_id","variant");--> statement-breakpoint
CREATE INDEX "experiments_tenant_template" ON "experiments" USING btree ("tenant_id","template_key");--> statement-breakpoint
CREATE UNIQUE INDEX "experiments_one_running" ON "experiments" USING btree ("tenant_id","template_key") WHERE state = 'running';--> statement-breakpoint
CREATE UNIQUE INDEX "template_versions_content" ON "template_versions" USING btree ("tenant_id","key","content_hash");--> statement-breakpoint
CREATE INDEX "tracked_links_notification" ON "tracked_links" USING btree ("tenant_id","notification_id");--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "templates" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "templates" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "templates" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "template_versions" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "template_versions" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "template_versions" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "experiments" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "experiments" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "experiments" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "experiment_exposures" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "experiment_exposures" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "experiment_exposures" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "tracked_links" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "tracked_links" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "tracked_links" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
