//! Parsing and validating a gallery's access settings, from form fields (upload) or JSON
//! (`PATCH`). Every error names the field.

use jiff::tz::TimeZone;
use serde::{Deserialize, Deserializer};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::model::{DailyWindow, Settings};

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid value for `{field}`: {message}")]
pub struct SettingError {
    /// The field, as named in the API.
    pub field: &'static str,
    /// What is wrong and what is expected.
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> SettingError {
    SettingError {
        field,
        message: message.into(),
    }
}

/// Instance-wide expiry policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpiryPolicy {
    /// Applied when a gallery is created without an expiry (`None`: never expires).
    pub default: Option<Duration>,
    /// The longest allowed (`None`: "never" is allowed).
    pub max: Option<Duration>,
}

/// A field that may be absent (leave as is), null/empty (clear) or set.
type Field = Option<Option<String>>;

/// Raw values as given. Absent fields leave a setting as it is; `null` or `""` clears it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    /// How many new viewers may open it; `null` or `""` for unlimited.
    #[serde(default, deserialize_with = "scalar")]
    pub max_opens: Field,
    /// `true` / `false`: offer originals and "Download all".
    #[serde(default, deserialize_with = "scalar")]
    pub allow_download: Field,
    /// RFC 3339 instant; `null`, `""` or `"never"` for no expiry.
    #[serde(default, deserialize_with = "scalar")]
    pub expires_at: Field,
    /// Seconds from now (or `"never"`).
    #[serde(default, deserialize_with = "scalar")]
    pub expires_in: Field,
    /// RFC 3339 instant of the scheduled release.
    #[serde(default, deserialize_with = "scalar")]
    pub available_from: Field,
    /// RFC 3339 instant of the end.
    #[serde(default, deserialize_with = "scalar")]
    pub available_until: Field,
    /// "HH:MM", start of the daily window.
    #[serde(default, deserialize_with = "scalar")]
    pub daily_from: Field,
    /// "HH:MM", end of the daily window (before the start: runs past midnight).
    #[serde(default, deserialize_with = "scalar")]
    pub daily_until: Field,
    /// Days of the daily window, e.g. "mon,wed,fri"; absent, `null` or `""`: every day.
    #[serde(default, deserialize_with = "scalar")]
    pub days: Field,
    /// IANA time zone of the daily hours, e.g. "Europe/Berlin" (the upload page proposes the
    /// browser's, the manage page changes it).
    #[serde(default, deserialize_with = "scalar")]
    pub timezone: Field,
    /// A new viewing password; `null` or `""` removes it.
    #[serde(default, deserialize_with = "scalar")]
    pub password: Field,
    /// `password`, hashed by [`SettingsInput::hash_password`] before the transaction (the
    /// hash is slow on purpose and must not hold the database's write lock).
    #[serde(skip)]
    password_hash: Option<Option<String>>,
}

/// Accept a JSON string, number, boolean or null as text.
fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
    use serde::de::Error;
    Ok(Some(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => return Err(D::Error::custom("expected a string, number or null")),
    }))
}

impl SettingsInput {
    /// Take a form field by name; `false` if it is not a setting.
    pub fn set(&mut self, name: &str, value: String) -> bool {
        let slot = match name {
            "max_opens" => &mut self.max_opens,
            "allow_download" => &mut self.allow_download,
            "expires_at" => &mut self.expires_at,
            "expires_in" => &mut self.expires_in,
            "available_from" => &mut self.available_from,
            "available_until" => &mut self.available_until,
            "daily_from" => &mut self.daily_from,
            "daily_until" => &mut self.daily_until,
            "days" => &mut self.days,
            "timezone" => &mut self.timezone,
            "password" => &mut self.password,
            _ => return false,
        };
        *slot = Some(Some(value));
        true
    }
}

impl SettingsInput {
    /// Check and hash a new password (if one is given). Call before [`apply`].
    pub fn hash_password(&mut self) -> Result<(), SettingError> {
        self.password_hash = match &self.password {
            None => None,
            Some(None) => Some(None),
            Some(Some(p)) if p.is_empty() => Some(None),
            Some(Some(p)) if p.chars().count() < 4 || p.len() > 256 => {
                return Err(invalid("password", "must be 4 to 256 characters long"));
            }
            Some(Some(p)) => Some(Some(
                super::passwords::hash(p).map_err(|e| invalid("password", e))?,
            )),
        };
        Ok(())
    }
}

/// The given text, `None` when cleared (`null`, empty, "never", "none").
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| {
        !v.is_empty() && !v.eq_ignore_ascii_case("never") && !v.eq_ignore_ascii_case("none")
    })
}

fn instant(field: &'static str, value: &str) -> Result<OffsetDateTime, SettingError> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
        invalid(
            field,
            format!("{value:?} is not an RFC 3339 date and time such as 2026-12-24T18:00:00+01:00"),
        )
    })
}

/// `now + d`, or `None` past the last instant a date can hold (the year 9999): a far
/// future given in seconds must be refused, not overflow.
fn later(now: OffsetDateTime, d: Duration) -> Option<OffsetDateTime> {
    now.checked_add(d)
}

/// The longest expiry plus a minute of slack for the time between choosing and sending.
fn slack(max: Duration) -> Option<Duration> {
    max.checked_add(Duration::minutes(1))
}

