-- Row-level security, a second wall under the tenant filters every query carries: a query run as
-- herald_tenant (db/tenant-scope.ts sets that role and herald.tenant_id for one transaction) sees and
-- writes only that tenant's rows, whatever its WHERE clause says. The owner Herald connects as is not
-- bound (ENABLE, not FORCE): authentication, the start dispatcher and the sweeps work across tenants.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'herald_tenant') THEN
    CREATE ROLE herald_tenant NOLOGIN;
  END IF;
  EXECUTE format('GRANT herald_tenant TO %I', current_user);
EXCEPTION WHEN insufficient_privilege THEN
  RAISE EXCEPTION 'Herald''s database user % may not create roles. Have an administrator run once: CREATE ROLE herald_tenant NOLOGIN; GRANT herald_tenant TO %;', current_user, current_user;
END $$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO herald_tenant;
--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO herald_tenant;
--> statement-breakpoint
GRANT SELECT, UPDATE ON "tenants" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "tenants" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "tenants" USING ("id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "api_keys" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "api_keys" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "api_keys" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "audit_events" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "audit_events" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "audit_events" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "recipients" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "recipients" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "recipients" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "notifications" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "notifications" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "notifications" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "pending_starts" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "pending_starts" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "pending_starts" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "broadcasts" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "broadcasts" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "broadcasts" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "broadcast_chunks" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "broadcast_chunks" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "broadcast_chunks" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "deliveries" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "deliveries" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "deliveries" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "dev_outbox" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "dev_outbox" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "dev_outbox" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "inbox_messages" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "inbox_messages" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "inbox_messages" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "preferences" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "preferences" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "preferences" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "escalation_policies" TO herald_tenant;
--> statement-breakpoint
ALTER TABLE "escalation_policies" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_rows" ON "escalation_policies" USING ("tenant_id" = current_setting('herald.tenant_id', true)) WITH CHECK ("tenant_id" = current_setting('herald.tenant_id', true));
