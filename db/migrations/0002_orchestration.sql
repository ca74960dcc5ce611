CREATE TABLE "escalation_policies" (
	"tenant_id" text NOT NULL,
	"category" text NOT NULL,
	"policy" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "escalation_policies_tenant_id_category_pk" PRIMARY KEY("tenant_id","category")
);
--> statement-breakpoint
CREATE TABLE "herald_secrets" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "preferences" (
	"tenant_id" text NOT NULL,
	"recipient_id" text NOT NULL,
	"preferences" jsonb NOT NULL,
	"version" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "preferences_tenant_id_recipient_id_pk" PRIMARY KEY("tenant_id","recipient_id")
);
--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "step" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_tenant_id_notification_id_recipient_id_channel_pk";--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_tenant_id_notification_id_recipient_id_channel_step_pk" PRIMARY KEY("tenant_id","notification_id","recipient_id","channel","step");--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "acknowledgement" jsonb;--> statement-breakpoint
ALTER TABLE "notifications" ADD COLUMN "timeline" jsonb;--> statement-breakpoint
ALTER TABLE "escalation_policies" ADD CONSTRAINT "escalation_policies_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "preferences" ADD CONSTRAINT "preferences_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;