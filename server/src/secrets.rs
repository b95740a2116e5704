//! Encryption at rest lives with the store (it seals what the store writes); re-exported
//! here for start-up, which loads the key and checks it against the database.

pub use app::store::secret_box::*;
