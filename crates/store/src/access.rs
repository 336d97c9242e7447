//! What the web application asks of a database beyond the records: accounts, sessions and API
//! tokens (secrets only as hashes), the append-only audit log, recipient sign-offs, and paged,
//! filtered reads of projects and transfers. Implemented once for every [`Backend`].

use crate::StoreError;
use crate::codec::Table;
use crate::sql::{
    Affected, Backend, MAX_BOUND_VALUES, count_of, decode_rows, insert_audit, insert_rows, only,
};
use async_trait::async_trait;
use counterpart_domain::access::AccountRole;
use counterpart_domain::project::{
    Category, Project, ProjectStatus, ProjectStep, Transfer, TransferKind,
};
use counterpart_domain::{RecordId, RegionCode, Year};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

/// An account of the web application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: AccountRole,
    /// The provider or recipient region of an office account.
    pub office: Option<RegionCode>,
    /// The argon2 hash in PHC string form.
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: String,
}

/// A signed-in browser: the hash of its cookie's token, its CSRF token and when it expires
/// (seconds since the Unix epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub user: String,
    pub csrf: String,
    pub expires_at: i64,
}

/// One line of the audit log: who did what to which record, with the record before and after
/// (JSON), written in the transaction of the write itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A stored audit line with its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub entry: AuditEntry,
}

/// A recipient office's confirmation that a project arrived as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOff {
    pub project: RecordId,
    pub office: RegionCode,
    pub signed_by: String,
    pub at: String,
}

/// Which projects (and their transfers) to read. Every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectFilter {
    pub provider: Option<RegionCode>,
    /// Recipients in any of these regions (an area and everything below it).
    pub recipients: Option<Vec<RegionCode>>,
    pub category: Option<Category>,
    pub year: Option<Year>,
    pub status: Option<ProjectStatus>,
}

/// Which transfers to read: those of the filtered projects, of one project, of one kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferFilter {
    pub projects: ProjectFilter,
    pub project: Option<RecordId>,
    pub kind: Option<TransferKind>,
}

