//! Accounts of the web application: adding, listing and disabling them, signing in (argon2id
//! password hashes), sessions and API tokens (random 256-bit secrets, stored only as SHA-256
//! digests). Who may do what is decided in `domain::access`; this module only says who is
//! asking.

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use counterpart_domain::access::{AccountRole, Action, Actor, Denied, can};
use counterpart_domain::region::RegionTree;
use counterpart_domain::{RegionCode, records::Records};
use counterpart_store::{Session, Store, StoreError, User};
use sha2::{Digest, Sha256};

/// How long a browser stays signed in.
pub const SESSION_SECONDS: i64 = 12 * 3600;
/// The shortest password an account may have.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// The stable codes of the account refusals: [`AccessError::code`] returns them, and each
/// message ends with its code, `… (code)`.
mod codes {
    pub const INVALID_ACCOUNT: &str = "invalid_account";
    pub const ACCOUNT_EXISTS: &str = "account_exists";
    pub const UNKNOWN_ACCOUNT: &str = "unknown_account";
    pub const BAD_CREDENTIALS: &str = "bad_credentials";
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("{0} ({code})", code = codes::INVALID_ACCOUNT)]
    Invalid(String),
    #[error("an account named {0} already exists ({code})", code = codes::ACCOUNT_EXISTS)]
    Exists(String),
    #[error("no account named {0} ({code})", code = codes::UNKNOWN_ACCOUNT)]
    Unknown(String),
    #[error("the current password is wrong ({code})", code = codes::BAD_CREDENTIALS)]
    WrongPassword,
    #[error("{0} ({code})", code = .0.code())]
    Denied(#[from] Denied),
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AccessError {
    /// One stable code per kind of refusal.
    pub fn code(&self) -> &'static str {
        match self {
            AccessError::Invalid(_) => codes::INVALID_ACCOUNT,
            AccessError::Exists(_) => codes::ACCOUNT_EXISTS,
            AccessError::Unknown(_) => codes::UNKNOWN_ACCOUNT,
            AccessError::WrongPassword => codes::BAD_CREDENTIALS,
            AccessError::Denied(d) => d.code(),
            AccessError::Hash(_) | AccessError::Store(_) => "internal",
        }
    }
}

/// The actor an account acts as.
pub fn actor_of(user: &User) -> Actor {
    Actor::Account {
        name: user.name.clone(),
        role: user.role,
        office: user.office.clone(),
    }
}

/// The actor the command line acts as: the machine's operator, with every right.
pub fn operator() -> Actor {
    Actor::Account {
        name: "cli".into(),
        role: AccountRole::Admin,
        office: None,
    }
}

/// SHA-256 of a secret, in hex: what the database keeps of tokens.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A fresh random secret: 32 bytes from the operating system, in hex.
pub fn secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn hash_password(password: &str) -> Result<String, AccessError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccessError::Hash(e.to_string()))
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The least zxcvbn score a password must reach: 3, "safely unguessable", some 10^10 guesses.
pub const MIN_PASSWORD_SCORE: u8 = 3;

/// Words a password must not lean on: the product's, the program's, the account's own name
/// and its office (ASVS 6.2.11).
pub fn context_words(frame: &Records, name: &str, office: Option<&RegionCode>) -> Vec<String> {
    let mut words = vec![
        "counterpart".to_owned(),
        "duikou zhiyuan".to_owned(),
        "对口支援".to_owned(),
        name.to_owned(),
    ];
    if let Some(program) = &frame.program {
        words.extend([
            program.code.to_string(),
            program.name_en.clone(),
            program.name_zh.clone(),
        ]);
    }
    if let Some(office) = office {
        words.push(office.to_string());
        if let Some(region) = frame.regions.iter().find(|r| &r.code == office) {
            words.extend([region.name_en.clone(), region.name_zh.clone()]);
        }
    }
    words
}

