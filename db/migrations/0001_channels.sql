CREATE TABLE "inbox_messages" (
	"id" serial PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"recipient_id" text NOT NULL,
	"notification_id" text NOT NULL,
	"delivery_key" text NOT NULL,
	"category" text,
	"subject" text,
	"text" text NOT NULL,
	"html" text,
	"actions" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"read_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbox_messages_delivery_key_unique" UNIQUE("delivery_key")
);
--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "providers_tried" jsonb;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "details" jsonb;--> statement-breakpoint
ALTER TABLE "dev_outbox" ADD COLUMN "details" jsonb;--> statement-breakpoint
ALTER TABLE "recipients" ADD COLUMN "telegram_chat_id" text;--> statement-breakpoint
ALTER TABLE "recipients" ADD COLUMN "slack_webhook_url" text;--> statement-breakpoint
ALTER TABLE "recipients" ADD COLUMN "discord_webhook_url" text;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "webhook_url" text;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "webhook_secret" text;--> statement-breakpoint
CREATE INDEX "inbox_messages_recipient" ON "inbox_messages" USING btree ("tenant_id","recipient_id","id");