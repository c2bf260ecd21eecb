//! Operators: who may use the station, how they log in (password and right index finger), the
//! roles that allow each action, supervisor approvals, and the idle lock.
//!
//! Invariants: a password is never stored or logged, only its Argon2id hash; a failed login
//! does not say which factor failed, and is audited like a successful one; a session locks
//! itself after [`IDLE_LOCK`] without activity and every action first checks it.

use super::{WorkflowError, capture_finger};
use crate::audit::AuditEvent;
use crate::clock::{Clock, rfc3339};
use crate::station::Station;
use crate::store::{OperatorChange, OperatorRow};
use crate::{Error, Result};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
/// An operator's finger template (what [`NewOperator::finger`] holds).
pub use rekam_bio::finger::FingerTemplate;
use rekam_bio::finger::record_of;
use rekam_bio::verify::THRESHOLD;
use rekam_drivers::sbi::{BiometricDevice, Finger};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// A session locks after this long without activity.
pub const IDLE_LOCK: Duration = Duration::from_secs(5 * 60);

/// Consecutive failed logins (password or finger) after which an operator is locked out until
/// a supervisor unlocks them ([`unlock_operator`]).
pub const MAX_FAILED_LOGINS: u32 = 5;

/// Minimum password length.
pub const MIN_PASSWORD: usize = 8;

/// What an operator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Records, hands over, takes reissue requests.
    Operator,
    /// Everything an operator does, and approves exceptions and dispensations.
    Supervisor,
    /// Sync, export, backup, devices; serves no resident.
    Technician,
    /// The Dinas: personalisation, operators.
    DinasAdmin,
}

impl Role {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Supervisor => "supervisor",
            Role::Technician => "technician",
            Role::DinasAdmin => "dinas_admin",
        }
    }

    /// From the stored name.
    pub fn parse(s: &str) -> Option<Role> {
        [
            Role::Operator,
            Role::Supervisor,
            Role::Technician,
            Role::DinasAdmin,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// Whether the role allows `action`.
    pub fn allows(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Operator => matches!(action, Serve),
            Role::Supervisor => matches!(action, Serve | Approve | Report),
            Role::Technician => matches!(action, Maintain | Report),
            Role::DinasAdmin => matches!(action, Personalise | ManageOperators | Report),
        }
    }
}

/// Actions guarded by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Serve residents: record, hand over, take reissue requests.
    Serve,
    /// Approve exceptions and dispensations.
    Approve,
    /// Sync, export, backup, devices.
    Maintain,
    /// Personalise cards.
    Personalise,
    /// Add and disable operators.
    ManageOperators,
    /// Read the daily report.
    Report,
}

impl Action {
    fn describe(self) -> &'static str {
        match self {
            Action::Serve => "serve residents",
            Action::Approve => "approve exceptions",
            Action::Maintain => "maintain the station",
            Action::Personalise => "personalise cards",
            Action::ManageOperators => "manage operators",
            Action::Report => "read reports",
        }
    }
}

/// An operator to add.
#[derive(Debug)]
pub struct NewOperator {
    /// Login id: 3-32 letters, digits or dashes.
    pub operator_id: String,
    /// Full name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Password (at least [`MIN_PASSWORD`] characters).
    pub password: Zeroizing<String>,
    /// Right index finger, as captured at enrolment of the operator.
    pub finger: FingerTemplate,
}

fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    crate::store::fill_random(&mut salt)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::NoRandomness(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::NoRandomness(e.to_string()))
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

fn finger_matches(live: &FingerTemplate, stored: &[u8]) -> u8 {
    let Ok(stored) = FingerTemplate::from_record(stored) else {
        return 0;
    };
    stored
        .iter()
        .map(|s| rekam_bio::verify::index_fingers((live, live), (s, s)).right)
        .max()
        .unwrap_or(0)
}

