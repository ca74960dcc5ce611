CREATE TABLE "inbox_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"recipient_id" text NOT NULL,
	"kind" text NOT NULL,
	"message_ids" integer[] NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "inbox_events_recipient" ON "inbox_events" USING btree ("tenant_id","recipient_id","id");--> statement-breakpoint
CREATE INDEX "inbox_events_at" ON "inbox_events" USING btree ("at");--> statement-breakpoint
GRANT SELECT, INSERT, DELETE ON "inbox_events" TO herald_tenant;
--> statement-breakpoint
GRANT USAGE, SELECT ON SEQUENCE "inbox_events_id_seq" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "inbox_events" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "inbox_events" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
-- Each event is announced by id on commit.
CREATE FUNCTION herald_inbox_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('herald_inbox', json_build_array(NEW.tenant_id, NEW.recipient_id, NEW.id)::text);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "inbox_events_announced" AFTER INSERT ON "inbox_events" FOR EACH ROW EXECUTE FUNCTION herald_inbox_announce();
--> statement-breakpoint
-- One event per recipient per statement, its message ids in order.
CREATE FUNCTION herald_inbox_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO inbox_events (tenant_id, recipient_id, kind, message_ids)
  SELECT tenant_id, recipient_id, TG_ARGV[0], array_agg(id ORDER BY id) FROM changed_rows GROUP BY tenant_id, recipient_id;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- A change is an event only when a state moved: a retried send's no-op update is none.
CREATE FUNCTION herald_inbox_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO inbox_events (tenant_id, recipient_id, kind, message_ids)
  SELECT n.tenant_id, n.recipient_id, 'changed', array_agg(n.id ORDER BY n.id)
  FROM new_rows n JOIN old_rows o ON o.id = n.id
  WHERE (n.seen_at, n.read_at, n.interacted_at, n.archived_at, n.snoozed_until)
    IS DISTINCT FROM (o.seen_at, o.read_at, o.interacted_at, o.archived_at, o.snoozed_until)
  GROUP BY n.tenant_id, n.recipient_id;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "inbox_messages_added" AFTER INSERT ON "inbox_messages" REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_inbox_event('added');
--> statement-breakpoint
CREATE TRIGGER "inbox_messages_deleted" AFTER DELETE ON "inbox_messages" REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_inbox_event('deleted');
--> statement-breakpoint
CREATE TRIGGER "inbox_messages_changed" AFTER UPDATE ON "inbox_messages" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_inbox_changed();
