//! Owner keys and batches: one secret ties a person's galleries together so that they can
//! be listed and managed from any device, and several galleries can be changed at once.
//!
//! The manage key of a gallery is shown once and stored only hashed, so a device that
//! never saw it manages the gallery with the owner key it is filed under
//! (`galleries::may_manage` accepts either). Filing needs the manage key: holding
//! an owner key never lets anyone take a gallery it does not already hold.

use time::OffsetDateTime;

use crate::domain::error::DomainError;
use crate::domain::galleries::service::Galleries;
use crate::domain::settings::{self, SettingsInput};
use crate::ids::{GalleryId, OwnerKey, key_matches};
use crate::store::Filed;

type Result<T> = std::result::Result<T, DomainError>;

/// Most galleries one batch (or one filing request) may name.
pub const MAX_BATCH: usize = 500;

/// What a batch does to every gallery it names.
#[derive(Clone, Debug)]
pub enum BatchAction {
    /// Switch the links off.
    Disable,
    /// Switch them on again.
    Enable,
    /// Delete them for good (blobs no other gallery uses are removed).
    Delete,
    /// Set their expiry (built by [`Galleries::extension`], already validated).
    Extend(Box<SettingsInput>),
}

/// The owner key in `presented`, if it has the shape of one.
fn parse_owner_key(presented: Option<&str>) -> Result<OwnerKey> {
    presented
        .and_then(OwnerKey::parse)
        .ok_or(DomainError::Unauthorized)
}

impl Galleries {
    /// Every gallery filed under `owner_key`, newest first. A key that owns nothing lists
    /// nothing: owner keys are not stored, only the hashes on galleries.
    pub fn owned(&self, owner_key: Option<&str>) -> Result<Vec<Filed>> {
        let owner_key = parse_owner_key(owner_key)?;
        let mut list = self.store.owner_galleries(&owner_key.hash())?;
        list.sort_by(|a, b| {
            (b.record.created_at, b.id.as_str()).cmp(&(a.record.created_at, a.id.as_str()))
        });
        Ok(list)
    }

    /// File gallery `id` under `owner_key`. `manage_key` must be the gallery's own manage
    /// key (an owner key will not do); a gallery filed under another owner key moves to
    /// this one.
    pub fn file(
        &self,
        owner_key: Option<&str>,
        id: &str,
        manage_key: Option<&str>,
    ) -> Result<Filed> {
        let owner_key_hash = parse_owner_key(owner_key)?.hash();
        let id = GalleryId::parse(id).ok_or(DomainError::NotFound)?;
        let record = self
            .store
            .file_gallery(&id, &owner_key_hash, |record| match manage_key {
                Some(key) if key_matches(key, &record.manage_key_hash) => Ok(()),
                _ => Err(DomainError::Unauthorized),
            })?
            .ok_or(DomainError::NotFound)?;
        let opens = self.opens(&id)?;
        Ok(Filed { id, record, opens })
    }

    /// The `extend` action for `expires_at` (RFC 3339; `None`, `""` or `"never"`: no
    /// expiry), checked once against the instance's expiry policy so that a bad date fails
    /// the whole batch rather than every item.
    pub fn extension(
        &self,
        expires_at: Option<String>,
        now: OffsetDateTime,
    ) -> Result<BatchAction> {
        let mut input = SettingsInput::default();
        input.expires_at = Some(expires_at);
        settings::apply(&Default::default(), &input, &self.expiry, now, false)?;
        Ok(BatchAction::Extend(Box::new(input)))
    }

    /// Apply `action` to each `(id, manage_or_owner_key)` in order: the gallery's manage
    /// key or the owner key it is filed under. Each gallery as it now is, `None` once deleted; an
    /// item that fails changes nothing and does not stop the others.
    pub fn batch(
        &self,
        action: &BatchAction,
        items: &[(String, Option<String>)],
        now: OffsetDateTime,
    ) -> Vec<Result<Option<Filed>>> {
        items
            .iter()
            .map(|(id, key)| self.batch_one(action, id, key.as_deref(), now))
            .collect()
    }

    fn batch_one(
        &self,
        action: &BatchAction,
        id: &str,
        manage_or_owner_key: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Option<Filed>> {
        let id = GalleryId::parse(id).ok_or(DomainError::NotFound)?;
        let record = match action {
            BatchAction::Disable => self.set_enabled(&id, manage_or_owner_key, false)?,
            BatchAction::Enable => self.set_enabled(&id, manage_or_owner_key, true)?,
            BatchAction::Extend(input) => {
                self.update_settings(&id, manage_or_owner_key, input, now)?
            }
            BatchAction::Delete => {
                self.delete(&id, manage_or_owner_key)?;
                return Ok(None);
            }
        };
        let opens = self.opens(&id)?;
        Ok(Some(Filed { id, record, opens }))
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::galleries::service::may_manage;
    use crate::ids::{ManageKey, OwnerKey};
    use crate::model::{Digest, GalleryRecord};

    fn record(manage: &ManageKey, owner: Option<&OwnerKey>) -> GalleryRecord {
        GalleryRecord {
            manage_key_hash: manage.hash(),
            owner: owner.map(OwnerKey::hash),
            ..GalleryRecord::blank("")
        }
    }

    #[test]
    fn owner_keys_have_the_promised_shape() {
        let key = OwnerKey::generate();
        assert_eq!(key.as_str().len(), OwnerKey::LEN);
        assert!(OwnerKey::parse(key.as_str()).is_some());
        assert_ne!(key, OwnerKey::generate());
        assert!(OwnerKey::parse("short").is_none());
        assert!(OwnerKey::parse(&"a".repeat(31)).is_none());
        assert!(OwnerKey::parse(&format!("{}/", "a".repeat(31))).is_none());
        assert_eq!(format!("{key:?}"), "OwnerKey(…)", "never printed");
    }

    #[test]
    fn the_owner_key_manages_only_the_galleries_filed_under_it() {
        let manage = ManageKey::generate();
        let owner = OwnerKey::generate();
        let other = OwnerKey::generate();
        let filed = record(&manage, Some(&owner));
        assert!(may_manage(&filed, Some(manage.as_str())));
        assert!(may_manage(&filed, Some(owner.as_str())));
        assert!(!may_manage(&filed, Some(other.as_str())));
        assert!(!may_manage(&filed, None));
        assert!(!may_manage(&filed, Some("")));
        let unfiled = record(&manage, None);
        assert!(may_manage(&unfiled, Some(manage.as_str())));
        assert!(!may_manage(&unfiled, Some(owner.as_str())));
        // The empty string hashes to something: it must not match a missing owner.
        let mut odd = unfiled.clone();
        odd.owner = Some(Digest::of(b"x"));
        assert!(!may_manage(&odd, Some("")));
    }
}