/// Whether a new password may be set: at least [`MIN_PASSWORD_CHARS`] characters of any kind,
/// and hard to guess by zxcvbn's measure, which knows the common and breached passwords, words,
/// names, dates, keyboard patterns and the `context` words. The error says what to do.
pub fn check_password(password: &str, context: &[String]) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    let context: Vec<&str> = context.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(password, &context);
    if u8::from(estimate.score()) >= MIN_PASSWORD_SCORE {
        return Ok(());
    }
    let mut advice = String::from("the password is too easy to guess");
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            advice.push_str(&format!(": {warning}"));
        }
        for suggestion in feedback.suggestions() {
            advice.push_str(&format!("; {suggestion}"));
        }
    }
    advice.push_str("; a few uncommon words together make a strong password");
    Err(advice)
}

/// A hash to check against when the account does not exist, so that signing in takes as long
/// for an unknown name as for a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never matches").unwrap_or_default())
}

/// A new account as asked for: checked against the program's regions.
pub struct NewUser<'a> {
    pub name: &'a str,
    pub role: AccountRole,
    pub office: Option<&'a str>,
    pub password: &'a str,
}

/// Add an account. Offices name a region of the program (a provider for provider offices).
pub async fn add_user(
    store: &dyn Store,
    by: &Actor,
    frame: &Records,
    new: &NewUser<'_>,
) -> Result<User, AccessError> {
    let tree = crate::write::tree(frame)?;
    can(by, &Action::ManageAccounts, &tree)?;
    let name = new.name.trim();
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
    {
        return Err(AccessError::Invalid(format!(
            "account name {name:?}: use 1–64 letters, digits, '.', '-', '_' or '@'"
        )));
    }
    let office = office_of(frame, &tree, new.role, new.office)?;
    check_password(new.password, &context_words(frame, name, office.as_ref()))
        .map_err(AccessError::Invalid)?;
    let user = User {
        name: name.to_owned(),
        role: new.role,
        office,
        password_hash: hash_password(new.password)?,
        disabled: false,
        created_at: crate::audit::now(),
    };
    let audit = crate::audit::entry(
        by.name(),
        "account.add",
        &user.name,
        None,
        Some(account_json(&user)),
    );
    if !store.add_user(&user, &audit).await? {
        return Err(AccessError::Exists(user.name));
    }
    Ok(user)
}

fn office_of(
    frame: &Records,
    tree: &RegionTree,
    role: AccountRole,
    office: Option<&str>,
) -> Result<Option<RegionCode>, AccessError> {
    match (role.has_office(), office) {
        (false, None) => Ok(None),
        (false, Some(_)) => Err(AccessError::Invalid(format!(
            "an account of role {role} has no office"
        ))),
        (true, None) => Err(AccessError::Invalid(format!(
            "an account of role {role} needs --office: the region it speaks for"
        ))),
        (true, Some(text)) => {
            let region = tree.find(text).ok_or_else(|| {
                AccessError::Invalid(format!("office {text:?} is not a region of the program"))
            })?;
            let is_provider = frame.pairs.iter().any(|p| p.provider == region.code);
            if role == AccountRole::ProviderOffice && !is_provider {
                return Err(AccessError::Invalid(format!(
                    "office {} is not a provider of the program",
                    region.code
                )));
            }
            Ok(Some(region.code.clone()))
        }
    }
}

fn account_json(user: &User) -> serde_json::Value {
    serde_json::json!({
        "name": user.name,
        "role": user.role.code(),
        "office": user.office.as_ref().map(ToString::to_string),
        "disabled": user.disabled,
    })
}

/// Disable (or enable again) an account; disabling signs it out everywhere.
pub async fn set_disabled(
    store: &dyn Store,
    by: &Actor,
    frame: &Records,
    name: &str,
    disabled: bool,
) -> Result<(), AccessError> {
    can(by, &Action::ManageAccounts, &crate::write::tree(frame)?)?;
    let before = store
        .user(name)
        .await?
        .ok_or_else(|| AccessError::Unknown(name.to_owned()))?;
    let mut after = before.clone();
    after.disabled = disabled;
    let action = if disabled {
        "account.disable"
    } else {
        "account.enable"
    };
    let audit = crate::audit::entry(
        by.name(),
        action,
        name,
        Some(account_json(&before)),
        Some(account_json(&after)),
    );
    if store.set_disabled(name, disabled, &audit).await? {
        Ok(())
    } else {
        Err(AccessError::Unknown(name.to_owned()))
    }
}

