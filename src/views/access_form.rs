//! The access settings form, one for the upload page and the manage page: `access-form.js`
//! reads it into the API's settings, fills it from a gallery's and checks it.

use maud::{Markup, html};

/// The page the form is on: it decides the element ids and how the expiry is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessPage {
    /// A new gallery: the expiry is one of the instance's choices, from now.
    Upload,
    /// An existing gallery: the expiry is a date (or never), the password may be removed.
    Manage,
}

/// What the form starts with. The manage page is served before its script has the key (it
/// is in the URL fragment), so the gallery's own values are filled in by the script.
pub struct AccessForm<'a> {
    /// Which page.
    pub page: AccessPage,
    /// Expiry choices the instance allows: (label, `expires_in` value), default first.
    /// Shown on the upload page only.
    pub expiry_choices: &'a [(String, String)],
    /// Downloads of the originals ticked at first.
    pub allow_download: bool,
    /// Days ticked at first (of mon … sun). None ticked means every day.
    pub days: [bool; 7],
}

impl AccessForm<'_> {
    /// The upload page's defaults: downloads on, every day ticked.
    pub fn upload(expiry_choices: &[(String, String)]) -> AccessForm<'_> {
        AccessForm {
            page: AccessPage::Upload,
            expiry_choices,
            allow_download: true,
            days: [true; 7],
        }
    }

    /// The manage page's form, empty until its script fills it from the gallery.
    pub fn manage() -> AccessForm<'static> {
        AccessForm {
            page: AccessPage::Manage,
            expiry_choices: &[],
            allow_download: false,
            days: [false; 7],
        }
    }

    /// The element id of field `name` on this page. The two pages had forms of their own,
    /// and the ids scripts and tests already address stay as they were.
    fn id(&self, name: &str) -> String {
        match (self.page, name) {
            (AccessPage::Upload, "download") => "allow-download".to_owned(),
            (AccessPage::Upload, _) => name.to_owned(),
            (AccessPage::Manage, _) => format!("set-{name}"),
        }
    }
}

const DAYS: [(&str, &str); 7] = [
    ("mon", "Mon"),
    ("tue", "Tue"),
    ("wed", "Wed"),
    ("thu", "Thu"),
    ("fri", "Fri"),
    ("sat", "Sat"),
    ("sun", "Sun"),
];

/// The expiry: the instance's choices on the upload page, a date or never on the manage page.
fn expiry(form: &AccessForm<'_>) -> Markup {
    match form.page {
        AccessPage::Upload => html! {
            label for=(form.id("expires-in")) { "Link expires" }
            select id=(form.id("expires-in")) data-field="expires_in" {
                @for (label, value) in form.expiry_choices {
                    option value=(value) { (label) }
                }
            }
        },
        AccessPage::Manage => html! {
            label for=(form.id("expires-at")) { "Link expires" }
            input type="datetime-local" id=(form.id("expires-at")) data-field="expires_at";
            label class="check" {
                input type="checkbox" id=(form.id("never")) data-field="never";
                " Never expires"
            }
        },
    }
}

/// The password: a new one on both pages; the manage page may also remove it.
fn password(form: &AccessForm<'_>) -> Markup {
    let id = form.id("gallery-password");
    let hint = form.id("password-hint");
    html! {
        label for=(id) { "Password " span class="optional" { "(optional)" } }
        input type="password" id=(id) data-field="password" autocomplete="new-password"
            minlength="4" aria-describedby=(hint);
        @if form.page == AccessPage::Manage {
            label class="check" {
                input type="checkbox" id=(form.id("password-clear")) data-field="password_clear";
                " Remove the password"
            }
        }
        p id=(hint) class="hint" {
            "Viewers must enter it before they see anything."
            @if form.page == AccessPage::Manage { " Leave the field empty to keep the current one." }
        }
    }
}