/// Adds an operator: by a Dinas administrator's session, or without one by whoever holds the
/// store key (`rekam operator add`, how the first one is added).
pub fn add(station: &mut Station, new: &NewOperator, by: Option<&Session>) -> Result<()> {
    crate::station::validate_station_id(&new.operator_id)
        .map_err(|_| Error::InvalidStationId(new.operator_id.clone()))?;
    if new.password.chars().count() < MIN_PASSWORD {
        return Err(Error::WeakPassword(MIN_PASSWORD));
    }
    // Without a session: whoever holds the store key (`rekam operator add`), as for `init`.
    let actor = match by {
        Some(s) => {
            s.require(Action::ManageOperators)?;
            s.operator_id.clone()
        }
        None => "cli".to_owned(),
    };
    if station.store().operator(&new.operator_id)?.is_some() {
        return Err(Error::OperatorExists(new.operator_id.clone()));
    }
    // The slot before the row: a kill between leaves a slot nobody can log in with (harmless,
    // replaced when the operator is added again), never an operator locked out of the store.
    station.set_password_slot(&new.operator_id, &new.password, &actor)?;
    let row = OperatorRow {
        operator_id: new.operator_id.clone(),
        name: new.name.clone(),
        role: new.role.as_str().to_owned(),
        password_hash: hash_password(&new.password)?,
        finger: record_of(std::slice::from_ref(&new.finger)).map_err(|e| {
            Error::TemplateRejected {
                detail: e.to_string(),
            }
        })?,
        created_at: rfc3339(station.store().clock().now()),
        disabled: false,
    };
    station.store_mut().insert_operator(&row, &actor)
}

/// A new password for `operator_id`, in their key slot and their login alike: by a Dinas
/// administrator's session, or without one by whoever opened the store (`rekam recover` with
/// the Dinas's recovery key).
pub fn reset_password(
    station: &mut Station,
    operator_id: &str,
    password: &str,
    by: Option<&Session>,
) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(Error::WeakPassword(MIN_PASSWORD));
    }
    let actor = actor_of(by)?;
    if station.store().operator(operator_id)?.is_none() {
        return Err(Error::OperatorUnknown(operator_id.to_owned()));
    }
    station.set_password_slot(operator_id, password, &actor)?;
    let hash = hash_password(password)?;
    station.store_mut().update_operator(
        operator_id,
        OperatorChange::Password(&hash),
        &AuditEvent::new(&actor, "operator.password", operator_id),
    )?;
    // A new password is a fresh start: the failed logins before it no longer count.
    station.store_mut().clear_failed_logins(operator_id, None)
}

/// Disables `operator_id`: they can no longer log in, and on a station with key slots their
/// slot is removed and the store re-keyed, so their password opens nothing, not even a copy of
/// the data directory taken before ([`Station::remove_password_slot`]).
pub fn disable(station: Station, operator_id: &str, by: Option<&Session>) -> Result<Station> {
    let mut station = station;
    let actor = actor_of(by)?;
    if by.is_some_and(|s| s.operator_id == operator_id) {
        return Err(Error::KeySlots {
            problem: "an operator cannot disable themselves".into(),
        });
    }
    // The last password slot stays: without it nobody opens the store but the Dinas.
    if let Some(slots) = station.key_slots()? {
        let passwords: Vec<_> = slots
            .iter()
            .filter(|s| s.kind == crate::store::slots::SlotKind::Password)
            .collect();
        if passwords.len() == 1 && passwords[0].name == operator_id {
            return Err(Error::KeySlots {
                problem: format!(
                    "{operator_id} holds the last password slot: add another operator first"
                ),
            });
        }
    }
    station.store_mut().update_operator(
        operator_id,
        OperatorChange::Disable,
        &AuditEvent::new(&actor, "operator.disable", operator_id),
    )?;
    station.remove_password_slot(operator_id, &actor)
}

/// Moves a station kept by its key file into key slots ([`Station::seal_into_slots`]): the
/// first slot for `operator_id`, whose password must be their login's.
pub fn seal_station(
    station: &mut Station,
    operator_id: &str,
    password: &str,
    recovery: Option<[u8; 32]>,
    actor: &str,
) -> Result<()> {
    let ok = station
        .store()
        .operator(operator_id)?
        .is_some_and(|r| !r.disabled && password_matches(password, &r.password_hash));
    if !ok {
        return Err(WorkflowError::LoginFailed.into());
    }
    station.seal_into_slots(
        &crate::station::FirstSlot {
            operator_id,
            password,
            recovery,
        },
        actor,
    )
}

fn actor_of(by: Option<&Session>) -> Result<String> {
    match by {
        Some(s) => {
            s.require(Action::ManageOperators)?;
            Ok(s.operator_id.clone())
        }
        None => Ok("cli".to_owned()),
    }
}

/// A logged-in operator.
#[derive(Debug, Clone)]
pub struct Session {
    /// Login id.
    pub operator_id: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    finger: Vec<u8>,
    clock: Arc<dyn Clock>,
    last_active: OffsetDateTime,
    idle_lock: Duration,
    locked: bool,
}