fn clock(field: &'static str, value: &str) -> Result<u16, SettingError> {
    let bad = || invalid(field, format!("{value:?} is not a time of day as HH:MM"));
    let (h, m) = value.split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 || value.len() != 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn days(value: &str) -> Result<u8, SettingError> {
    let mut mask = 0u8;
    for part in value.split(',').map(|p| p.trim().to_ascii_lowercase()) {
        let index = DAY_NAMES
            .iter()
            .position(|d| part.starts_with(d) && part.len() >= 3)
            .ok_or_else(|| {
                invalid(
                    "days",
                    format!("{part:?} is not a day; use mon, tue, wed, thu, fri, sat, sun"),
                )
            })?;
        mask |= 1 << index;
    }
    Ok(mask)
}

/// Render a day mask back as "mon,wed,fri".
pub fn days_text(mask: u8) -> String {
    DAY_NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, d)| *d)
        .collect::<Vec<_>>()
        .join(",")
}

/// Render minutes after midnight as "HH:MM".
pub fn clock_text(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Apply `input` to `current`. When `creating`, a missing expiry gets the instance default.
pub fn apply(
    current: &Settings,
    input: &SettingsInput,
    policy: &ExpiryPolicy,
    now: OffsetDateTime,
    creating: bool,
) -> Result<Settings, SettingError> {
    let mut s = current.clone();

    let expiry_field = match (&input.expires_at, &input.expires_in) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "expires_in",
                "give expires_at or expires_in, not both",
            ));
        }
        (Some(at), None) => {
            s.expires_at = given(at).map(|v| instant("expires_at", v)).transpose()?;
            Some("expires_at")
        }
        (None, Some(within)) => {
            s.expires_at = match given(within) {
                None => None,
                Some(v) => {
                    let seconds: i64 = v.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                        invalid(
                            "expires_in",
                            format!("{v:?} is not a positive number of seconds"),
                        )
                    })?;
                    Some(later(now, Duration::seconds(seconds)).ok_or_else(|| {
                        invalid(
                            "expires_in",
                            format!("{v} seconds is too far in the future"),
                        )
                    })?)
                }
            };
            Some("expires_in")
        }
        (None, None) if creating => {
            s.expires_at = policy
                .default
                .map(|d| {
                    later(now, d).ok_or_else(|| {
                        invalid("expires_in", "this server's default expiry is out of range")
                    })
                })
                .transpose()?;
            Some("expires_in")
        }
        (None, None) => None,
    };
    if let (Some(field), Some(max)) = (expiry_field, policy.max) {
        let longest = humantime::format_duration(std::time::Duration::from_secs(
            max.whole_seconds().max(0).unsigned_abs(),
        ));
        match s.expires_at {
            None => {
                return Err(invalid(
                    field,
                    format!("this server needs an expiry, at most {longest} from now"),
                ));
            }
            Some(t)
                if slack(max)
                    .and_then(|m| later(now, m))
                    .is_some_and(|end| t > end) =>
            {
                return Err(invalid(
                    field,
                    format!("the longest allowed is {longest} from now"),
                ));
            }
            Some(_) => {}
        }
    }

    if let Some(v) = &input.max_opens {
        s.max_opens = given(v)
            .map(|v| {
                v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    invalid(
                        "max_opens",
                        format!("{v:?} is not a positive whole number (leave empty for unlimited)"),
                    )
                })
            })
            .transpose()?;
    }
    if let Some(v) = &input.allow_download {
        let v = v.as_deref().unwrap_or("").trim().to_ascii_lowercase();
        s.allow_download = match v.as_str() {
            "true" | "on" | "yes" | "1" => true,
            "false" | "off" | "no" | "0" => false,
            _ => {
                return Err(invalid(
                    "allow_download",
                    format!("{v:?} is not true or false"),
                ));
            }
        };
    }
    if let Some(v) = &input.available_from {
        s.available_from = given(v).map(|v| instant("available_from", v)).transpose()?;
    }
    if let Some(v) = &input.available_until {
        s.available_until = given(v)
            .map(|v| instant("available_until", v))
            .transpose()?;
    }
    if let (Some(from), Some(until)) = (s.available_from, s.available_until)
        && from >= until
    {
        return Err(invalid("available_until", "must be after available_from"));
    }

    if let Some(v) = &input.timezone {
        s.timezone = match given(v) {
            None => "UTC".to_owned(),
            Some(name) => {
                TimeZone::get(name).map_err(|_| {
                    invalid(
                        "timezone",
                        format!("{name:?} is not an IANA time zone such as Europe/Berlin"),
                    )
                })?;
                name.to_owned()
            }
        };
    }

    if input.password.is_some() {
        s.password_hash = input
            .password_hash
            .clone()
            .ok_or_else(|| invalid("password", "was not prepared (internal error)"))?;
    }

    if input.daily_from.is_some() || input.daily_until.is_some() || input.days.is_some() {
        let from = match &input.daily_from {
            Some(v) => given(v).map(|v| clock("daily_from", v)).transpose()?,
            None => s.daily.map(|w| w.from),
        };
        let until = match &input.daily_until {
            Some(v) => given(v).map(|v| clock("daily_until", v)).transpose()?,
            None => s.daily.map(|w| w.until),
        };
        let mask = match &input.days {
            Some(v) => given(v).map(days).transpose()?.unwrap_or(0x7f),
            None => s.daily.map_or(0x7f, |w| w.days),
        };
        s.daily = match (from, until) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(invalid("daily_until", "give daily_until with daily_from"));
            }
            (None, Some(_)) => {
                return Err(invalid("daily_from", "give daily_from with daily_until"));
            }
            (Some(f), Some(u)) if f == u => {
                return Err(invalid("daily_until", "must differ from daily_from"));
            }
            (Some(from), Some(until)) => Some(DailyWindow {
                from,
                until,
                days: mask,
            }),
        };
    }
    Ok(s)
}

#[cfg(test)]
mod tests;
