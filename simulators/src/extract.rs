//! The Dinas's population extracts of the simulators' generated residents, signed with the
//! repository's TEST Dinas key (`fixtures/test-keys/test-dinas-population.*`), which only a
//! build with training mode trusts. The generator scatters residents across Indonesia; an
//! extract of them stands for the residents one kecamatan's counter serves.

use crate::counter::SynthPopulation;
use rekam::domain::population::{Entry, Extract, ExtractHeader, ExtractKind};
use rekam_packet::KeyId;
use rekam_packet::population::DinasKey;
use time::OffsetDateTime;

/// The TEST Dinas key's public half, as a station pins it.
pub const TEST_DINAS_PUBLIC: &str =
    include_str!("../../fixtures/test-keys/test-dinas-population.pub");

/// The TEST Dinas key.
pub fn test_dinas_key() -> DinasKey {
    // The fixture is 64 hex digits (fixtures/test-keys/make.sh); a damaged checkout panics in
    // the test that uses it, saying so.
    DinasKey::from_hex(include_str!(
        "../../fixtures/test-keys/test-dinas-population.hex"
    ))
    .unwrap_or_else(|e| panic!("fixtures/test-keys/test-dinas-population.hex: {e}"))
}

/// A header for `region` numbered `sequence` (a delta on `sequence - 1`), as of `as_of`.
pub fn header(
    kind: ExtractKind,
    region: &str,
    sequence: u64,
    as_of: OffsetDateTime,
) -> ExtractHeader {
    ExtractHeader {
        kind,
        region: region.to_owned(),
        villages: Vec::new(),
        sequence,
        base_sequence: (kind == ExtractKind::Delta).then(|| sequence.saturating_sub(1)),
        as_of,
        issuer: "Disdukcapil (TEST, generated residents)".into(),
        signer: KeyId([0; 8]),
        entries: 0,
        body_bytes: 0,
        body_sha256: String::new(),
    }
}

/// A base extract of every generated resident with a NIK, for kecamatan `region`.
pub fn base(
    population: &SynthPopulation,
    region: &str,
    sequence: u64,
    as_of: OffsetDateTime,
) -> Vec<u8> {
    let mut entries: Vec<Entry> = population
        .records()
        .map(|r| Entry::Upsert {
            record: Box::new(r.clone()),
        })
        .collect();
    // The same residents give the same bytes, whatever the map's order.
    entries.sort_by(|a, b| nik_of(a).cmp(nik_of(b)));
    Extract::write(
        header(ExtractKind::Base, region, sequence, as_of),
        &entries,
        &test_dinas_key(),
    )
}

/// A delta of `entries` on extract `sequence - 1`.
pub fn delta(entries: &[Entry], region: &str, sequence: u64, as_of: OffsetDateTime) -> Vec<u8> {
    Extract::write(
        header(ExtractKind::Delta, region, sequence, as_of),
        entries,
        &test_dinas_key(),
    )
}

fn nik_of(e: &Entry) -> &str {
    match e {
        Entry::Upsert { record } => record.biodata.nik.as_str(),
        Entry::Remove { nik } => nik.as_str(),
    }
}