impl Session {
    /// Checks the idle lock and the role, and counts as activity.
    pub fn require(&self, action: Action) -> Result<()> {
        if self.locked || self.idle() >= self.idle_lock {
            return Err(WorkflowError::Locked(self.idle_lock.as_secs() / 60).into());
        }
        if !self.role.allows(action) {
            return Err(WorkflowError::NotPermitted {
                operator: self.operator_id.clone(),
                role: self.role.as_str().into(),
                action: action.describe().into(),
            }
            .into());
        }
        Ok(())
    }

    /// Records activity now, or locks the session when it was idle too long.
    pub fn touch(&mut self) -> Result<()> {
        if self.idle() >= self.idle_lock {
            self.locked = true;
        }
        if self.locked {
            return Err(WorkflowError::Locked(self.idle_lock.as_secs() / 60).into());
        }
        self.last_active = self.clock.now();
        Ok(())
    }

    /// Whether it is locked (or would lock at the next action).
    pub fn is_locked(&self) -> bool {
        self.locked || self.idle() >= self.idle_lock
    }

    /// Locks now (the operator leaves the counter).
    pub fn lock(&mut self) {
        self.locked = true;
    }

    /// Unlocks with the password.
    pub fn unlock(&mut self, station: &mut Station, password: &str) -> Result<()> {
        let row = station
            .store()
            .operator(&self.operator_id)?
            .ok_or(WorkflowError::LoginFailed)?;
        refuse_if_locked_out(station, &self.operator_id)?;
        let ok = password_matches(password, &row.password_hash) && !row.disabled;
        let event = AuditEvent::new(
            &self.operator_id,
            if ok {
                "operator.unlock"
            } else {
                "operator.unlock_failed"
            },
            &self.operator_id,
        );
        count_login(station, &self.operator_id, ok, true, &event)?;
        if !ok {
            return Err(WorkflowError::LoginFailed.into());
        }
        self.locked = false;
        self.last_active = self.clock.now();
        Ok(())
    }

    /// Sets another idle limit (settings; tests).
    pub fn with_idle_lock(mut self, after: Duration) -> Session {
        self.idle_lock = after;
        self
    }

    /// Whether `live` is this operator's right index finger: the score.
    pub fn finger_score(&self, live: &FingerTemplate) -> u8 {
        finger_matches(live, &self.finger)
    }

    fn idle(&self) -> Duration {
        (self.clock.now() - self.last_active).unsigned_abs()
    }
}

/// The two factors of a login or an approval by `operator_id`: their password and their right
/// index finger on `scanner` (`purpose` names the capture), for an operator `may` accepts. A
/// locked-out operator is refused first; the finger is asked for even after a wrong password,
/// so the counter cannot tell which factor failed. Their row, whether both passed, the
/// finger's score.
fn check_factors(
    station: &mut Station,
    operator_id: &str,
    password: &str,
    scanner: &dyn BiometricDevice,
    purpose: &str,
    may: impl Fn(&OperatorRow) -> bool,
) -> Result<(Option<OperatorRow>, bool, u8)> {
    let row = station.store().operator(operator_id)?;
    if row.is_some() {
        refuse_if_locked_out(station, operator_id)?;
    }
    let password_ok = row
        .as_ref()
        .is_some_and(|r| !r.disabled && may(r) && password_matches(password, &r.password_hash));
    let (live, _) = capture_finger(scanner, Finger::RightIndex, purpose)?;
    let score = row.as_ref().map_or(0, |r| finger_matches(&live, &r.finger));
    Ok((row, password_ok && score >= THRESHOLD, score))
}

/// Logs in with password and the right index finger on the scanner. Every attempt is audited;
/// a failure does not say which factor failed.
pub fn login(
    station: &mut Station,
    operator_id: &str,
    password: &str,
    scanner: &dyn BiometricDevice,
) -> Result<Session> {
    let (row, ok, score) =
        check_factors(station, operator_id, password, scanner, "LOGIN", |_| true)?;
    let event = AuditEvent::new(
        operator_id,
        if ok {
            "operator.login"
        } else {
            "operator.login_failed"
        },
        operator_id,
    )
    .with_detail(serde_json::json!({ "finger_score": score }));
    count_login(station, operator_id, ok, row.is_some(), &event)?;
    match (ok, row) {
        (true, Some(r)) => Ok(Session {
            operator_id: r.operator_id,
            name: r.name,
            role: Role::parse(&r.role).unwrap_or(Role::Operator),
            finger: r.finger,
            clock: station.store().clock().clone(),
            last_active: station.store().clock().now(),
            idle_lock: IDLE_LOCK,
            locked: false,
        }),
        _ => Err(WorkflowError::LoginFailed.into()),
    }
}

