//! Who may do what: the one place that decides it. The web application and the CLI ask
//! [`can`] before every write; nothing else grants or refuses.
//!
//! - a program admin writes everything;
//! - a provider office writes only its own provider's records (projects, transfers) — a
//!   province's office does not write for a nested provider such as Shenzhen;
//! - a recipient office signs off projects in its own areas (its region and everything below);
//! - an auditor reads everything and writes nothing;
//! - the public (no login) reads published aggregates only.

use crate::region::RegionTree;
use crate::{ParseError, RegionCode};
use std::fmt;

/// The role of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountRole {
    Admin,
    ProviderOffice,
    RecipientOffice,
    Auditor,
}

impl AccountRole {
    pub const ALL: [AccountRole; 4] = [
        AccountRole::Admin,
        AccountRole::ProviderOffice,
        AccountRole::RecipientOffice,
        AccountRole::Auditor,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AccountRole::Admin => "admin",
            AccountRole::ProviderOffice => "provider",
            AccountRole::RecipientOffice => "recipient",
            AccountRole::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == text)
            .ok_or_else(|| {
                ParseError::new(format!(
                    "{text:?} is not a role: admin, provider, recipient or auditor"
                ))
            })
    }

    /// Whether accounts of this role belong to an office (a region).
    pub fn has_office(self) -> bool {
        matches!(
            self,
            AccountRole::ProviderOffice | AccountRole::RecipientOffice
        )
    }
}

impl fmt::Display for AccountRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Who is asking: a signed-in account (its name, role and office), or the public.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Public,
    Account {
        name: String,
        role: AccountRole,
        office: Option<RegionCode>,
    },
}

impl Actor {
    pub fn name(&self) -> &str {
        match self {
            Actor::Public => "public",
            Actor::Account { name, .. } => name,
        }
    }

    pub fn role(&self) -> Option<AccountRole> {
        match self {
            Actor::Public => None,
            Actor::Account { role, .. } => Some(*role),
        }
    }

    pub fn office(&self) -> Option<&RegionCode> {
        match self {
            Actor::Account { office, .. } => office.as_ref(),
            Actor::Public => None,
        }
    }
}

/// What an actor wants to do, with the record it touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<'a> {
    /// Read the published aggregates (summary, compliance, the pairing proposal).
    ReadPublished,
    /// Read records: projects, transfers, people.
    ReadRecords,
    /// Read the audit log.
    ReadAudit,
    /// Record a project of this provider, or a transfer of one of its projects.
    WriteProvider { provider: &'a RegionCode },
    /// Sign off a project in this recipient area.
    SignOff { recipient: &'a RegionCode },
    /// Add, list or disable accounts.
    ManageAccounts,
}

/// Why not, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("sign in first")]
    SignInRequired,
    #[error("an account of role {role} may not {what}")]
    Role { role: AccountRole, what: String },
    #[error("office {office} may not {what}")]
    OtherOffice { office: RegionCode, what: String },
}

impl Denied {
    pub fn code(&self) -> &'static str {
        match self {
            Denied::SignInRequired => "sign_in_required",
            Denied::Role { .. } => "role_forbidden",
            Denied::OtherOffice { .. } => "other_office",
        }
    }
}

/// An action without its record: what a route does, known before anything of the request is
/// read. [`may_attempt`] decides on it alone; [`can`] then decides for the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    ReadPublished,
    ReadRecords,
    ReadAudit,
    WriteProvider,
    SignOff,
    ManageAccounts,
}

impl ActionKind {
    pub const ALL: [ActionKind; 6] = [
        ActionKind::ReadPublished,
        ActionKind::ReadRecords,
        ActionKind::ReadAudit,
        ActionKind::WriteProvider,
        ActionKind::SignOff,
        ActionKind::ManageAccounts,
    ];

    fn describe(self) -> &'static str {
        match self {
            ActionKind::ReadPublished => "read the published figures",
            ActionKind::ReadRecords => "read records",
            ActionKind::ReadAudit => "read the audit log",
            ActionKind::WriteProvider => "write a provider's records",
            ActionKind::SignOff => "sign off projects",
            ActionKind::ManageAccounts => "manage accounts",
        }
    }
}

impl Action<'_> {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::ReadPublished => ActionKind::ReadPublished,
            Action::ReadRecords => ActionKind::ReadRecords,
            Action::ReadAudit => ActionKind::ReadAudit,
            Action::WriteProvider { .. } => ActionKind::WriteProvider,
            Action::SignOff { .. } => ActionKind::SignOff,
            Action::ManageAccounts => ActionKind::ManageAccounts,
        }
    }

    fn describe(&self) -> String {
        match self {
            Action::WriteProvider { provider } => format!("write records of provider {provider}"),
            Action::SignOff { recipient } => format!("sign off projects in {recipient}"),
            other => other.kind().describe().to_owned(),
        }
    }
}

/// May `actor` ever do this kind of action, on some record? Answered from the actor alone, so
/// it is asked before a request's path, query or body is read: a caller who may not gets the
/// same refusal whatever it asked about.
pub fn may_attempt(actor: &Actor, kind: ActionKind) -> Result<(), Denied> {
    if kind == ActionKind::ReadPublished {
        return Ok(());
    }
    let Actor::Account { role, office, .. } = actor else {
        return Err(Denied::SignInRequired);
    };
    let allowed = match (role, kind) {
        (AccountRole::Admin, _) | (_, ActionKind::ReadRecords) => true,
        (AccountRole::Auditor, ActionKind::ReadAudit) => true,
        (AccountRole::ProviderOffice, ActionKind::WriteProvider)
        | (AccountRole::RecipientOffice, ActionKind::SignOff) => office.is_some(),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied::Role {
            role: *role,
            what: kind.describe().to_owned(),
        })
    }
}

/// May `actor` do `action`? `tree` says which areas lie within an office's region.
pub fn can(actor: &Actor, action: &Action<'_>, tree: &RegionTree) -> Result<(), Denied> {
    may_attempt(actor, action.kind()).map_err(|denied| match denied {
        Denied::Role { role, .. } => Denied::Role {
            role,
            what: action.describe(),
        },
        other => other,
    })?;
    let office_denied = |office: &RegionCode| Denied::OtherOffice {
        office: office.clone(),
        what: action.describe(),
    };
    match (actor.office(), action) {
        (Some(office), Action::WriteProvider { provider })
            if actor.role() == Some(AccountRole::ProviderOffice) && office != *provider =>
        {
            Err(office_denied(office))
        }
        (Some(office), Action::SignOff { recipient })
            if actor.role() == Some(AccountRole::RecipientOffice)
                && !tree.is_within(recipient, office) =>
        {
            Err(office_denied(office))
        }
        _ => Ok(()),
    }
}
