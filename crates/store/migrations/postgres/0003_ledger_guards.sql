-- Indexes for the lookups a posting makes (what resolved a pending order, what reversed a
-- transfer), and guards on the ledger's other tables: accounts are closed, never deleted; a
-- closed year stays closed; a chain head only moves forward; no TRUNCATE of money tables.
-- Then the privileges: the role the app writes as may insert money rows, never update or
-- delete them, so the rule holds even with the triggers dropped.

CREATE INDEX transfers_pending_of ON transfers (pending_of) WHERE pending_of IS NOT NULL;
CREATE INDEX transfers_corrects ON transfers (corrects) WHERE corrects IS NOT NULL;

CREATE FUNCTION ledger_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END
$$;
CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse('accounts are closed, never deleted');
CREATE TRIGGER closed_years_no_change BEFORE UPDATE OR DELETE ON closed_years
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse('a closed year stays closed');
CREATE TRIGGER chain_heads_no_delete BEFORE DELETE ON chain_heads
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse('a chain head is never deleted');
CREATE TRIGGER chain_heads_forward BEFORE UPDATE ON chain_heads
    FOR EACH ROW WHEN (NEW.sequence <= OLD.sequence OR NEW.office <> OLD.office)
    EXECUTE FUNCTION ledger_refuse('a chain head only moves forward');
CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse('transfers are immutable: book a reversal or an adjustment');
CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON journal
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse('the journal is immutable');
CREATE TRIGGER accounts_no_truncate BEFORE TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse('accounts are closed, never deleted');

REVOKE UPDATE, DELETE, TRUNCATE ON transfers, journal FROM PUBLIC;
REVOKE DELETE, TRUNCATE ON accounts, chain_heads, closed_years FROM PUBLIC;

-- The writer role (cluster-wide, created once where the migrating user may create roles):
-- read everything, insert records, update only cached balances and chain heads.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'counterpart_writer')
       AND (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
        CREATE ROLE counterpart_writer NOLOGIN;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'counterpart_writer') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO counterpart_writer', current_schema());
        EXECUTE format('GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA %I TO counterpart_writer', current_schema());
        GRANT UPDATE ON accounts, chain_heads TO counterpart_writer;
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
           OR pg_has_role(current_user, 'counterpart_writer', 'MEMBER') THEN
            NULL;
        ELSE
            EXECUTE format('GRANT counterpart_writer TO %I', current_user);
        END IF;
    END IF;
END
$$;
