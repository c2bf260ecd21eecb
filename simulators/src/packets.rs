//! Sealed packets for load and kill campaigns: generated residents' recordings sealed by a
//! station's key to a data center, each under a fresh packet id of that station, without a
//! station's store (what the campaign tests is the server that receives them).

use crate::error::SimError;
use rekam::domain::manifest::Recording;
use rekam_packet::envelope::{Header, PacketId, SealedPacket};
use rekam_packet::{DcIdentity, StationKey};

/// The recordings of two generated residents: what [`sealed_from`] seals, taken in turn.
/// Generating them is the slow part; a campaign of many stations generates them once.
pub fn residents() -> Result<Vec<Recording>, SimError> {
    let pool = rekam_synth::resident::RegionPool::load().map_err(|e| fixture(&e))?;
    let mut people = Vec::new();
    let mut k = 0;
    while people.len() < 2 {
        if let Some(r) = rekam_synth::recording::recording(
            &pool,
            2026,
            k,
            rekam_synth::resident::reference_date(),
            "OP-01",
        ) {
            people.push(r.recording);
        }
        k += 1;
    }
    Ok(people)
}

/// `n` distinct packets of `station` (kecamatan 32.73.01), sealed with `key` to `dc`: the
/// recordings of [`residents`], taken in turn.
pub fn sealed(
    station: &str,
    key: &StationKey,
    dc: &DcIdentity,
    n: usize,
) -> Result<Vec<Vec<u8>>, SimError> {
    sealed_from(&residents()?, station, key, dc, n)
}

/// `n` distinct packets of `station` sealed so from `people`'s recordings, taken in turn.
pub fn sealed_from(
    people: &[Recording],
    station: &str,
    key: &StationKey,
    dc: &DcIdentity,
    n: usize,
) -> Result<Vec<Vec<u8>>, SimError> {
    (0..n)
        .map(|i| {
            let mut r = people
                .get(i % people.len().max(1))
                .ok_or_else(|| fixture(&"no recordings to seal"))?
                .clone();
            let id = PacketId::for_station(station).map_err(|e| fixture(&e))?;
            r.manifest.packet_id = id.to_string();
            r.manifest.station_id = station.into();
            r.manifest.kecamatan = "327301".into();
            let contents = r.to_contents().map_err(|e| fixture(&e))?;
            SealedPacket::seal(
                &contents,
                Header {
                    packet_id: id,
                    station_id: station.into(),
                    station_key: key.id(),
                    dc_key: dc.packet_key.id,
                    sealed_at: 0,
                },
                key,
                dc,
                rekam::domain::manifest::DEFAULT_BUDGET,
            )
            .map(SealedPacket::into_bytes)
            .map_err(|e| fixture(&e))
        })
        .collect()
}

/// The packet id in the header of the sealed `packet`.
pub fn id_of(packet: &[u8]) -> Result<String, SimError> {
    SealedPacket::parse(packet)
        .map(|p| p.header().packet_id.to_string())
        .map_err(|e| SimError::Fixture(e.to_string()))
}

fn fixture(e: &dyn std::fmt::Display) -> SimError {
    SimError::Fixture(e.to_string())
}
