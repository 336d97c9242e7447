-- Indexes for the lookups a posting makes (what resolved a pending order, what reversed a
-- transfer), and guards on the ledger's other tables: accounts are closed, never deleted; a
-- closed year stays closed; a chain head only moves forward.

CREATE INDEX transfers_pending_of ON transfers (pending_of) WHERE pending_of IS NOT NULL;
CREATE INDEX transfers_corrects ON transfers (corrects) WHERE corrects IS NOT NULL;

CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts
BEGIN
    SELECT RAISE(ABORT, 'accounts are closed, never deleted');
END;
CREATE TRIGGER closed_years_no_update BEFORE UPDATE ON closed_years
BEGIN
    SELECT RAISE(ABORT, 'a closed year stays closed');
END;
CREATE TRIGGER closed_years_no_delete BEFORE DELETE ON closed_years
BEGIN
    SELECT RAISE(ABORT, 'a closed year stays closed');
END;
CREATE TRIGGER chain_heads_no_delete BEFORE DELETE ON chain_heads
BEGIN
    SELECT RAISE(ABORT, 'a chain head is never deleted');
END;
CREATE TRIGGER chain_heads_forward BEFORE UPDATE ON chain_heads
WHEN NEW.sequence <= OLD.sequence OR NEW.office <> OLD.office
BEGIN
    SELECT RAISE(ABORT, 'a chain head only moves forward');
END;
