//! The nouns of e-KTP enrollment and the rules the seeds impose on them (`../shared/docs/domain.md`
//! is the digest; every rule here cites the part it comes from).

pub mod biodata;
pub mod case;
pub mod eligibility;
pub mod kk;
pub mod nik;
pub mod pekerjaan;
pub mod region;

pub(crate) mod digits;