/// Refuses an operator locked out by failed logins.
fn refuse_if_locked_out(station: &mut Station, operator_id: &str) -> Result<()> {
    if station.store().login_failures(operator_id)?.1.is_some() {
        station.audit(&AuditEvent::new(
            operator_id,
            "operator.login_refused_locked_out",
            operator_id,
        ))?;
        return Err(WorkflowError::LockedOut {
            operator: operator_id.to_owned(),
            attempts: MAX_FAILED_LOGINS,
        }
        .into());
    }
    Ok(())
}

/// Audits a login attempt (`event`) and counts it: a success clears the operator's failures, a
/// failure of a known operator adds one, and the one that reaches [`MAX_FAILED_LOGINS`] locks
/// them out (answered as such).
fn count_login(
    station: &mut Station,
    operator_id: &str,
    ok: bool,
    known: bool,
    event: &AuditEvent,
) -> Result<()> {
    if ok {
        station.audit(event)?;
        if station.store().login_failures(operator_id)?.0 > 0 {
            station.store_mut().clear_failed_logins(operator_id, None)?;
        }
        return Ok(());
    }
    if !known {
        station.audit(event)?;
        return Ok(());
    }
    let locked = station
        .store_mut()
        .note_failed_login(operator_id, MAX_FAILED_LOGINS, event)?;
    if locked.is_some() {
        tracing::warn!(operator = %operator_id, "operator locked out after failed logins");
        return Err(WorkflowError::LockedOut {
            operator: operator_id.to_owned(),
            attempts: MAX_FAILED_LOGINS,
        }
        .into());
    }
    Ok(())
}

/// Unlocks an operator locked out by failed logins (their key slot's count too): by a
/// supervisor's or a Dinas administrator's session, or without one by whoever opened the store
/// (`rekam operator unlock`).
pub fn unlock_operator(
    station: &mut Station,
    operator_id: &str,
    by: Option<&Session>,
) -> Result<()> {
    let actor = match by {
        Some(s) => {
            s.require(Action::Approve)
                .or_else(|_| s.require(Action::ManageOperators))?;
            s.operator_id.clone()
        }
        None => "cli".to_owned(),
    };
    if station.store().operator(operator_id)?.is_none() {
        return Err(Error::OperatorUnknown(operator_id.to_owned()));
    }
    station.clear_slot_failures(operator_id)?;
    station.store_mut().clear_failed_logins(
        operator_id,
        Some(&AuditEvent::new(
            &actor,
            "operator.unlock_account",
            operator_id,
        )),
    )
}

/// A supervisor's approval of one decision, by id, password and finger, audited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    supervisor_id: String,
}

impl Approval {
    /// The supervisor who approved (only [`approve`] makes one).
    pub fn supervisor_id(&self) -> &str {
        &self.supervisor_id
    }
}

/// Asks supervisor `id` to approve `what` (about `subject`) with their password and their right
/// index finger on `scanner`: the two factors of a login, so an operator who learnt the
/// supervisor's password cannot approve alone. The finger is asked for even after a wrong
/// password (the counter cannot tell which factor failed); a refusal counts towards the
/// supervisor's lockout as a failed login does, and a locked-out supervisor approves nothing.
pub fn approve(
    station: &mut Station,
    supervisor_id: &str,
    password: &str,
    scanner: &dyn BiometricDevice,
    what: &str,
    subject: &str,
) -> Result<Approval> {
    let (row, ok, score) =
        check_factors(station, supervisor_id, password, scanner, "APPROVAL", |r| {
            Role::parse(&r.role).is_some_and(|role| role.allows(Action::Approve))
        })?;
    let event = AuditEvent::new(
        supervisor_id,
        if ok {
            "approval.grant"
        } else {
            "approval.refused"
        },
        subject,
    )
    .with_detail(serde_json::json!({ "what": what, "finger_score": score }));
    count_login(station, supervisor_id, ok, row.is_some(), &event)?;
    if ok {
        Ok(Approval {
            supervisor_id: supervisor_id.to_owned(),
        })
    } else {
        Err(WorkflowError::ApprovalRequired.into())
    }
}
