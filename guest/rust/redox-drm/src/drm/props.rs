//! Properties: definitions (name, flags, values, enum names) and the ids
//! of the ones the core knows.

use alloc::vec::Vec;

use super::uapi::*;

pub struct PropDef {
    pub id: u32,
    pub name: &'static str,
    pub flags: u32,
    /// RANGE: [min, max]; OBJECT: [object type]; ENUM: the values.
    pub values: Vec<u64>,
    pub enums: Vec<(u64, &'static str)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum P {
    Edid,
    Dpms,
    ConnCrtcId,
    Active,
    ModeId,
    Type,
    FbId,
    CrtcId,
    SrcX,
    SrcY,
    SrcW,
    SrcH,
    CrtcX,
    CrtcY,
    CrtcW,
    CrtcH,
}

pub const ALL: [P; 16] = [P::Edid, P::Dpms, P::ConnCrtcId, P::Active, P::ModeId, P::Type, P::FbId, P::CrtcId,
    P::SrcX, P::SrcY, P::SrcW, P::SrcH, P::CrtcX, P::CrtcY, P::CrtcW, P::CrtcH];

/// The properties of each object kind, in the order OBJ_GETPROPERTIES lists them.
pub const CONNECTOR_PROPS: [P; 3] = [P::Edid, P::Dpms, P::ConnCrtcId];
pub const CRTC_PROPS: [P; 2] = [P::Active, P::ModeId];
pub const PLANE_PROPS: [P; 11] = [P::Type, P::FbId, P::CrtcId, P::SrcX, P::SrcY, P::SrcW, P::SrcH, P::CrtcX, P::CrtcY, P::CrtcW, P::CrtcH];

pub const PLANE_TYPE_PRIMARY: u64 = 1;

pub fn define(p: P, id: u32) -> PropDef {
    let range = |name, flags: u32, max: u64| PropDef { id, name, flags: PROP_RANGE | flags, values: alloc::vec![0, max], enums: Vec::new() };
    let object = |name, ty: u32| PropDef { id, name, flags: PROP_OBJECT | PROP_ATOMIC, values: alloc::vec![ty as u64], enums: Vec::new() };
    match p {
        P::Edid => PropDef { id, name: "EDID", flags: PROP_BLOB | PROP_IMMUTABLE, values: Vec::new(), enums: Vec::new() },
        P::Dpms => PropDef { id, name: "DPMS", flags: PROP_ENUM, values: alloc::vec![0, 1, 2, 3],
            enums: alloc::vec![(0, "On"), (1, "Standby"), (2, "Suspend"), (3, "Off")] },
        P::ConnCrtcId => object("CRTC_ID", OBJECT_CRTC),
        P::Active => range("ACTIVE", PROP_ATOMIC, 1),
        P::ModeId => PropDef { id, name: "MODE_ID", flags: PROP_BLOB | PROP_ATOMIC, values: Vec::new(), enums: Vec::new() },
        P::Type => PropDef { id, name: "type", flags: PROP_ENUM | PROP_IMMUTABLE, values: alloc::vec![0, 1, 2],
            enums: alloc::vec![(0, "Overlay"), (1, "Primary"), (2, "Cursor")] },
        P::FbId => object("FB_ID", OBJECT_FB),
        P::CrtcId => object("CRTC_ID", OBJECT_CRTC),
        P::SrcX => range("SRC_X", PROP_ATOMIC, u32::MAX as u64),
        P::SrcY => range("SRC_Y", PROP_ATOMIC, u32::MAX as u64),
        P::SrcW => range("SRC_W", PROP_ATOMIC, u32::MAX as u64),
        P::SrcH => range("SRC_H", PROP_ATOMIC, u32::MAX as u64),
        // Signed ranges hold their bounds as s64 bit patterns.
        P::CrtcX => PropDef { id, name: "CRTC_X", flags: PROP_SIGNED_RANGE | PROP_ATOMIC, values: alloc::vec![i32::MIN as i64 as u64, i32::MAX as u64], enums: Vec::new() },
        P::CrtcY => PropDef { id, name: "CRTC_Y", flags: PROP_SIGNED_RANGE | PROP_ATOMIC, values: alloc::vec![i32::MIN as i64 as u64, i32::MAX as u64], enums: Vec::new() },
        P::CrtcW => range("CRTC_W", PROP_ATOMIC, i32::MAX as u64),
        P::CrtcH => range("CRTC_H", PROP_ATOMIC, i32::MAX as u64),
    }
}