/// One page of a longer list, and the length of the whole list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// Accounts, sessions, API tokens and the audit log.
#[async_trait]
pub trait Access: Send + Sync {
    /// Add an account; `false` when the name is taken (nothing written).
    async fn add_user(&self, user: &User, audit: &AuditEntry) -> Result<bool, StoreError>;
    async fn users(&self) -> Result<Vec<User>, StoreError>;
    async fn user(&self, name: &str) -> Result<Option<User>, StoreError>;
    /// Disable or enable an account; disabling ends its sessions. `false` when it does not
    /// exist.
    async fn set_disabled(
        &self,
        name: &str,
        disabled: bool,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError>;
    /// Give an account a new password hash and end its sessions but `keep` (the one that
    /// changed it, if any); `false` when it does not exist (nothing written).
    async fn set_password(
        &self,
        name: &str,
        password_hash: &str,
        keep: Option<&str>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError>;
    /// An account's TOTP secret (base32), if it has a second factor.
    async fn totp_secret(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// Give an account a TOTP secret, or take it away (`None`); its sessions end either way.
    /// `false` when the account does not exist (nothing written).
    async fn set_totp(
        &self,
        name: &str,
        secret: Option<&str>,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError>;
    /// Spend the code of time step `step`: `true` only if no code of this step or a later one
    /// was accepted before (a code signs in once).
    async fn spend_totp_step(&self, name: &str, step: i64) -> Result<bool, StoreError>;
    async fn create_session(&self, session: &Session) -> Result<(), StoreError>;
    /// The session with this token hash and its account, unless expired at `now`.
    async fn session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<(Session, User)>, StoreError>;
    async fn end_session(&self, token_hash: &str) -> Result<(), StoreError>;
    async fn add_token(
        &self,
        token_hash: &str,
        user: &str,
        label: &str,
        audit: &AuditEntry,
    ) -> Result<(), StoreError>;
    /// The account an API token belongs to.
    async fn token_user(&self, token_hash: &str) -> Result<Option<User>, StoreError>;
    /// The audit log, newest first, below `before` (an id) when given.
    async fn audit_log(&self, before: Option<i64>, limit: u64)
    -> Result<Vec<AuditRow>, StoreError>;
    /// Record a sign-off; `false` when the project was already signed off (nothing written).
    async fn sign_off(&self, signoff: &SignOff, audit: &AuditEntry) -> Result<bool, StoreError>;
    async fn signoff(&self, project: &RecordId) -> Result<Option<SignOff>, StoreError>;
    /// Record the next step of a project's life and move its status there, in one transaction;
    /// `false` when the project's status is no longer `from` (another office moved it first:
    /// nothing written).
    async fn record_step(
        &self,
        step: &ProjectStep,
        from: ProjectStatus,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError>;
    /// A project's recorded steps, in the order of its life.
    async fn project_steps(&self, project: &RecordId) -> Result<Vec<ProjectStep>, StoreError>;
    /// Projects matching `filter`, newest year first, then by id.
    async fn projects_page(
        &self,
        filter: &ProjectFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<Project>, StoreError>;
    /// How many projects match `filter`.
    async fn projects_count(&self, filter: &ProjectFilter) -> Result<u64, StoreError>;
    async fn project(&self, id: &RecordId) -> Result<Option<Project>, StoreError>;
    /// Transfers matching `filter`, latest value date first, then by id.
    async fn transfers_page(
        &self,
        filter: &TransferFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<Transfer>, StoreError>;
    /// How many transfers match `filter`.
    async fn transfers_count(&self, filter: &TransferFilter) -> Result<u64, StoreError>;
    /// A value that changes whenever the records a report reads change: postings and loads move
    /// the offices' chain heads, every other write adds an audit line, closing a year adds a
    /// closed year. Cheap (three small lookups), for caching computed reports.
    async fn data_version(&self) -> Result<String, StoreError>;
    /// Projects matching `filter` that are finished (completed, handed over, in operation) and
    /// await their recipient office's sign-off: what a recipient office has to confirm, and
    /// what a provider office waits for.
    async fn awaiting_signoff(
        &self,
        filter: &ProjectFilter,
        limit: u64,
    ) -> Result<Page<Project>, StoreError>;
}

pub(crate) const USER_COLUMNS: &str = "name, role, office, password_hash, disabled, created_at";

pub(crate) type UserRow = (String, String, Option<String>, String, i64, String);

pub(crate) fn user_of(row: UserRow) -> Result<User, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        table: "users",
        detail,
    };
    Ok(User {
        role: AccountRole::parse(&row.1).map_err(|e| corrupt(e.to_string()))?,
        office: row
            .2
            .map(|o| RegionCode::parse(&o))
            .transpose()
            .map_err(|e| corrupt(e.to_string()))?,
        name: row.0,
        password_hash: row.3,
        disabled: row.4 != 0,
        created_at: row.5,
    })
}

/// `WHERE …` of a project filter over projects aliased `p`.
fn push_project_filter<DB: Database>(query: &mut sqlx::QueryBuilder<'_, DB>, filter: &ProjectFilter)
where
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
{
    query.push(" WHERE 1 = 1");
    if let Some(provider) = &filter.provider {
        query
            .push(" AND p.provider = ")
            .push_bind(provider.to_string());
    }
    if let Some(recipients) = &filter.recipients {
        query.push(" AND p.recipient IN (");
        let mut list = query.separated(", ");
        list.push_bind(String::new());
        for r in recipients.iter().take(MAX_BOUND_VALUES / 2) {
            list.push_bind(r.to_string());
        }
        query.push(")");
    }
    if let Some(category) = filter.category {
        query.push(" AND p.category = ").push_bind(category.code());
    }
    if let Some(year) = filter.year {
        query
            .push(" AND p.year = ")
            .push_bind(i64::from(year.get()));
    }
    if let Some(status) = filter.status {
        query.push(" AND p.status = ").push_bind(status.code());
    }
}

/// Without a condition on projects, read the transfers alone (their own indexes give the
/// order); otherwise join the projects the filter names.
fn transfers_from(filter: &TransferFilter) -> &'static str {
    if filter.projects == ProjectFilter::default() {
        " FROM transfers t"
    } else {
        " FROM transfers t JOIN projects p ON p.id = t.project"
    }
}

fn push_transfer_filter<DB: Database>(
    query: &mut sqlx::QueryBuilder<'_, DB>,
    filter: &TransferFilter,
) where
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
{
    if filter.projects == ProjectFilter::default() {
        query.push(" WHERE 1 = 1");
    } else {
        push_project_filter(query, &filter.projects);
    }
    if let Some(project) = &filter.project {
        query
            .push(" AND t.project = ")
            .push_bind(project.to_string());
    }
    if let Some(kind) = filter.kind {
        query.push(" AND t.kind = ").push_bind(kind.code());
    }
}

/// `ORDER BY … LIMIT … OFFSET …`.
fn push_page<DB: Database>(
    query: &mut sqlx::QueryBuilder<'_, DB>,
    order: &str,
    offset: u64,
    limit: u64,
) where
    for<'q> i64: Encode<'q, DB> + Type<DB>,
{
    query
        .push(order)
        .push(" LIMIT ")
        .push_bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .push(" OFFSET ")
        .push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
}

fn columns_of(table: &'static Table, alias: &str) -> String {
    table
        .columns
        .iter()
        .map(|c| format!("{alias}.{}", c.0))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait]
impl<B> Access for B
where
    B: Backend,
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    usize: ColumnIndex<<B::Db as Database>::Row>,
    for<'q> i64: Encode<'q, B::Db> + Decode<'q, B::Db> + Type<B::Db>,
    for<'q> String: Encode<'q, B::Db> + Decode<'q, B::Db> + Type<B::Db>,
    for<'q> Option<i64>: Encode<'q, B::Db>,
    for<'q> Option<String>: Encode<'q, B::Db>,
    for<'q> &'q str: Encode<'q, B::Db> + Type<B::Db>,
{
    async fn add_user(
        &self,
        user: &crate::User,
        audit: &crate::AuditEntry,
    ) -> Result<bool, crate::StoreError> {
        let _writer = self.write_turn().await;
        let mut tx = self.pool().begin_with(B::BEGIN).await?;
        let added = sqlx::query(&format!(
            "INSERT INTO users ({}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
            USER_COLUMNS
        ))
        .bind(&user.name)
        .bind(user.role.code())
        .bind(user.office.as_ref().map(|o| o.to_string()))
        .bind(&user.password_hash)
        .bind(i64::from(user.disabled))
        .bind(&user.created_at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if added {
            insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
        }
        Ok(added)
    }

    async fn users(&self) -> Result<Vec<crate::User>, crate::StoreError> {
        let rows: Vec<UserRow> =
            sqlx::query_as(&format!("SELECT {} FROM users ORDER BY name", USER_COLUMNS))
                .fetch_all(self.pool())
                .await?;
        rows.into_iter().map(user_of).collect()
    }

    async fn user(&self, name: &str) -> Result<Option<crate::User>, crate::StoreError> {
        let row: Option<UserRow> = sqlx::query_as(&format!(
            "SELECT {} FROM users WHERE name = $1",
            USER_COLUMNS
        ))
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.map(user_of).transpose()
    }

    async fn set_disabled(
        &self,
        name: &str,
        disabled: bool,
        audit: &crate::AuditEntry,
    ) -> Result<bool, crate::StoreError> {
        let _writer = self.write_turn().await;
        let mut tx = self.pool().begin_with(B::BEGIN).await?;
        let found = sqlx::query("UPDATE users SET disabled = $1 WHERE name = $2")
            .bind(i64::from(disabled))
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !found {
            return Ok(false);
        }
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn set_password(
        &self,
        name: &str,
        password_hash: &str,
        keep: Option<&str>,
        audit: &crate::AuditEntry,
    ) -> Result<bool, crate::StoreError> {
        let _writer = self.write_turn().await;
        let mut tx = self.pool().begin_with(B::BEGIN).await?;
        let found = sqlx::query("UPDATE users SET password_hash = $1 WHERE name = $2")
            .bind(password_hash)
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !found {
            return Ok(false);
        }
        sqlx::query("DELETE FROM sessions WHERE user_name = $1 AND token_hash <> $2")
            .bind(name)
            .bind(keep.unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn totp_secret(&self, name: &str) -> Result<Option<String>, crate::StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT secret FROM user_totp WHERE user_name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(secret,)| secret))
    }

    async fn set_totp(
        &self,
        name: &str,
        secret: Option<&str>,
        audit: &crate::AuditEntry,
    ) -> Result<bool, crate::StoreError> {
        let _writer = self.write_turn().await;
        let mut tx = self.pool().begin_with(B::BEGIN).await?;
        let exists: Option<(String,)> = sqlx::query_as("SELECT name FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Ok(false);
        }
        sqlx::query("DELETE FROM user_totp WHERE user_name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if let Some(secret) = secret {
            sqlx::query("INSERT INTO user_totp (user_name, secret, last_step) VALUES ($1, $2, 0)")
                .bind(name)
                .bind(secret)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM sessions WHERE user_name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn spend_totp_step(&self, name: &str, step: i64) -> Result<bool, crate::StoreError> {
        let _writer = self.write_turn().await;
        // Each placeholder once: SQLite's driver does not reuse a numbered one.
        let spent = sqlx::query(
            "UPDATE user_totp SET last_step = $1 WHERE user_name = $2 AND last_step < $3",
        )
        .bind(step)
        .bind(name)
        .bind(step)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(spent == 1)
    }

    async fn create_session(&self, session: &crate::Session) -> Result<(), crate::StoreError> {
        let _writer = self.write_turn().await;
        sqlx::query("INSERT INTO sessions (token_hash, user_name, csrf, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(&session.token_hash)
                    .bind(&session.user)
                    .bind(&session.csrf)
                    .bind(session.expires_at)
                    .execute(self.pool())
                    .await?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<(crate::Session, crate::User)>, crate::StoreError> {
        let row: Option<(String, String, i64, String, String, Option<String>, String, i64, String)> =
                    sqlx::query_as(
                        "SELECT s.user_name, s.csrf, s.expires_at, u.name, u.role, u.office, u.password_hash, \
                         u.disabled, u.created_at FROM sessions s JOIN users u ON u.name = s.user_name \
                         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
                    )
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(self.pool())
                    .await?;
        let Some((user_name, csrf, expires_at, name, role, office, hash, disabled, created)) = row
        else {
            return Ok(None);
        };
        let user = user_of((name, role, office, hash, disabled, created))?;
        let session = crate::Session {
            token_hash: token_hash.to_owned(),
            user: user_name,
            csrf,
            expires_at,
        };
        Ok(Some((session, user)))
    }

    async fn end_session(&self, token_hash: &str) -> Result<(), crate::StoreError> {
        let _writer = self.write_turn().await;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn add_token(
        &self,
        token_hash: &str,
        user: &str,
        label: &str,
        audit: &crate::AuditEntry,
    ) -> Result<(), crate::StoreError> {
        let _writer = self.write_turn().await;
        let mut tx = self.pool().begin_with(B::BEGIN).await?;
        sqlx::query("INSERT INTO api_tokens (token_hash, user_name, label, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(token_hash)
                    .bind(user)
                    .bind(label)
                    .bind(&audit.at)
                    .execute(&mut *tx)
                    .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn token_user(&self, token_hash: &str) -> Result<Option<crate::User>, crate::StoreError> {
        let row: Option<UserRow> = sqlx::query_as(
                    "SELECT u.name, u.role, u.office, u.password_hash, u.disabled, u.created_at \
                     FROM api_tokens t JOIN users u ON u.name = t.user_name WHERE t.token_hash = $1 AND u.disabled = 0",
                )
                .bind(token_hash)
                .fetch_optional(self.pool())
                .await?;
        row.map(user_of).transpose()
    }

    async fn audit_log(
        &self,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<crate::AuditRow>, crate::StoreError> {
        let rows: Vec<(
            i64,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
        )> = sqlx::query_as(
            "SELECT id, at, actor, action, target, before, after FROM audit_log \
                         WHERE id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, at, actor, action, target, before, after)| crate::AuditRow {
                    id,
                    entry: crate::AuditEntry {
                        at,
                        actor,
                        action,
                        target,
                        before,
                        after,
                    },
                },
            )
            .collect())
    }

    async fn sign_off(
        &self,
        signoff: &crate::SignOff,
        audit: &crate::AuditEntry,
    ) -> Result<bool, crate::StoreError> {
        let _writer = self.write_turn().await;
        let mut tx = self.pool().begin_with(B::BEGIN).await?;
        let added = sqlx::query(
            "INSERT INTO signoffs (project, office, signed_by, at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (project) DO NOTHING",
        )
        .bind(signoff.project.to_string())
        .bind(signoff.office.to_string())
        .bind(&signoff.signed_by)
        .bind(&signoff.at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if added {
            insert_audit(&mut tx, audit).await?;
            tx.commit().await?;
        }
        Ok(added)
    }

    async fn record_step(
        &self,
        step: &counterpart_domain::project::ProjectStep,
        from: counterpart_domain::project::ProjectStatus,
        audit: &crate::AuditEntry,
    ) -> Result<bool, crate::StoreError> {
        let _writer = self.write_turn().await;
        let mut tx = self.pool().begin_with(B::BEGIN).await?;
        let moved = sqlx::query("UPDATE projects SET status = $1 WHERE id = $2 AND status = $3")
            .bind(step.status.code())
            .bind(step.project.to_string())
            .bind(from.code())
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !moved {
            return Ok(false);
        }
        let records = counterpart_domain::records::Records {
            project_steps: vec![step.clone()],
            ..Default::default()
        };
        for (table, rows) in crate::codec::encode(&records) {
            insert_rows::<B>(&mut tx, table, &rows, &mut |_| {}).await?;
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn project_steps(
        &self,
        project: &counterpart_domain::RecordId,
    ) -> Result<Vec<counterpart_domain::project::ProjectStep>, crate::StoreError> {
        let table = &crate::codec::PROJECT_STEPS;
        let rows = sqlx::query(&format!(
            "SELECT {} FROM project_steps s WHERE s.project = $1",
            columns_of(table, "s")
        ))
        .bind(project.to_string())
        .fetch_all(self.pool())
        .await?;
        let mut steps = decode_rows(table, &rows)?.project_steps;
        steps.sort_by_key(|s| (s.date, s.status));
        Ok(steps)
    }

    async fn signoff(
        &self,
        project: &counterpart_domain::RecordId,
    ) -> Result<Option<crate::SignOff>, crate::StoreError> {
        let row: Option<(String, String, String)> =
            sqlx::query_as("SELECT office, signed_by, at FROM signoffs WHERE project = $1")
                .bind(project.to_string())
                .fetch_optional(self.pool())
                .await?;
        let Some((office, signed_by, at)) = row else {
            return Ok(None);
        };
        Ok(Some(crate::SignOff {
            project: project.clone(),
            office: counterpart_domain::RegionCode::parse(&office)
                .map_err(crate::sql::corrupt("signoffs"))?,
            signed_by,
            at,
        }))
    }

    async fn projects_page(
        &self,
        filter: &crate::ProjectFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<counterpart_domain::project::Project>, crate::StoreError> {
        let table = &crate::codec::PROJECTS;
        let mut query = sqlx::QueryBuilder::<B::Db>::new(format!(
            "SELECT {} FROM projects p",
            columns_of(table, "p")
        ));
        push_project_filter(&mut query, filter);
        push_page(&mut query, " ORDER BY p.year DESC, p.id", offset, limit);
        let rows = B::fetch_built(&mut query, &mut *self.pool().acquire().await?).await?;
        Ok(decode_rows(table, &rows)?.projects)
    }

    async fn projects_count(
        &self,
        filter: &crate::ProjectFilter,
    ) -> Result<u64, crate::StoreError> {
        let mut count =
            sqlx::QueryBuilder::<B::Db>::new("SELECT CAST(COUNT(*) AS BIGINT) FROM projects p");
        push_project_filter(&mut count, filter);
        let total = count_of(
            &only(B::fetch_built(&mut count, &mut *self.pool().acquire().await?).await?)?,
            0,
        )?;
        Ok(total)
    }

    async fn project(
        &self,
        id: &counterpart_domain::RecordId,
    ) -> Result<Option<counterpart_domain::project::Project>, crate::StoreError> {
        let table = &crate::codec::PROJECTS;
        let rows = sqlx::query(&format!(
            "SELECT {} FROM projects p WHERE p.id = $1",
            columns_of(table, "p")
        ))
        .bind(id.to_string())
        .fetch_all(self.pool())
        .await?;
        Ok(decode_rows(table, &rows)?.projects.pop())
    }

    async fn transfers_page(
        &self,
        filter: &crate::TransferFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<counterpart_domain::project::Transfer>, crate::StoreError> {
        let table = &crate::codec::TRANSFERS;
        let mut query = sqlx::QueryBuilder::<B::Db>::new(format!(
            "SELECT {}{}",
            columns_of(table, "t"),
            transfers_from(filter)
        ));
        push_transfer_filter(&mut query, filter);
        push_page(
            &mut query,
            " ORDER BY t.value_date DESC, t.id",
            offset,
            limit,
        );
        let rows = B::fetch_built(&mut query, &mut *self.pool().acquire().await?).await?;
        Ok(decode_rows(table, &rows)?.transfers)
    }

    async fn transfers_count(
        &self,
        filter: &crate::TransferFilter,
    ) -> Result<u64, crate::StoreError> {
        let mut count = sqlx::QueryBuilder::<B::Db>::new(format!(
            "SELECT CAST(COUNT(*) AS BIGINT){}",
            transfers_from(filter)
        ));
        push_transfer_filter(&mut count, filter);
        let total = count_of(
            &only(B::fetch_built(&mut count, &mut *self.pool().acquire().await?).await?)?,
            0,
        )?;
        Ok(total)
    }

    async fn data_version(&self) -> Result<String, crate::StoreError> {
        let (chains, audit, closed): (i64, i64, i64) = sqlx::query_as(
            "SELECT CAST((SELECT COALESCE(SUM(sequence), 0) FROM chain_heads) AS BIGINT), \
                     CAST((SELECT COALESCE(MAX(id), 0) FROM audit_log) AS BIGINT), \
                     CAST((SELECT COUNT(*) FROM closed_years) AS BIGINT)",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(format!("{chains}.{audit}.{closed}"))
    }

    async fn awaiting_signoff(
        &self,
        filter: &crate::ProjectFilter,
        limit: u64,
    ) -> Result<crate::Page<counterpart_domain::project::Project>, crate::StoreError> {
        let table = &crate::codec::PROJECTS;
        let waiting = " AND p.status IN ('completed', 'handed_over', 'in_operation') \
                               AND NOT EXISTS (SELECT 1 FROM signoffs s WHERE s.project = p.id)";
        let mut count =
            sqlx::QueryBuilder::<B::Db>::new("SELECT CAST(COUNT(*) AS BIGINT) FROM projects p");
        push_project_filter(&mut count, filter);
        count.push(waiting);
        let total = count_of(
            &only(B::fetch_built(&mut count, &mut *self.pool().acquire().await?).await?)?,
            0,
        )?;
        let mut query = sqlx::QueryBuilder::<B::Db>::new(format!(
            "SELECT {} FROM projects p",
            columns_of(table, "p")
        ));
        push_project_filter(&mut query, filter);
        query.push(waiting);
        push_page(&mut query, " ORDER BY p.year, p.id", 0, limit);
        let rows = B::fetch_built(&mut query, &mut *self.pool().acquire().await?).await?;
        let records = decode_rows(table, &rows)?;
        Ok(crate::Page {
            items: records.projects,
            total,
        })
    }
}
