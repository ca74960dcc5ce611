CREATE TABLE "pending_starts" (
	"workflow_id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"task_queue" text NOT NULL,
	"priority" integer NOT NULL,
	"request" jsonb NOT NULL,
	"trace" jsonb,
	"accepted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"claimed_until" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "pending_starts_order" ON "pending_starts" USING btree ("task_queue","priority","accepted_at");