/// The access settings fields, inside a `data-access-form` element that the script binds.
pub fn fields(form: &AccessForm<'_>) -> Markup {
    let id = |name| form.id(name);
    html! {
        div class="access-form" data-access-form {
            label for=(id("max-opens")) { "View limit " span class="optional" { "(empty: unlimited)" } }
            input type="number" id=(id("max-opens")) data-field="max_opens" min="1" step="1"
                inputmode="numeric" placeholder="e.g. 50" aria-describedby=(id("max-opens-hint"));
            p id=(id("max-opens-hint")) class="hint" {
                "How many people may open the link. Reloads by someone already in do not count."
            }
            label class="check" for=(id("download")) {
                input type="checkbox" id=(id("download")) data-field="allow_download"
                    checked[form.allow_download] aria-describedby=(id("download-hint"));
                " Allow downloads of the originals"
            }
            p id=(id("download-hint")) class="hint" {
                "Off: viewers see the photos but get no download buttons and no originals. "
                "Anyone can still take a screenshot."
            }
            (password(form))
            (expiry(form))
            fieldset {
                legend { "Scheduled release" }
                div class="pair" {
                    div {
                        label for=(id("available-from")) { "Opens at " span class="optional" { "(optional)" } }
                        input type="datetime-local" id=(id("available-from")) data-field="available_from";
                    }
                    div {
                        label for=(id("available-until")) { "Closes at " span class="optional" { "(optional)" } }
                        input type="datetime-local" id=(id("available-until")) data-field="available_until";
                    }
                }
                p class="hint" { "Dates and times are in this browser’s time zone, " span data-browser-zone { "UTC" } "." }
            }
            fieldset {
                legend { "Daily hours " span class="optional" { "(optional)" } }
                div class="pair" {
                    div {
                        label for=(id("daily-from")) { "From" }
                        input type="time" id=(id("daily-from")) data-field="daily_from";
                    }
                    div {
                        label for=(id("daily-until")) { "Until" }
                        input type="time" id=(id("daily-until")) data-field="daily_until";
                    }
                }
                div class="days" role="group" aria-label="Open on these days" data-field="days" {
                    @for ((value, label), ticked) in DAYS.iter().zip(form.days) {
                        label class="day" {
                            input type="checkbox" name=(id("days")) value=(value) checked[ticked];
                            span { (label) }
                        }
                    }
                }
                p class="hint" {
                    "No day ticked means every day. A window may run past midnight (e.g. 22:00 to 02:00)."
                }
                label for=(id("timezone")) { "Time zone" }
                input type="text" id=(id("timezone")) data-field="timezone" list=(id("timezones"))
                    autocomplete="off" autocapitalize="off" spellcheck="false"
                    placeholder="e.g. Europe/Berlin" aria-describedby=(id("timezone-hint"));
                datalist id=(id("timezones")) {}
                p id=(id("timezone-hint")) class="hint" {
                    "The daily hours follow this time zone, and the gallery’s pages and poster tell times in it."
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ids_scripts_and_tests_address_stay_on_both_pages() {
        let choices = [("1 day".to_owned(), "86400".to_owned())];
        let upload = fields(&AccessForm::upload(&choices)).into_string();
        for id in [
            "max-opens",
            "allow-download",
            "expires-in",
            "gallery-password",
        ] {
            assert!(upload.contains(&format!("id=\"{id}\"")), "{id}");
        }
        let manage = fields(&AccessForm::manage()).into_string();
        for id in ["set-max-opens", "set-download", "set-timezone", "set-never"] {
            assert!(manage.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert!(
            !manage.contains("expires-in"),
            "no relative expiry when managing"
        );
    }

    #[test]
    fn the_upload_page_ticks_every_day_and_the_manage_page_none() {
        let upload = fields(&AccessForm::upload(&[])).into_string();
        assert_eq!(upload.matches("value=\"sun\" checked").count(), 1);
        let manage = fields(&AccessForm::manage()).into_string();
        assert_eq!(manage.matches("checked").count(), 0);
    }
}