/// Change one's own password: the current one first, then the new one by the policy
/// ([`check_password`]). Every other session of the account ends; `keep` (the session asking,
/// if any) stays signed in.
pub async fn change_password(
    store: &dyn Store,
    frame: &Records,
    name: &str,
    current: &str,
    new: &str,
    keep: Option<&str>,
) -> Result<(), AccessError> {
    let user = own_account(store, name, current).await?;
    if current == new {
        return Err(AccessError::Invalid(
            "the new password is the current one: choose another".into(),
        ));
    }
    set_password(store, frame, &user, name, new, keep).await
}

/// One's own enabled account, proven again by its current password (before changing how it
/// signs in).
async fn own_account(store: &dyn Store, name: &str, password: &str) -> Result<User, AccessError> {
    let user = store
        .user(name)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| AccessError::Unknown(name.to_owned()))?;
    if password_matches(password, &user.password_hash) {
        Ok(user)
    } else {
        Err(AccessError::WrongPassword)
    }
}

/// Set an account's password as an admin (the command line's operator): by the same policy,
/// and every session of the account ends.
pub async fn reset_password(
    store: &dyn Store,
    by: &Actor,
    frame: &Records,
    name: &str,
    new: &str,
) -> Result<(), AccessError> {
    can(by, &Action::ManageAccounts, &crate::write::tree(frame)?)?;
    let user = store
        .user(name)
        .await?
        .ok_or_else(|| AccessError::Unknown(name.to_owned()))?;
    set_password(store, frame, &user, by.name(), new, None).await
}

async fn set_password(
    store: &dyn Store,
    frame: &Records,
    user: &User,
    by: &str,
    new: &str,
    keep: Option<&str>,
) -> Result<(), AccessError> {
    check_password(new, &context_words(frame, &user.name, user.office.as_ref()))
        .map_err(AccessError::Invalid)?;
    // The audit line says that it changed, never what to.
    let audit = crate::audit::entry(by, "account.password", &user.name, None, None);
    if store
        .set_password(&user.name, &hash_password(new)?, keep, &audit)
        .await?
    {
        Ok(())
    } else {
        Err(AccessError::Unknown(user.name.clone()))
    }
}

// ---- the second factor: time-based one-time codes (RFC 6238) ----------------------------

/// Codes of six digits, a new one every 30 seconds; the one before and after are accepted too
/// (a phone's clock may be a little off).
const TOTP_DIGITS: usize = 6;
const TOTP_STEP_SECONDS: u64 = 30;
const TOTP_SKEW_STEPS: i64 = 1;

fn totp(secret: &str) -> Result<totp_rs::TOTP, AccessError> {
    let bytes = totp_rs::Secret::Encoded(secret.trim().to_uppercase())
        .to_bytes()
        .map_err(|_| AccessError::Invalid("the key is not base32".into()))?;
    totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        TOTP_DIGITS,
        0,
        TOTP_STEP_SECONDS,
        bytes,
    )
    .map_err(|e| AccessError::Invalid(format!("the key is not usable: {e}")))
}

/// A fresh key for an authenticator app: 160 random bits, in base32.
pub fn new_totp_secret() -> String {
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    match totp_rs::Secret::Raw(bytes.to_vec()).to_encoded() {
        totp_rs::Secret::Encoded(text) => text,
        totp_rs::Secret::Raw(_) => unreachable!("to_encoded gives an encoded secret"),
    }
}

/// The `otpauth://` address an authenticator app reads (typed in, or as a QR code elsewhere).
pub fn totp_uri(name: &str, secret: &str) -> String {
    format!(
        "otpauth://totp/Counterpart:{name}?secret={secret}&issuer=Counterpart&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_STEP_SECONDS}"
    )
}

