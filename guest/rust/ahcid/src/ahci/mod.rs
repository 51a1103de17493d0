//! The AHCI side of ahcid: registers, ATA commands and FISes, ports.
pub mod ata;
pub mod port;
#[allow(dead_code)]
pub mod regs;
