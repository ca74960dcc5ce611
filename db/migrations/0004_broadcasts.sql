CREATE TABLE "broadcast_chunks" (
	"tenant_id" text NOT NULL,
	"broadcast_id" text NOT NULL,
	"chunk" integer NOT NULL,
	"recipients" jsonb NOT NULL,
	CONSTRAINT "broadcast_chunks_tenant_id_broadcast_id_chunk_pk" PRIMARY KEY("tenant_id","broadcast_id","chunk")
);
--> statement-breakpoint
CREATE TABLE "broadcasts" (
	"tenant_id" text NOT NULL,
	"id" text NOT NULL,
	"status" text NOT NULL,
	"priority" text NOT NULL,
	"channels" jsonb NOT NULL,
	"category" text,
	"request_hash" text NOT NULL,
	"recipient_count" integer NOT NULL,
	"chunk_count" integer NOT NULL,
	"chunks_completed" integer DEFAULT 0 NOT NULL,
	"chunks_failed" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "broadcasts_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "broadcasts" ADD CONSTRAINT "broadcasts_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;