/// The code a key shows at `now` (seconds since 1970): what an authenticator app displays.
pub fn totp_code(secret: &str, now: i64) -> Result<String, AccessError> {
    Ok(totp(secret)?.generate(now.max(0) as u64))
}

/// The time step whose code `code` is, within the skew around `now`.
fn totp_step(secret: &str, code: &str, now: i64) -> Result<Option<i64>, AccessError> {
    let totp = totp(secret)?;
    let code = code.trim();
    let step = now.max(0) / TOTP_STEP_SECONDS as i64;
    Ok((step - TOTP_SKEW_STEPS..=step + TOTP_SKEW_STEPS).find(|s| {
        let at = (*s).max(0) as u64 * TOTP_STEP_SECONDS;
        same_bytes(totp.generate(at).as_bytes(), code.as_bytes())
    }))
}

fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Turn on two-step sign-in for one's own account: the current password, and a code from the
/// app given `secret`, prove both. Every session of the account ends (sign in again with a
/// code); the code used here cannot sign in.
pub async fn enrol_totp(
    store: &dyn Store,
    name: &str,
    password: &str,
    secret: &str,
    code: &str,
    now: i64,
) -> Result<(), AccessError> {
    own_account(store, name, password).await?;
    let Some(step) = totp_step(secret, code, now)? else {
        return Err(AccessError::Invalid(
            "the code does not match the key: type the key again, or check the phone's clock"
                .into(),
        ));
    };
    let audit = crate::audit::entry(
        name,
        "account.second_factor",
        name,
        None,
        Some(serde_json::json!({ "totp": true })),
    );
    if !store.set_totp(name, Some(secret.trim()), &audit).await? {
        return Err(AccessError::Unknown(name.to_owned()));
    }
    store.spend_totp_step(name, step).await?;
    Ok(())
}

/// Set (`Some`, a fresh key returned for the account's owner) or remove (`None`) an account's
/// second factor as an admin (the command line's operator); its sessions end.
pub async fn set_second_factor(
    store: &dyn Store,
    by: &Actor,
    frame: &Records,
    name: &str,
    on: bool,
) -> Result<Option<String>, AccessError> {
    can(by, &Action::ManageAccounts, &crate::write::tree(frame)?)?;
    let secret = on.then(new_totp_secret);
    let audit = crate::audit::entry(
        by.name(),
        "account.second_factor",
        name,
        None,
        Some(serde_json::json!({ "totp": on })),
    );
    if store.set_totp(name, secret.as_deref(), &audit).await? {
        Ok(secret)
    } else {
        Err(AccessError::Unknown(name.to_owned()))
    }
}

/// How a sign-in ended.
pub enum SignIn {
    Opened(Box<SignedIn>),
    /// A wrong name, password or code, or a disabled account: one answer for all.
    Refused,
    /// The password is right, but this server requires a second factor and the account has
    /// none: the program office must set one up (`counterpart user mfa NAME`).
    SecondFactorMissing,
}

/// Check a name, password and (for an account with a second factor) a one-time code, and
/// open a session. A code signs in once. With `second_factor_required`, an account without a
/// second factor cannot sign in.
pub async fn sign_in_checked(
    store: &dyn Store,
    name: &str,
    password: &str,
    code: Option<&str>,
    second_factor_required: bool,
    now: i64,
) -> Result<SignIn, AccessError> {
    let Some(user) = password_holder(store, name, password).await? else {
        return Ok(SignIn::Refused);
    };
    match store.totp_secret(&user.name).await? {
        Some(secret) => {
            let step = match code.filter(|c| !c.trim().is_empty()) {
                Some(code) => totp_step(&secret, code, now)?,
                None => None,
            };
            let spent = match step {
                Some(step) => store.spend_totp_step(&user.name, step).await?,
                None => false,
            };
            if !spent {
                return Ok(SignIn::Refused);
            }
        }
        None if second_factor_required => return Ok(SignIn::SecondFactorMissing),
        None => {}
    }
    Ok(SignIn::Opened(Box::new(
        open_session(store, user, now).await?,
    )))
}

