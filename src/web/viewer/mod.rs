//! `/g/<id>`: the public side of a gallery, as a viewer with the link sees it: the page and
//! its images, the password form, the ZIP, the QR codes and the poster.

pub mod admission;
mod archive;
mod gallery;
mod password;
pub mod poster;
mod qr;

use rocket::Route;

/// Every route under `/g`.
pub fn routes() -> Vec<Route> {
    [
        gallery::routes(),
        password::routes(),
        archive::routes(),
        qr::routes(),
        poster::routes(),
    ]
    .concat()
}