/// A session just opened: the secret for the cookie (never stored) and the session.
pub struct SignedIn {
    pub token: String,
    pub session: Session,
    pub user: User,
}

/// Check a name and password and open a session. `None` for a wrong name or password (the
/// same answer for both, in about the same time) or a disabled account.
/// An account with a second factor cannot sign in this way (it needs [`sign_in_checked`]).
pub async fn sign_in(
    store: &dyn Store,
    name: &str,
    password: &str,
    now: i64,
) -> Result<Option<SignedIn>, StoreError> {
    let Some(user) = password_holder(store, name, password).await? else {
        return Ok(None);
    };
    if store.totp_secret(&user.name).await?.is_some() {
        return Ok(None);
    }
    open_session(store, user, now).await.map(Some)
}

/// The enabled account of this name, if the password is its own.
async fn password_holder(
    store: &dyn Store,
    name: &str,
    password: &str,
) -> Result<Option<User>, StoreError> {
    let user = store.user(name.trim()).await?;
    let hash = user
        .as_ref()
        .map_or_else(|| decoy_hash().to_owned(), |u| u.password_hash.clone());
    // Tens of milliseconds of CPU by design: what makes guessing slow.
    let matches = password_matches(password, &hash);
    Ok(user.filter(|u| matches && !u.disabled))
}

async fn open_session(store: &dyn Store, user: User, now: i64) -> Result<SignedIn, StoreError> {
    let token = secret();
    let session = Session {
        token_hash: digest(&token),
        user: user.name.clone(),
        csrf: secret(),
        expires_at: now + SESSION_SECONDS,
    };
    store.create_session(&session).await?;
    Ok(SignedIn {
        token,
        session,
        user,
    })
}

/// Issue an API token for an account; the token is shown once and stored as a digest.
pub async fn issue_token(
    store: &dyn Store,
    by: &Actor,
    frame: &Records,
    name: &str,
    label: &str,
) -> Result<String, AccessError> {
    can(by, &Action::ManageAccounts, &crate::write::tree(frame)?)?;
    if store.user(name).await?.is_none() {
        return Err(AccessError::Unknown(name.to_owned()));
    }
    let token = secret();
    let audit = crate::audit::entry(
        by.name(),
        "token.issue",
        name,
        None,
        Some(serde_json::json!({ "user": name, "label": label })),
    );
    store
        .add_token(&digest(&token), name, label, &audit)
        .await?;
    Ok(token)
}

#[cfg(test)]
mod password_tests {
    use super::*;

    fn context(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn common_short_and_contextual_passwords_are_refused() {
        let office = context(&["counterpart", "shanghai", "上海市"]);
        for weak in [
            "password1234",
            "qwertyuiop123",
            "counterpart2010",
            "Shanghai2010!",
        ] {
            let refused = check_password(weak, &office).expect_err(weak);
            assert!(refused.contains("too easy to guess"), "{weak}: {refused}");
        }
        assert!(
            check_password("kettle", &office)
                .unwrap_err()
                .contains("at least 10")
        );
        for strong in [
            "saffron kettle river 2010",
            "demo-shanghai-2010",
            "jU7#q2!vLp0z",
        ] {
            assert_eq!(check_password(strong, &office), Ok(()), "{strong}");
        }
    }
}

#[cfg(test)]
mod totp_tests {
    use super::*;

    #[test]
    fn a_code_is_found_within_one_step_either_side() {
        let secret = new_totp_secret();
        let now = 1_765_000_000;
        for offset in [-30, 0, 30] {
            let code = totp_code(&secret, now + offset).unwrap();
            assert_eq!(
                totp_step(&secret, &code, now).unwrap(),
                Some((now + offset) / 30),
                "{offset}"
            );
        }
        let far = totp_code(&secret, now + 90).unwrap();
        assert_eq!(totp_step(&secret, &far, now).unwrap(), None);
    }
}
