//! The generic KMS/GEM core of the daemon (the part of redox-drm that is not
//! hardware): object ids, CRTCs, planes, encoders, connectors, properties
//! and blobs, framebuffers, dumb buffers, per-handle event queues, vblank
//! waits, and the decoder of the `drm:card0` calls (docs/DRM-SCHEME.md).
//! Hardware is reached only through `KmsDriver` (driver.rs).
//!
//! State: `cur` is the committed state (CRTC active/mode, plane framebuffer
//! and rectangles, connector routing). Every change — legacy SETCRTC and
//! PAGE_FLIP included — is built as a new state, checked whole, then
//! applied (`commit`), as Linux's atomic helpers do.

pub mod buf;
pub mod driver;
pub mod edid;
pub mod mode;
pub mod props;
pub mod uapi;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;

use redox_driver::scheme::{EventPoster, Op, Request, EVENT_READ};
use redox_driver::{debug, error, info, warn, Dma, DmaBuffer, Error, Result, EAGAIN, EBADF, EBUSY, EINVAL, ENOENT, ENOMEM};

use buf::CallBuf;
use driver::{ConnectorDesc, KmsDriver, Modeset, Scanout};
use mode::ModeInfo;
use props::{PropDef, P};
use uapi::*;

fn err<T>(errno: i32) -> Result<T> {
    Err(Error::new(errno))
}

/// The fmap offset of dumb buffer `handle` (MAP_DUMB): 256 MiB apart, the largest buffer's size.
const MAP_STRIDE: u64 = 0x1000_0000;
/// Largest dumb buffer side (8192 × 8192 × 4 bytes = 256 MiB).
const MAX_DUMB_SIDE: u32 = 8192;

/// An open `drm:card0` handle (a DRM file).
struct File {
    nonblock: bool,
    universal_planes: bool,
    atomic: bool,
    events: VecDeque<Vec<u8>>,
    /// A read waiting for an event.
    reader: Option<Request>,
}

/// A dumb buffer (GEM object): contiguous RAM, mapped into GPU address space while a framebuffer uses it.
struct Bo {
    owner: usize,
    mem: DmaBuffer,
    size: usize,
    /// The handle is still open (DESTROY_DUMB / GEM_CLOSE drop it; framebuffers keep the memory).
    open: bool,
    fb_refs: u32,
    gpu: Option<u32>,
}

struct Fb {
    /// None: the firmware's framebuffer (adopted), owned by no file.
    owner: Option<usize>,
    bo: Option<u32>,
    width: u32,
    height: u32,
    pitch: u32,
    format: u32,
    /// GPU address of the first pixel.
    gpu: u32,
}

struct Blob {
    owner: Option<usize>,
    data: Vec<u8>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
struct CrtcSt {
    active: bool,
    mode: Option<ModeInfo>,
    mode_blob: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
struct PlaneSt {
    fb: u32,
    crtc: Option<usize>,
    src_x: u32,
    src_y: u32,
    src_w: u32,
    src_h: u32,
    crtc_x: i32,
    crtc_y: i32,
    crtc_w: u32,
    crtc_h: u32,
}

#[derive(Clone, PartialEq, Eq, Debug, Default)]
struct State {
    crtc: Vec<CrtcSt>,
    plane: Vec<PlaneSt>,
    /// By connector: the CRTC it is routed to.
    conn: Vec<Option<usize>>,
    dpms: Vec<u64>,
}

struct Connector {
    desc: ConnectorDesc,
    connected: bool,
    modes: Vec<ModeInfo>,
    mm_width: u32,
    mm_height: u32,
    edid_blob: u32,
}

struct PendingFlip {
    fb: u32,
    scanout: Scanout,
    /// The file and user data of the event to send, if one was asked for.
    event: Option<(usize, u64)>,
}

enum WaitKind {
    /// A WAIT_VBLANK call held until the vblank.
    Call(Request, CallBuf),
    /// A WAIT_VBLANK with EVENT: a DRM_EVENT_VBLANK when the vblank comes.
    Event(usize, u64),
}

struct Waiter {
    crtc: usize,
    target: u32,
    file: usize,
    kind: WaitKind,
}

pub struct Drm<D: KmsDriver> {
    pub drv: D,
    poster: Option<EventPoster>,
    files: BTreeMap<usize, File>,
    next_file: usize,
    next_id: u32,
    next_bo: u32,
    props: Vec<(P, PropDef)>,
    crtc_ids: Vec<u32>,
    plane_ids: Vec<u32>,
    encoder_ids: Vec<u32>,
    connector_ids: Vec<u32>,
    connectors: Vec<Connector>,
    fbs: BTreeMap<u32, Fb>,
    bos: BTreeMap<u32, Bo>,
    blobs: BTreeMap<u32, Blob>,
    cur: State,
    /// The CRTC is running in hardware.
    hw_on: Vec<bool>,
    pending: Vec<Option<PendingFlip>>,
    waiters: Vec<Waiter>,
    vblank_on: Vec<bool>,
    /// (frame counter, ns) of the last vblank handled, by CRTC.
    last_vblank: Vec<(u32, u64)>,
}

/// Sequence `a` is at or after `b` (wrapping).
fn reached(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) >= 0
}

fn event_bytes(ty: u32, user_data: u64, ns: u64, sequence: u32, crtc_id: u32) -> Vec<u8> {
    let mut e = alloc::vec![0u8; 32];
    e[0..4].copy_from_slice(&ty.to_le_bytes());
    e[4..8].copy_from_slice(&32u32.to_le_bytes());
    e[8..16].copy_from_slice(&user_data.to_le_bytes());
    e[16..20].copy_from_slice(&((ns / 1_000_000_000) as u32).to_le_bytes());
    e[20..24].copy_from_slice(&(((ns % 1_000_000_000) / 1000) as u32).to_le_bytes());
    e[24..28].copy_from_slice(&sequence.to_le_bytes());
    e[28..32].copy_from_slice(&crtc_id.to_le_bytes());
    e
}

impl<D: KmsDriver> Drm<D> {
    pub fn new(drv: D) -> Drm<D> {
        let ncrtc = drv.crtc_count();
        let descs = drv.connectors();
        let mut d = Drm {
            drv, poster: None, files: BTreeMap::new(), next_file: 1, next_id: 1, next_bo: 1,
            props: Vec::new(), crtc_ids: Vec::new(), plane_ids: Vec::new(), encoder_ids: Vec::new(), connector_ids: Vec::new(),
            connectors: Vec::new(), fbs: BTreeMap::new(), bos: BTreeMap::new(), blobs: BTreeMap::new(),
            cur: State::default(), hw_on: alloc::vec![false; ncrtc], pending: (0..ncrtc).map(|_| None).collect(),
            waiters: Vec::new(), vblank_on: alloc::vec![false; ncrtc], last_vblank: alloc::vec![(0, 0); ncrtc],
        };
        // One id space, as Linux's: properties, then planes and CRTCs, encoders, connectors.
        for p in props::ALL {
            let id = d.alloc_id();
            d.props.push((p, props::define(p, id)));
        }
        for _ in 0..ncrtc {
            let p = d.alloc_id();
            d.plane_ids.push(p);
            let c = d.alloc_id();
            d.crtc_ids.push(c);
        }
        for _ in &descs {
            let e = d.alloc_id();
            d.encoder_ids.push(e);
        }
        for desc in descs {
            let c = d.alloc_id();
            d.connector_ids.push(c);
            d.connectors.push(Connector { desc, connected: false, modes: Vec::new(), mm_width: 0, mm_height: 0, edid_blob: 0 });
        }
        d.cur = State {
            crtc: alloc::vec![CrtcSt::default(); ncrtc],
            plane: alloc::vec![PlaneSt::default(); ncrtc],
            conn: alloc::vec![None; d.connectors.len()],
            dpms: alloc::vec![0; d.connectors.len()],
        };
        for i in 0..d.connectors.len() {
            d.probe(i);
        }
        d.adopt();
        d
    }

    pub fn set_poster(&mut self, p: EventPoster) {
        self.poster = Some(p);
    }

    fn alloc_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn new_blob(&mut self, owner: Option<usize>, data: Vec<u8>) -> u32 {
        let id = self.alloc_id();
        self.blobs.insert(id, Blob { owner, data });
        id
    }

    // ---- connectors

    /// Reads the connector's status and EDID; replaces its modes and EDID blob.
    fn probe(&mut self, i: usize) {
        let p = self.drv.probe(i);
        let c = &mut self.connectors[i];
        let old_blob = core::mem::take(&mut c.edid_blob);
        c.connected = p.connected;
        c.modes.clear();
        c.mm_width = 0;
        c.mm_height = 0;
        let mut edid_bytes = None;
        if p.connected {
            if let Some(raw) = p.edid {
                match edid::parse(&raw) {
                    Ok(e) => {
                        info!("{}: EDID {}{}{} {:04x} \"{}\", {}x{} mm, {} mode(s){}", c.desc.name,
                            e.manufacturer[0] as char, e.manufacturer[1] as char, e.manufacturer[2] as char, e.product, e.name,
                            e.mm_width, e.mm_height, e.modes.len(),
                            e.modes.first().map(|m| alloc::format!(", preferred {}x{}@{}", m.hdisplay, m.vdisplay, m.vrefresh)).unwrap_or_default());
                        c.modes = e.modes;
                        c.mm_width = e.mm_width;
                        c.mm_height = e.mm_height;
                        edid_bytes = Some(raw.to_vec());
                    }
                    Err(e) => warn!("{}: EDID rejected ({:?}); no modes", c.desc.name, e),
                }
            } else {
                warn!("{}: connected but no EDID could be read; no modes", c.desc.name);
            }
        }
        if old_blob != 0 {
            self.blobs.remove(&old_blob);
        }
        if let Some(b) = edid_bytes {
            let id = self.new_blob(None, b);
            self.connectors[i].edid_blob = id;
        }
    }

    /// Takes over what the firmware left running (a framebuffer object and the CRTC's state).
    fn adopt(&mut self) {
        let a = match self.drv.take_adopted() {
            Some(a) => a,
            None => return,
        };
        let mut mode = a.timings;
        // The monitor's mode with these timings gives the clock and name when the driver could not.
        if let Some(m) = self.connectors.get(a.connector).and_then(|c| c.modes.iter().find(|m| {
            m.hdisplay == mode.hdisplay && m.vdisplay == mode.vdisplay && m.htotal == mode.htotal && m.vtotal == mode.vtotal
                && m.hsync_start == mode.hsync_start && m.hsync_end == mode.hsync_end && m.vsync_start == mode.vsync_start && m.vsync_end == mode.vsync_end
        })) {
            if mode.clock == 0 || (mode.clock as i64 - m.clock as i64).abs() * 200 < m.clock as i64 {
                mode = *m;
            }
        }
        if mode.clock == 0 {
            warn!("firmware pipe {}: pixel clock unknown; not adopted", a.crtc);
            return;
        }
        mode.vrefresh = mode.compute_vrefresh();
        mode.set_name();
        let fb_id = self.alloc_id();
        self.fbs.insert(fb_id, Fb { owner: None, bo: None, width: a.fb.width, height: a.fb.height, pitch: a.fb.pitch, format: FORMAT_XRGB8888, gpu: a.fb.gpu });
        let blob = self.new_blob(None, mode.to_bytes());
        let i = a.crtc;
        self.cur.crtc[i] = CrtcSt { active: true, mode: Some(mode), mode_blob: blob };
        self.cur.plane[i] = PlaneSt {
            fb: fb_id, crtc: Some(i), src_x: a.fb.x << 16, src_y: a.fb.y << 16,
            src_w: (mode.hdisplay as u32) << 16, src_h: (mode.vdisplay as u32) << 16,
            crtc_x: 0, crtc_y: 0, crtc_w: mode.hdisplay as u32, crtc_h: mode.vdisplay as u32,
        };
        if a.connector < self.cur.conn.len() {
            self.cur.conn[a.connector] = Some(i);
        }
        self.hw_on[i] = true;
        info!("adopted the firmware's pipe {}: {} {}x{}@{} on {}, framebuffer {} ({}x{}, pitch {}, GGTT {:#x})",
            i, mode_name(&mode), mode.hdisplay, mode.vdisplay, mode.vrefresh,
            self.connectors.get(a.connector).map(|c| c.desc.name.as_str()).unwrap_or("?"), fb_id, a.fb.width, a.fb.height, a.fb.pitch, a.fb.gpu);
    }

    // ---- scheme requests

    pub fn handle(&mut self, req: Request) {
        match req.op() {
            Op::Open => {
                if req.path() != "card0" && req.path() != "card0/" {
                    return req.reply(err(ENOENT));
                }
                let id = self.next_file;
                self.next_file += 1;
                self.files.insert(id, File { nonblock: req.flags() & O_NONBLOCK != 0, universal_planes: false, atomic: false, events: VecDeque::new(), reader: None });
                debug!("open card0: handle {} (pid {})", id, req.pid());
                req.reply(Ok(id));
            }
            Op::Close => {
                let h = req.handle();
                if self.files.contains_key(&h) {
                    self.close(h);
                    req.reply(Ok(0));
                } else {
                    req.reply(err(EBADF));
                }
            }
            Op::Read => self.read(req),
            Op::Write => req.reply(err(EINVAL)),
            Op::Fsize => req.reply(Ok(0)),
            Op::Other(redox_driver::scheme::OP_CALL) => self.call(req),
            Op::Other(redox_driver::scheme::OP_FMAP) => self.fmap(req),
            Op::Other(_) => req.reply(err(EINVAL)),
        }
    }

    fn close(&mut self, h: usize) {
        let mut f = match self.files.remove(&h) {
            Some(f) => f,
            None => return,
        };
        if let Some(r) = f.reader.take() {
            r.reply(err(EBADF));
        }
        // Held vblank waits of the file end; its events are dropped.
        let mut i = 0;
        while i < self.waiters.len() {
            if self.waiters[i].file == h {
                let w = self.waiters.remove(i);
                if let WaitKind::Call(r, _) = w.kind {
                    r.reply(err(EBADF));
                }
            } else {
                i += 1;
            }
        }
        for p in self.pending.iter_mut().flatten() {
            if matches!(p.event, Some((fh, _)) if fh == h) {
                p.event = None;
            }
        }
        // Its framebuffers go (a CRTC showing one is turned off, as Linux's drm_fb_release), then its buffers.
        let fbs: Vec<u32> = self.fbs.iter().filter(|(_, fb)| fb.owner == Some(h)).map(|(id, _)| *id).collect();
        for id in fbs {
            let _ = self.rmfb(id);
        }
        let bos: Vec<u32> = self.bos.iter().filter(|(_, b)| b.owner == h).map(|(id, _)| *id).collect();
        for id in bos {
            self.drop_bo_handle(id);
        }
        let blobs: Vec<u32> = self.blobs.iter().filter(|(_, b)| b.owner == Some(h)).map(|(id, _)| *id).collect();
        for id in blobs {
            self.blobs.remove(&id);
        }
        self.update_vblank_irqs();
        debug!("close card0 handle {}", h);
    }

    fn read(&mut self, req: Request) {
        let h = req.handle();
        let f = match self.files.get_mut(&h) {
            Some(f) => f,
            None => return req.reply(err(EBADF)),
        };
        if f.reader.is_some() {
            return req.reply(err(EBUSY));
        }
        if f.events.is_empty() {
            if f.nonblock {
                return req.reply(err(EAGAIN));
            }
            f.reader = Some(req);
            return;
        }
        Self::deliver(f, req);
    }

    /// Answers a read with as many whole events as fit.
    fn deliver(f: &mut File, req: Request) {
        let cap = req.len();
        let first = f.events.front().map(|e| e.len()).unwrap_or(0);
        if first > cap {
            return req.reply(err(EINVAL));
        }
        let mut out = Vec::new();
        while let Some(e) = f.events.front() {
            if out.len() + e.len() > cap {
                break;
            }
            out.extend_from_slice(e);
            f.events.pop_front();
        }
        req.copy_to_client(0, &out);
        req.reply(Ok(out.len()));
    }

    fn queue_event(&mut self, h: usize, ev: Vec<u8>) {
        let f = match self.files.get_mut(&h) {
            Some(f) => f,
            None => return,
        };
        // Bounded as Linux's event space (4 KiB of pending events per file): the oldest go.
        let total: usize = f.events.iter().map(|e| e.len()).sum();
        if total + ev.len() > 4096 {
            f.events.pop_front();
        }
        f.events.push_back(ev);
        if let Some(r) = f.reader.take() {
            Self::deliver(f, r);
        }
        if let Some(p) = &self.poster {
            p.post(h, EVENT_READ);
        }
    }

    fn fmap(&mut self, req: Request) {
        let h = req.handle();
        if !self.files.contains_key(&h) {
            return req.reply(err(EBADF));
        }
        let off = req.offset();
        let size = req.map_size() as u64;
        let key = (off / MAP_STRIDE) as u32;
        let within = off % MAP_STRIDE;
        match self.bos.get(&key) {
            Some(b) if b.owner == h && b.open && within + size <= b.size as u64 && size > 0 => {
                req.reply_u64(b.mem.physical() + within);
            }
            _ => req.reply(err(EINVAL)),
        }
    }

    fn call(&mut self, req: Request) {
        let h = req.handle();
        if !self.files.contains_key(&h) {
            return req.reply(err(EBADF));
        }
        let code = req.call_code();
        let size = ioc_size(code);
        if req.len() < size {
            return req.reply(err(EINVAL));
        }
        let mut b = alloc::vec![0u8; req.len()];
        req.copy_from_client(0, &mut b);
        let mut cb = CallBuf::new(b);
        let r = match code {
            VERSION => self.version(&mut cb),
            GEM_CLOSE | MODE_DESTROY_DUMB => self.destroy_dumb(h, cb.u32(0)),
            GET_CAP => self.get_cap(&mut cb),
            SET_CLIENT_CAP => self.set_client_cap(h, &cb),
            WAIT_VBLANK => return self.wait_vblank(h, req, cb),
            MODE_GETRESOURCES => self.get_resources(&mut cb),
            MODE_GETCRTC => self.get_crtc(&mut cb),
            MODE_SETCRTC => self.set_crtc(h, &cb),
            MODE_GETENCODER => self.get_encoder(&mut cb),
            MODE_GETCONNECTOR => self.get_connector(&mut cb),
            MODE_GETPROPERTY => self.get_property(&mut cb),
            MODE_GETPROPBLOB => self.get_blob(&mut cb),
            MODE_ADDFB => self.addfb(h, &mut cb, false),
            MODE_ADDFB2 => self.addfb(h, &mut cb, true),
            MODE_RMFB => self.rmfb_call(h, cb.u32(0)),
            MODE_PAGE_FLIP => self.page_flip(h, &cb),
            MODE_CREATE_DUMB => self.create_dumb(h, &mut cb),
            MODE_MAP_DUMB => self.map_dumb(h, &mut cb),
            MODE_GETPLANERESOURCES => self.get_plane_resources(h, &mut cb),
            MODE_GETPLANE => self.get_plane(&mut cb),
            MODE_OBJ_GETPROPERTIES => self.obj_get_properties(h, &mut cb),
            MODE_ATOMIC => self.atomic(h, &cb),
            MODE_CREATEPROPBLOB => self.create_blob(h, &mut cb),
            MODE_DESTROYPROPBLOB => self.destroy_blob(h, cb.u32(0)),
            _ => {
                debug!("unknown call code {:#010x}", code);
                err(ENOTTY)
            }
        };
        match r {
            Ok(()) => {
                req.copy_to_client(0, &cb.b);
                req.reply(Ok(0));
            }
            Err(e) => {
                debug!("call {:#010x}: {}", code, e);
                req.reply(Err(e));
            }
        }
    }

    // ---- simple queries

    fn version(&mut self, cb: &mut CallBuf) -> Result<()> {
        let i = self.drv.info();
        cb.put_u32(0, i.major as u32);
        cb.put_u32(4, i.minor as u32);
        cb.put_u32(8, i.patch as u32);
        for (len_at, ptr_at, s) in [(16usize, 24usize, i.name), (32, 40, i.date), (48, 56, i.desc)] {
            let room = cb.u64(len_at);
            let n = (s.len() as u64).min(room) as usize;
            if n > 0 {
                let at = cb.check_array(cb.u64(ptr_at), n, 1)?;
                cb.put_bytes(at, &s.as_bytes()[..n]);
            }
            cb.put_u64(len_at, s.len() as u64);
        }
        Ok(())
    }

    fn get_cap(&mut self, cb: &mut CallBuf) -> Result<()> {
        let v = match cb.u64(0) {
            CAP_DUMB_BUFFER => 1,
            CAP_VBLANK_HIGH_CRTC => 1,
            CAP_DUMB_PREFERRED_DEPTH => 24,
            CAP_DUMB_PREFER_SHADOW => 0,
            CAP_TIMESTAMP_MONOTONIC => 1,
            CAP_ASYNC_PAGE_FLIP => 1,
            CAP_CURSOR_WIDTH | CAP_CURSOR_HEIGHT => 0,
            CAP_ADDFB2_MODIFIERS => 0,
            CAP_CRTC_IN_VBLANK_EVENT => 1,
            _ => return err(EINVAL),
        };
        cb.put_u64(8, v);
        Ok(())
    }

    fn set_client_cap(&mut self, h: usize, cb: &CallBuf) -> Result<()> {
        let (cap, v) = (cb.u64(0), cb.u64(8));
        if v > 1 {
            return err(EINVAL);
        }
        let f = self.files.get_mut(&h).ok_or(Error::new(EBADF))?;
        match cap {
            CLIENT_CAP_UNIVERSAL_PLANES => f.universal_planes = v == 1,
            CLIENT_CAP_ATOMIC => {
                f.atomic = v == 1;
                if v == 1 {
                    f.universal_planes = true;
                }
            }
            _ => return err(EINVAL),
        }
        Ok(())
    }

    fn get_resources(&mut self, cb: &mut CallBuf) -> Result<()> {
        let fbs: Vec<u32> = self.fbs.keys().copied().collect();
        let lists: [(usize, usize, &[u32]); 4] = [(0, 32, &fbs), (8, 36, &self.crtc_ids), (16, 40, &self.connector_ids), (24, 44, &self.encoder_ids)];
        for (ptr_at, count_at, ids) in lists {
            let room = cb.u32(count_at);
            cb.put_u32_array(cb.u64(ptr_at), room, ids)?;
            cb.put_u32(count_at, ids.len() as u32);
        }
        let (minw, maxw, minh, maxh) = self.drv.limits();
        cb.put_u32(48, minw);
        cb.put_u32(52, maxw);
        cb.put_u32(56, minh);
        cb.put_u32(60, maxh);
        Ok(())
    }

    fn crtc_index(&self, id: u32) -> Result<usize> {
        self.crtc_ids.iter().position(|&c| c == id).ok_or(Error::new(ENOENT))
    }

    fn connector_index(&self, id: u32) -> Result<usize> {
        self.connector_ids.iter().position(|&c| c == id).ok_or(Error::new(ENOENT))
    }

    fn get_crtc(&mut self, cb: &mut CallBuf) -> Result<()> {
        let i = self.crtc_index(cb.u32(12))?;
        let c = self.cur.crtc[i];
        let p = self.cur.plane[i];
        cb.put_u32(16, if c.active { p.fb } else { 0 });
        cb.put_u32(20, p.src_x >> 16);
        cb.put_u32(24, p.src_y >> 16);
        cb.put_u32(28, 0);
        match (c.active, c.mode) {
            (true, Some(m)) => {
                cb.put_u32(32, 1);
                let mut mb = [0u8; MODEINFO_SIZE];
                m.encode(&mut mb);
                cb.put_bytes(36, &mb);
            }
            _ => {
                cb.put_u32(32, 0);
                cb.put_bytes(36, &[0u8; MODEINFO_SIZE]);
            }
        }
        Ok(())
    }

    fn get_encoder(&mut self, cb: &mut CallBuf) -> Result<()> {
        let i = self.encoder_ids.iter().position(|&e| e == cb.u32(0)).ok_or(Error::new(ENOENT))?;
        cb.put_u32(4, ENCODER_TMDS);
        cb.put_u32(8, self.cur.conn[i].map(|c| self.crtc_ids[c]).unwrap_or(0));
        cb.put_u32(12, self.connectors[i].desc.possible_crtcs);
        cb.put_u32(16, 0);
        Ok(())
    }

    fn get_connector(&mut self, cb: &mut CallBuf) -> Result<()> {
        let i = self.connector_index(cb.u32(48))?;
        // Probing happens when the client asks for the count (count_modes 0), as Linux's fill_modes.
        if cb.u32(32) == 0 {
            self.probe(i);
        }
        let (props, values) = self.obj_props(Obj::Connector(i), true);
        let c = &self.connectors[i];
        let mut modes = Vec::with_capacity(c.modes.len() * MODEINFO_SIZE);
        for m in &c.modes {
            modes.extend_from_slice(&m.to_bytes());
        }
        let room_modes = cb.u32(32) as usize;
        let nm = c.modes.len().min(room_modes);
        let at = cb.check_array(cb.u64(8), nm, MODEINFO_SIZE)?;
        let room_props = cb.u32(36);
        let room_enc = cb.u32(40);
        cb.put_u32_array(cb.u64(0), room_enc, &[self.encoder_ids[i]])?;
        cb.put_u32_array(cb.u64(16), room_props, &props)?;
        cb.put_u64_array(cb.u64(24), room_props, &values)?;
        if nm > 0 {
            cb.put_bytes(at, &modes[..nm * MODEINFO_SIZE]);
        }
        cb.put_u32(32, c.modes.len() as u32);
        cb.put_u32(36, props.len() as u32);
        cb.put_u32(40, 1);
        cb.put_u32(44, if self.cur.conn[i].is_some() { self.encoder_ids[i] } else { 0 });
        cb.put_u32(52, c.desc.type_);
        cb.put_u32(56, c.desc.type_id);
        cb.put_u32(60, if c.connected { CONNECTED } else { DISCONNECTED });
        cb.put_u32(64, c.mm_width);
        cb.put_u32(68, c.mm_height);
        cb.put_u32(72, SUBPIXEL_UNKNOWN);
        cb.put_u32(76, 0);
        Ok(())
    }

    fn get_plane_resources(&mut self, h: usize, cb: &mut CallBuf) -> Result<()> {
        // All planes are primary planes: without UNIVERSAL_PLANES none are listed (Linux's rule).
        let universal = self.files.get(&h).map(|f| f.universal_planes).unwrap_or(false);
        let ids: Vec<u32> = if universal { self.plane_ids.clone() } else { Vec::new() };
        let room = cb.u32(8);
        cb.put_u32_array(cb.u64(0), room, &ids)?;
        cb.put_u32(8, ids.len() as u32);
        Ok(())
    }

    fn get_plane(&mut self, cb: &mut CallBuf) -> Result<()> {
        // drm_mode_get_plane: plane_id 0, crtc_id 4, fb_id 8, possible_crtcs 12, gamma_size 16, count_format_types 20, format_type_ptr 24
        let i = self.plane_ids.iter().position(|&p| p == cb.u32(0)).ok_or(Error::new(ENOENT))?;
        let p = self.cur.plane[i];
        let on = self.cur.crtc[i].active;
        cb.put_u32(4, if on { p.crtc.map(|c| self.crtc_ids[c]).unwrap_or(0) } else { 0 });
        cb.put_u32(8, if on { p.fb } else { 0 });
        cb.put_u32(12, 1 << i);
        cb.put_u32(16, 0);
        let formats = [FORMAT_XRGB8888, FORMAT_ARGB8888];
        let room = cb.u32(20);
        cb.put_u32_array(cb.u64(24), room, &formats)?;
        cb.put_u32(20, formats.len() as u32);
        Ok(())
    }

    // ---- properties and blobs

    fn find_obj(&self, id: u32) -> Option<Obj> {
        if let Some(i) = self.crtc_ids.iter().position(|&c| c == id) {
            return Some(Obj::Crtc(i));
        }
        if let Some(i) = self.plane_ids.iter().position(|&c| c == id) {
            return Some(Obj::Plane(i));
        }
        if let Some(i) = self.connector_ids.iter().position(|&c| c == id) {
            return Some(Obj::Connector(i));
        }
        if let Some(i) = self.encoder_ids.iter().position(|&c| c == id) {
            return Some(Obj::Encoder(i));
        }
        if self.fbs.contains_key(&id) {
            return Some(Obj::Fb);
        }
        None
    }

    /// Property ids and values of an object (atomic-only ones only for atomic clients).
    fn obj_props(&self, o: Obj, atomic: bool) -> (Vec<u32>, Vec<u64>) {
        let list: &[P] = match o {
            Obj::Crtc(_) => &props::CRTC_PROPS,
            Obj::Plane(_) => &props::PLANE_PROPS,
            Obj::Connector(_) => &props::CONNECTOR_PROPS,
            _ => &[],
        };
        let mut ids = Vec::new();
        let mut vals = Vec::new();
        for &p in list {
            let def = &self.props.iter().find(|(q, _)| *q == p).unwrap().1;
            if def.flags & PROP_ATOMIC != 0 && !atomic {
                continue;
            }
            ids.push(def.id);
            vals.push(self.prop_value(&self.cur, o, p));
        }
        (ids, vals)
    }

    fn prop_value(&self, s: &State, o: Obj, p: P) -> u64 {
        match (o, p) {
            (Obj::Connector(i), P::Edid) => self.connectors[i].edid_blob as u64,
            (Obj::Connector(i), P::Dpms) => s.dpms[i],
            (Obj::Connector(i), P::ConnCrtcId) => s.conn[i].map(|c| self.crtc_ids[c] as u64).unwrap_or(0),
            (Obj::Crtc(i), P::Active) => s.crtc[i].active as u64,
            (Obj::Crtc(i), P::ModeId) => if s.crtc[i].mode.is_some() { s.crtc[i].mode_blob as u64 } else { 0 },
            (Obj::Plane(_), P::Type) => props::PLANE_TYPE_PRIMARY,
            (Obj::Plane(i), P::FbId) => s.plane[i].fb as u64,
            (Obj::Plane(i), P::CrtcId) => s.plane[i].crtc.map(|c| self.crtc_ids[c] as u64).unwrap_or(0),
            (Obj::Plane(i), P::SrcX) => s.plane[i].src_x as u64,
            (Obj::Plane(i), P::SrcY) => s.plane[i].src_y as u64,
            (Obj::Plane(i), P::SrcW) => s.plane[i].src_w as u64,
            (Obj::Plane(i), P::SrcH) => s.plane[i].src_h as u64,
            (Obj::Plane(i), P::CrtcX) => s.plane[i].crtc_x as i64 as u64,
            (Obj::Plane(i), P::CrtcY) => s.plane[i].crtc_y as i64 as u64,
            (Obj::Plane(i), P::CrtcW) => s.plane[i].crtc_w as u64,
            (Obj::Plane(i), P::CrtcH) => s.plane[i].crtc_h as u64,
            _ => 0,
        }
    }

    fn obj_get_properties(&mut self, h: usize, cb: &mut CallBuf) -> Result<()> {
        let (id, ty) = (cb.u32(20), cb.u32(24));
        let o = self.find_obj(id).ok_or(Error::new(ENOENT))?;
        let want = match o {
            Obj::Crtc(_) => OBJECT_CRTC,
            Obj::Plane(_) => OBJECT_PLANE,
            Obj::Connector(_) => OBJECT_CONNECTOR,
            Obj::Encoder(_) => OBJECT_ENCODER,
            Obj::Fb => OBJECT_FB,
        };
        if ty != OBJECT_ANY && ty != want {
            return err(ENOENT);
        }
        let atomic = self.files.get(&h).map(|f| f.atomic).unwrap_or(false);
        let (ids, vals) = self.obj_props(o, atomic);
        let room = cb.u32(16);
        cb.put_u32_array(cb.u64(0), room, &ids)?;
        cb.put_u64_array(cb.u64(8), room, &vals)?;
        cb.put_u32(16, ids.len() as u32);
        Ok(())
    }

    fn get_property(&mut self, cb: &mut CallBuf) -> Result<()> {
        let id = cb.u32(16);
        let def = &self.props.iter().find(|(_, d)| d.id == id).ok_or(Error::new(ENOENT))?.1;
        cb.put_u32(20, def.flags);
        let mut name = [0u8; 32];
        name[..def.name.len()].copy_from_slice(def.name.as_bytes());
        cb.put_bytes(24, &name);
        let room_v = cb.u32(56);
        let room_e = cb.u32(60);
        cb.put_u64_array(cb.u64(0), room_v, &def.values)?;
        let ne = def.enums.len().min(room_e as usize);
        let at = cb.check_array(cb.u64(8), ne, 40)?;
        for (k, (v, n)) in def.enums[..ne].iter().enumerate() {
            let mut e = [0u8; 40];
            e[..8].copy_from_slice(&v.to_le_bytes());
            e[8..8 + n.len()].copy_from_slice(n.as_bytes());
            cb.put_bytes(at + 40 * k, &e);
        }
        cb.put_u32(56, def.values.len() as u32);
        cb.put_u32(60, def.enums.len() as u32);
        Ok(())
    }

    fn get_blob(&mut self, cb: &mut CallBuf) -> Result<()> {
        let b = self.blobs.get(&cb.u32(0)).ok_or(Error::new(ENOENT))?;
        let room = cb.u32(4) as usize;
        let n = b.data.len().min(room);
        if n > 0 {
            let at = cb.check_array(cb.u64(8), n, 1)?;
            let data = b.data[..n].to_vec();
            cb.put_bytes(at, &data);
        }
        cb.put_u32(4, b.data.len() as u32);
        Ok(())
    }

    fn create_blob(&mut self, h: usize, cb: &mut CallBuf) -> Result<()> {
        let len = cb.u32(8) as usize;
        if len == 0 || len > 65536 {
            return err(EINVAL);
        }
        let at = cb.check_array(cb.u64(0), len, 1)?;
        let data = cb.bytes(at, len).to_vec();
        let id = self.new_blob(Some(h), data);
        cb.put_u32(12, id);
        Ok(())
    }

    fn destroy_blob(&mut self, h: usize, id: u32) -> Result<()> {
        match self.blobs.get(&id) {
            Some(b) if b.owner == Some(h) => {
                self.blobs.remove(&id);
                Ok(())
            }
            Some(_) => err(redox_driver::EPERM),
            None => err(ENOENT),
        }
    }

    // ---- dumb buffers and framebuffers

    fn create_dumb(&mut self, h: usize, cb: &mut CallBuf) -> Result<()> {
        let (height, width, bpp, flags) = (cb.u32(0), cb.u32(4), cb.u32(8), cb.u32(12));
        if bpp != 32 || flags != 0 || width == 0 || height == 0 || width > MAX_DUMB_SIDE || height > MAX_DUMB_SIDE {
            return err(EINVAL);
        }
        let pitch = (width * 4 + 63) & !63;
        let size = ((pitch as usize * height as usize) + 4095) & !4095;
        let mem = Dma::buffer(size).map_err(|_| {
            warn!("dumb buffer {}x{}: cannot allocate {} bytes (memoryMiB too small?)", width, height, size);
            Error::new(ENOMEM)
        })?;
        let id = self.next_bo;
        self.next_bo += 1;
        self.bos.insert(id, Bo { owner: h, mem, size, open: true, fb_refs: 0, gpu: None });
        cb.put_u32(16, id);
        cb.put_u32(20, pitch);
        cb.put_u64(24, size as u64);
        Ok(())
    }

    fn map_dumb(&mut self, h: usize, cb: &mut CallBuf) -> Result<()> {
        let id = cb.u32(0);
        match self.bos.get(&id) {
            Some(b) if b.owner == h && b.open => {
                cb.put_u64(8, id as u64 * MAP_STRIDE);
                Ok(())
            }
            _ => err(ENOENT),
        }
    }

    fn destroy_dumb(&mut self, h: usize, id: u32) -> Result<()> {
        match self.bos.get(&id) {
            Some(b) if b.owner == h && b.open => {
                self.drop_bo_handle(id);
                Ok(())
            }
            _ => err(ENOENT),
        }
    }

    fn drop_bo_handle(&mut self, id: u32) {
        if let Some(b) = self.bos.get_mut(&id) {
            b.open = false;
            if b.fb_refs == 0 {
                self.bos.remove(&id);
            }
        }
    }

    fn addfb(&mut self, h: usize, cb: &mut CallBuf, v2: bool) -> Result<()> {
        let (width, height, pitch, format, handle, offset) = if v2 {
            let flags = cb.u32(16);
            let format = cb.u32(12);
            if flags != 0 || (format != FORMAT_XRGB8888 && format != FORMAT_ARGB8888) {
                return err(EINVAL);
            }
            // One plane: handles/pitches/offsets[1..3] and every modifier must be 0.
            for k in 1..4 {
                if cb.u32(20 + 4 * k) != 0 || cb.u32(36 + 4 * k) != 0 || cb.u32(52 + 4 * k) != 0 {
                    return err(EINVAL);
                }
            }
            for k in 0..4 {
                if cb.u64(72 + 8 * k) != 0 {
                    return err(EINVAL);
                }
            }
            (cb.u32(4), cb.u32(8), cb.u32(36), format, cb.u32(20), cb.u32(52))
        } else {
            if cb.u32(16) != 32 || cb.u32(20) != 24 {
                return err(EINVAL);
            }
            (cb.u32(4), cb.u32(8), cb.u32(12), FORMAT_XRGB8888, cb.u32(24), 0)
        };
        let (_, maxw, _, maxh) = self.drv.limits();
        if width == 0 || height == 0 || width > maxw || height > maxh || pitch < width * 4 || pitch % 64 != 0 || offset % 4096 != 0 {
            return err(EINVAL);
        }
        let b = match self.bos.get(&handle) {
            Some(b) if b.owner == h && b.open => b,
            _ => return err(ENOENT),
        };
        if offset as u64 + pitch as u64 * height as u64 > b.size as u64 {
            return err(EINVAL);
        }
        let gpu = match b.gpu {
            Some(g) => g,
            None => {
                let (phys, size) = (b.mem.physical(), b.size);
                let g = self.drv.gpu_map(phys, size)?;
                self.bos.get_mut(&handle).unwrap().gpu = Some(g);
                g
            }
        };
        self.bos.get_mut(&handle).unwrap().fb_refs += 1;
        let id = self.alloc_id();
        self.fbs.insert(id, Fb { owner: Some(h), bo: Some(handle), width, height, pitch, format, gpu: gpu + offset });
        cb.put_u32(0, id);
        debug!("framebuffer {}: {}x{} pitch {} at GPU {:#x}", id, width, height, pitch, gpu + offset);
        Ok(())
    }

    fn rmfb_call(&mut self, h: usize, id: u32) -> Result<()> {
        match self.fbs.get(&id) {
            Some(fb) if fb.owner == Some(h) => self.rmfb(id),
            _ => err(ENOENT),
        }
    }

    /// Removes a framebuffer; a CRTC scanning it out is turned off first.
    fn rmfb(&mut self, id: u32) -> Result<()> {
        let users: Vec<usize> = (0..self.cur.plane.len()).filter(|&i| self.cur.plane[i].fb == id || self.pending[i].as_ref().map(|p| p.fb) == Some(id)).collect();
        for i in users {
            let mut new = self.cur.clone();
            new.crtc[i] = CrtcSt::default();
            new.plane[i] = PlaneSt::default();
            for c in new.conn.iter_mut() {
                if *c == Some(i) {
                    *c = None;
                }
            }
            info!("framebuffer {} removed while shown on CRTC {}: CRTC turned off", id, self.crtc_ids[i]);
            if let Err(e) = self.commit(new, ATOMIC_ALLOW_MODESET, 0, None) {
                error!("turning CRTC {} off failed: {}", self.crtc_ids[i], e);
            }
        }
        if let Some(fb) = self.fbs.remove(&id) {
            if let Some(k) = fb.bo {
                let free = {
                    let b = self.bos.get_mut(&k).unwrap();
                    b.fb_refs -= 1;
                    b.fb_refs == 0
                };
                if free {
                    let b = self.bos.get_mut(&k).unwrap();
                    if let Some(g) = b.gpu.take() {
                        let size = b.size;
                        self.drv.gpu_unmap(g, size);
                    }
                    if !self.bos[&k].open {
                        self.bos.remove(&k);
                    }
                }
            }
        }
        Ok(())
    }

    fn scanout(&self, fb_id: u32, p: &PlaneSt) -> Option<Scanout> {
        let fb = self.fbs.get(&fb_id)?;
        Some(Scanout { gpu: fb.gpu, pitch: fb.pitch, width: fb.width, height: fb.height, x: p.src_x >> 16, y: p.src_y >> 16 })
    }

    // ---- modesetting

    fn set_crtc(&mut self, h: usize, cb: &CallBuf) -> Result<()> {
        let i = self.crtc_index(cb.u32(12))?;
        let fb_id = cb.u32(16);
        let mut new = self.cur.clone();
        for c in new.conn.iter_mut() {
            if *c == Some(i) {
                *c = None;
            }
        }
        if fb_id == 0 {
            new.crtc[i] = CrtcSt::default();
            new.plane[i] = PlaneSt::default();
            return self.commit(new, ATOMIC_ALLOW_MODESET, 0, Some(h));
        }
        if cb.u32(32) != 1 || cb.u32(8) != 1 {
            return err(EINVAL);
        }
        let conn_ids = cb.u32_array(cb.u64(0), 1)?;
        let ci = self.connector_index(conn_ids[0])?;
        match self.fbs.get(&fb_id) {
            Some(fb) if fb.owner.is_none() || fb.owner == Some(h) => {}
            _ => return err(ENOENT),
        }
        let mode = ModeInfo::decode(cb.bytes(36, MODEINFO_SIZE));
        let (x, y) = (cb.u32(20), cb.u32(24));
        let blob = match self.cur.crtc[i].mode {
            Some(m) if m.same_timings(&mode) && self.cur.crtc[i].mode_blob != 0 => self.cur.crtc[i].mode_blob,
            _ => self.new_blob(None, mode.to_bytes()),
        };
        new.crtc[i] = CrtcSt { active: true, mode: Some(mode), mode_blob: blob };
        new.plane[i] = PlaneSt {
            fb: fb_id, crtc: Some(i), src_x: x << 16, src_y: y << 16,
            src_w: (mode.hdisplay as u32) << 16, src_h: (mode.vdisplay as u32) << 16,
            crtc_x: 0, crtc_y: 0, crtc_w: mode.hdisplay as u32, crtc_h: mode.vdisplay as u32,
        };
        new.conn[ci] = Some(i);
        self.commit(new, ATOMIC_ALLOW_MODESET, 0, Some(h))
    }

    fn page_flip(&mut self, h: usize, cb: &CallBuf) -> Result<()> {
        let i = self.crtc_index(cb.u32(0))?;
        let fb_id = cb.u32(4);
        let flags = cb.u32(8);
        if flags & !(PAGE_FLIP_EVENT | PAGE_FLIP_ASYNC) != 0 || cb.u32(12) != 0 {
            return err(EINVAL);
        }
        match self.fbs.get(&fb_id) {
            Some(fb) if fb.owner.is_none() || fb.owner == Some(h) => {}
            _ => return err(ENOENT),
        }
        if !self.cur.crtc[i].active {
            return err(EINVAL);
        }
        // A flip keeps the pixel format (Linux: -EINVAL otherwise).
        let cur_format = self.fbs.get(&self.cur.plane[i].fb).map(|f| f.format);
        if cur_format.is_some() && cur_format != self.fbs.get(&fb_id).map(|f| f.format) {
            return err(EINVAL);
        }
        let mut new = self.cur.clone();
        new.plane[i].fb = fb_id;
        let async_ = flags & PAGE_FLIP_ASYNC != 0;
        let mut aflags = if flags & PAGE_FLIP_EVENT != 0 { PAGE_FLIP_EVENT } else { 0 };
        if async_ {
            aflags |= ASYNC_INTERNAL;
        }
        // The same checks as an atomic commit without ALLOW_MODESET.
        self.commit_with(new, aflags, cb.u64(16), Some(h), Some(i), 1 << i)
    }

    fn atomic(&mut self, h: usize, cb: &CallBuf) -> Result<()> {
        let atomic = self.files.get(&h).map(|f| f.atomic).unwrap_or(false);
        if !atomic {
            return err(EINVAL);
        }
        let flags = cb.u32(0);
        if flags & !ATOMIC_FLAGS != 0 || cb.u64(40) != 0 {
            return err(EINVAL);
        }
        if flags & ATOMIC_TEST_ONLY != 0 && flags & PAGE_FLIP_EVENT != 0 {
            return err(EINVAL);
        }
        let nobjs = cb.u32(4) as usize;
        let objs = cb.u32_array(cb.u64(8), nobjs)?;
        let counts = cb.u32_array(cb.u64(16), nobjs)?;
        let total: usize = counts.iter().map(|&c| c as usize).sum();
        let pids = cb.u32_array(cb.u64(24), total)?;
        let vals = cb.u64_array(cb.u64(32), total)?;
        let mut new = self.cur.clone();
        let mut k = 0;
        // The CRTCs the commit names (itself, its plane, or a connector on it): only those are busy with a pending flip.
        let mut touched = 0u32;
        for (n, &oid) in objs.iter().enumerate() {
            let o = self.find_obj(oid).ok_or(Error::new(ENOENT))?;
            match o {
                Obj::Crtc(i) | Obj::Plane(i) => touched |= 1 << i,
                Obj::Connector(c) => {
                    if let Some(i) = self.cur.conn[c] {
                        touched |= 1 << i;
                    }
                }
                _ => {}
            }
            for _ in 0..counts[n] {
                let (pid, v) = (pids[k], vals[k]);
                k += 1;
                let p = self.props.iter().find(|(_, d)| d.id == pid).map(|(p, _)| *p).ok_or(Error::new(ENOENT))?;
                self.set_prop(&mut new, o, p, v, h)?;
            }
        }
        for c in 0..new.conn.len() {
            if let Some(i) = new.conn[c] {
                if new.conn[c] != self.cur.conn[c] {
                    touched |= 1 << i;
                }
            }
        }
        self.commit_with(new, flags, cb.u64(48), Some(h), None, touched)
    }

    /// Applies one property value to a proposed state (range and object checks).
    fn set_prop(&mut self, s: &mut State, o: Obj, p: P, v: u64, h: usize) -> Result<()> {
        let crtc_of = |d: &Drm<D>, v: u64| -> Result<Option<usize>> {
            if v == 0 { Ok(None) } else { d.crtc_ids.iter().position(|&c| c as u64 == v).map(Some).ok_or(Error::new(EINVAL)) }
        };
        match (o, p) {
            (Obj::Connector(i), P::ConnCrtcId) => s.conn[i] = crtc_of(self, v)?,
            (Obj::Connector(i), P::Dpms) => {
                if v > 3 {
                    return err(EINVAL);
                }
                s.dpms[i] = v;
            }
            (Obj::Crtc(i), P::Active) => {
                if v > 1 {
                    return err(EINVAL);
                }
                s.crtc[i].active = v == 1;
            }
            (Obj::Crtc(i), P::ModeId) => {
                if v == 0 {
                    s.crtc[i].mode = None;
                    s.crtc[i].mode_blob = 0;
                } else {
                    let b = self.blobs.get(&(v as u32)).filter(|_| v <= u32::MAX as u64).ok_or(Error::new(EINVAL))?;
                    if b.data.len() != MODEINFO_SIZE {
                        return err(EINVAL);
                    }
                    s.crtc[i].mode = Some(ModeInfo::decode(&b.data));
                    s.crtc[i].mode_blob = v as u32;
                }
            }
            (Obj::Plane(i), P::FbId) => {
                if v != 0 {
                    match self.fbs.get(&(v as u32)) {
                        Some(fb) if v <= u32::MAX as u64 && (fb.owner.is_none() || fb.owner == Some(h)) => {}
                        _ => return err(EINVAL),
                    }
                }
                s.plane[i].fb = v as u32;
            }
            (Obj::Plane(i), P::CrtcId) => s.plane[i].crtc = crtc_of(self, v)?,
            (Obj::Plane(i), P::SrcX | P::SrcY | P::SrcW | P::SrcH | P::CrtcW | P::CrtcH) => {
                let max = if matches!(p, P::CrtcW | P::CrtcH) { i32::MAX as u64 } else { u32::MAX as u64 };
                if v > max {
                    return err(EINVAL);
                }
                let pl = &mut s.plane[i];
                match p {
                    P::SrcX => pl.src_x = v as u32,
                    P::SrcY => pl.src_y = v as u32,
                    P::SrcW => pl.src_w = v as u32,
                    P::SrcH => pl.src_h = v as u32,
                    P::CrtcW => pl.crtc_w = v as u32,
                    _ => pl.crtc_h = v as u32,
                }
            }
            (Obj::Plane(i), P::CrtcX | P::CrtcY) => {
                let sv = v as i64;
                if sv < i32::MIN as i64 || sv > i32::MAX as i64 {
                    return err(EINVAL);
                }
                if p == P::CrtcX { s.plane[i].crtc_x = sv as i32 } else { s.plane[i].crtc_y = sv as i32 }
            }
            // Immutable (EDID, type) or not a property of this object.
            _ => return err(EINVAL),
        }
        Ok(())
    }

    /// Checks a proposed state whole, then (unless TEST_ONLY) applies it.
    fn commit(&mut self, new: State, flags: u32, user_data: u64, file: Option<usize>) -> Result<()> {
        self.commit_with(new, flags, user_data, file, None, !0)
    }

    /// `force_flip`: a PAGE_FLIP's CRTC flips even to the framebuffer it shows.
    /// `touched`: the CRTCs (bit i) the request names; a pending flip makes only those busy (Linux's EBUSY rule).
    fn commit_with(&mut self, new: State, flags: u32, user_data: u64, file: Option<usize>, force_flip: Option<usize>, touched: u32) -> Result<()> {
        let n = new.crtc.len();
        let mut modeset = alloc::vec![false; n];
        let mut flip = alloc::vec![false; n];
        for i in 0..n {
            let (a, b) = (&self.cur.crtc[i], &new.crtc[i]);
            let conns_old: Vec<usize> = (0..new.conn.len()).filter(|&c| self.cur.conn[c] == Some(i)).collect();
            let conns_new: Vec<usize> = (0..new.conn.len()).filter(|&c| new.conn[c] == Some(i)).collect();
            let mode_changed = match (a.mode, b.mode) {
                (Some(x), Some(y)) => !x.same_timings(&y),
                (None, None) => false,
                _ => true,
            };
            modeset[i] = a.active != b.active || (b.active && (mode_changed || conns_old != conns_new));
            if modeset[i] && flags & ATOMIC_ALLOW_MODESET == 0 {
                debug!("commit: CRTC {} needs a modeset without ALLOW_MODESET", self.crtc_ids[i]);
                return err(EINVAL);
            }
            let pl = &new.plane[i];
            if pl.crtc.map(|c| c != i).unwrap_or(false) {
                return err(EINVAL);
            }
            if (pl.fb != 0) != pl.crtc.is_some() {
                return err(EINVAL);
            }
            if b.active {
                let mode = b.mode.ok_or(Error::new(EINVAL))?;
                if !mode.valid() || conns_new.len() != 1 || pl.fb == 0 {
                    return err(EINVAL);
                }
                let c = &self.connectors[conns_new[0]];
                if self.connectors[conns_new[0]].desc.possible_crtcs & (1 << i) == 0 {
                    return err(EINVAL);
                }
                if modeset[i] {
                    if !c.connected || !c.modes.iter().any(|m| m.same_timings(&mode)) {
                        debug!("commit: {} does not list mode {}x{} (clock {}) or is disconnected", c.desc.name, mode.hdisplay, mode.vdisplay, mode.clock);
                        return err(EINVAL);
                    }
                    self.drv.check_mode(i, &mode)?;
                }
                let fb = self.fbs.get(&pl.fb).ok_or(Error::new(EINVAL))?;
                let (w, hgt) = (mode.hdisplay as u32, mode.vdisplay as u32);
                if pl.src_x & 0xffff != 0 || pl.src_y & 0xffff != 0 || pl.src_w != w << 16 || pl.src_h != hgt << 16
                    || pl.crtc_x != 0 || pl.crtc_y != 0 || pl.crtc_w != w || pl.crtc_h != hgt {
                    // The primary plane covers the whole CRTC, unscaled.
                    return err(EINVAL);
                }
                if (pl.src_x >> 16) as u64 + w as u64 > fb.width as u64 || (pl.src_y >> 16) as u64 + hgt as u64 > fb.height as u64 {
                    return err(EINVAL);
                }
                let p0 = &self.cur.plane[i];
                flip[i] = !modeset[i] && (force_flip == Some(i) || p0.fb != pl.fb || p0.src_x != pl.src_x || p0.src_y != pl.src_y);
                if (flip[i] || (flags & PAGE_FLIP_EVENT != 0 && !modeset[i] && touched & (1 << i) != 0)) && self.pending[i].is_some() {
                    return err(EBUSY);
                }
            } else if pl.fb != 0 {
                return err(EINVAL);
            }
            if flags & PAGE_FLIP_EVENT != 0 && !b.active && (modeset[i] || flip[i]) {
                return err(EINVAL);
            }
        }
        for c in 0..new.conn.len() {
            if let Some(i) = new.conn[c] {
                if self.connectors[c].desc.possible_crtcs & (1 << i) == 0 {
                    return err(EINVAL);
                }
            }
        }
        let touched: Vec<usize> = (0..n).filter(|&i| modeset[i] || flip[i]).collect();
        if flags & PAGE_FLIP_EVENT != 0 && touched.is_empty() {
            // An event asked for on a commit that changes no CRTC: Linux sends it on the CRTCs in the commit; here it needs a change.
            return err(EINVAL);
        }
        if flags & ATOMIC_TEST_ONLY != 0 {
            return Ok(());
        }

        // Apply: CRTCs going off or being re-set first, then those coming on, then flips.
        let old = core::mem::replace(&mut self.cur, new.clone());
        for i in 0..n {
            if modeset[i] && self.hw_on[i] {
                self.cancel_flip(i);
                self.hw_on[i] = false;
                if let Err(e) = self.drv.disable(i) {
                    error!("disabling CRTC {} failed: {}", self.crtc_ids[i], e);
                    // The hardware state is unknown: it is recorded off.
                    self.cur.crtc[i] = CrtcSt::default();
                    self.cur.plane[i] = PlaneSt::default();
                    self.update_vblank_irqs();
                    return Err(e);
                }
                self.fail_waiters(i);
            }
        }
        let mut result = Ok(());
        for i in 0..n {
            if modeset[i] && new.crtc[i].active {
                let conn = (0..new.conn.len()).find(|&c| new.conn[c] == Some(i)).unwrap();
                let fb = self.scanout(new.plane[i].fb, &new.plane[i]).unwrap();
                let m = Modeset { mode: new.crtc[i].mode.unwrap(), connector: conn, fb };
                match self.drv.enable(i, &m) {
                    Ok(()) => {
                        self.hw_on[i] = true;
                        info!("CRTC {}: {}x{}@{} on {}", self.crtc_ids[i], m.mode.hdisplay, m.mode.vdisplay, m.mode.vrefresh, self.connectors[conn].desc.name);
                    }
                    Err(e) => {
                        error!("modeset of CRTC {} failed: {}", self.crtc_ids[i], e);
                        let _ = self.drv.disable(i);
                        self.cur.crtc[i] = CrtcSt::default();
                        self.cur.plane[i] = PlaneSt::default();
                        for c in self.cur.conn.iter_mut() {
                            if *c == Some(i) {
                                *c = None;
                            }
                        }
                        result = Err(e);
                    }
                }
            } else if flip[i] {
                let fb = self.scanout(new.plane[i].fb, &new.plane[i]).unwrap();
                let async_ = flags & ASYNC_INTERNAL != 0;
                if let Err(e) = self.drv.flip(i, &fb, async_) {
                    error!("flip on CRTC {} failed: {}", self.crtc_ids[i], e);
                    self.cur.plane[i] = old.plane[i];
                    result = Err(e);
                    continue;
                }
                let event = if flags & PAGE_FLIP_EVENT != 0 { file.map(|f| (f, user_data)) } else { None };
                self.pending[i] = Some(PendingFlip { fb: new.plane[i].fb, scanout: fb, event });
                // A blocking commit (SETCRTC, atomic without NONBLOCK) returns once the flip is shown, as Linux's.
                if force_flip.is_none() && flags & ATOMIC_NONBLOCK == 0 {
                    if !self.drv.wait_flip(i, &fb) {
                        warn!("CRTC {}: flip not latched within 100 ms", self.crtc_ids[i]);
                    }
                    let ns = redox_driver::time::clock_ns();
                    self.complete_flip(i, ns);
                }
            }
        }
        // A modeset's event: the CRTC is running with the new framebuffer now.
        if flags & PAGE_FLIP_EVENT != 0 {
            if let Some(f) = file {
                for i in 0..n {
                    if modeset[i] && self.hw_on[i] {
                        let seq = self.drv.frame_counter(i);
                        let ns = redox_driver::time::clock_ns();
                        let ev = event_bytes(EVENT_FLIP_COMPLETE, user_data, ns, seq, self.crtc_ids[i]);
                        self.queue_event(f, ev);
                    }
                }
            }
        }
        self.update_vblank_irqs();
        result
    }

    fn cancel_flip(&mut self, i: usize) {
        self.pending[i] = None;
    }

    /// Vblank waits on a CRTC that went off end with EINVAL (their events are not sent).
    fn fail_waiters(&mut self, crtc: usize) {
        let mut k = 0;
        while k < self.waiters.len() {
            if self.waiters[k].crtc == crtc {
                let w = self.waiters.remove(k);
                if let WaitKind::Call(r, _) = w.kind {
                    r.reply(err(EINVAL));
                }
            } else {
                k += 1;
            }
        }
    }

    /// Vblank interrupts on while someone waits or a flip is pending (Linux's vblank reference count).
    fn update_vblank_irqs(&mut self) {
        for i in 0..self.vblank_on.len() {
            let want = self.hw_on[i] && (self.pending[i].is_some() || self.waiters.iter().any(|w| w.crtc == i));
            if want != self.vblank_on[i] {
                self.vblank_on[i] = want;
                self.drv.set_vblank_irq(i, want);
            }
        }
    }

    // ---- vblank waits

    fn wait_vblank(&mut self, h: usize, req: Request, mut cb: CallBuf) {
        let ty = cb.u32(0);
        let seq = cb.u32(4);
        let crtc = if ty & VBLANK_SECONDARY != 0 { 1 } else { ((ty & VBLANK_HIGH_CRTC_MASK) >> VBLANK_HIGH_CRTC_SHIFT) as usize };
        let known = 0x1 | VBLANK_HIGH_CRTC_MASK | VBLANK_EVENT | VBLANK_NEXTONMISS | VBLANK_SECONDARY;
        if ty & !known != 0 || crtc >= self.hw_on.len() || !self.hw_on[crtc] {
            return req.reply(err(EINVAL));
        }
        let now_count = self.drv.frame_counter(crtc);
        let mut target = if ty & VBLANK_RELATIVE != 0 { now_count.wrapping_add(seq) } else { seq };
        if ty & VBLANK_NEXTONMISS != 0 && reached(now_count, target) {
            target = now_count.wrapping_add(1);
        }
        if ty & VBLANK_EVENT != 0 {
            let signal = cb.u64(8);
            if reached(now_count, target) {
                let ns = redox_driver::time::clock_ns();
                let ev = event_bytes(EVENT_VBLANK, signal, ns, now_count, self.crtc_ids[crtc]);
                self.queue_event(h, ev);
            } else {
                self.waiters.push(Waiter { crtc, target, file: h, kind: WaitKind::Event(h, signal) });
                self.update_vblank_irqs();
            }
            cb.put_u32(0, ty & 1);
            cb.put_u32(4, target);
            cb.put_u64(8, 0);
            cb.put_u64(16, 0);
            req.copy_to_client(0, &cb.b);
            return req.reply(Ok(0));
        }
        if reached(now_count, target) {
            let (c, ns) = self.last_vblank[crtc];
            let ns = if c == now_count && ns != 0 { ns } else { redox_driver::time::clock_ns() };
            Self::vblank_reply(req, cb, ty, now_count, ns);
            return;
        }
        self.waiters.push(Waiter { crtc, target, file: h, kind: WaitKind::Call(req, cb) });
        self.update_vblank_irqs();
    }

    fn vblank_reply(req: Request, mut cb: CallBuf, ty: u32, seq: u32, ns: u64) {
        cb.put_u32(0, ty & 1);
        cb.put_u32(4, seq);
        cb.put_u64(8, ns / 1_000_000_000);
        cb.put_u64(16, (ns % 1_000_000_000) / 1000);
        req.copy_to_client(0, &cb.b);
        req.reply(Ok(0));
    }

    // ---- interrupts

    /// The interrupt thread's work: vblanks, flip completions, hot-plug.
    pub fn irq(&mut self) {
        let r = match self.drv.irq() {
            Some(r) => r,
            None => return,
        };
        let ns = redox_driver::time::clock_ns();
        for i in 0..self.hw_on.len() {
            let bit = 1u32 << i;
            if r.vblank & bit != 0 {
                let count = self.drv.frame_counter(i);
                self.last_vblank[i] = (count, ns);
                self.vblank(i, count, ns);
                if let Some(p) = &self.pending[i] {
                    if self.drv.flip_latched(i, &p.scanout) {
                        self.complete_flip(i, ns);
                    }
                }
            }
            if r.flip_done & bit != 0 {
                self.complete_flip(i, ns);
            }
        }
        for c in 0..self.connectors.len() {
            if r.hotplug & (1 << c) != 0 {
                let was = self.connectors[c].connected;
                self.probe(c);
                let now = self.connectors[c].connected;
                info!("{}: hot-plug ({} -> {})", self.connectors[c].desc.name, if was { "connected" } else { "disconnected" }, if now { "connected" } else { "disconnected" });
                let mut ev = alloc::vec![0u8; 16];
                ev[0..4].copy_from_slice(&SIMRUN_EVENT_HOTPLUG.to_le_bytes());
                ev[4..8].copy_from_slice(&16u32.to_le_bytes());
                ev[8..12].copy_from_slice(&self.connector_ids[c].to_le_bytes());
                ev[12..16].copy_from_slice(&(if now { CONNECTED } else { DISCONNECTED }).to_le_bytes());
                let files: Vec<usize> = self.files.keys().copied().collect();
                for f in files {
                    self.queue_event(f, ev.clone());
                }
            }
        }
        self.update_vblank_irqs();
    }

    fn vblank(&mut self, crtc: usize, count: u32, ns: u64) {
        let mut k = 0;
        while k < self.waiters.len() {
            let w = &self.waiters[k];
            if w.crtc == crtc && reached(count, w.target) {
                let w = self.waiters.remove(k);
                match w.kind {
                    WaitKind::Call(req, cb) => {
                        let ty = cb.u32(0);
                        Self::vblank_reply(req, cb, ty, count, ns);
                    }
                    WaitKind::Event(f, signal) => {
                        let ev = event_bytes(EVENT_VBLANK, signal, ns, count, self.crtc_ids[crtc]);
                        self.queue_event(f, ev);
                    }
                }
            } else {
                k += 1;
            }
        }
    }

    fn complete_flip(&mut self, crtc: usize, ns: u64) {
        let p = match self.pending[crtc].take() {
            Some(p) => p,
            None => return,
        };
        let seq = self.drv.frame_counter(crtc);
        if let Some((f, ud)) = p.event {
            let ev = event_bytes(EVENT_FLIP_COMPLETE, ud, ns, seq, self.crtc_ids[crtc]);
            self.queue_event(f, ev);
        }
    }

    /// A one-line summary for the start-up log.
    pub fn summary(&self) -> String {
        let conns: Vec<String> = self.connectors.iter().zip(&self.connector_ids)
            .map(|(c, id)| alloc::format!("{} {} ({})", c.desc.name, id, if c.connected { "connected" } else { "disconnected" })).collect();
        alloc::format!("{} CRTC(s) {:?}, connectors: {}", self.crtc_ids.len(), self.crtc_ids, conns.join(", "))
    }
}

/// Internal commit flag: a legacy PAGE_FLIP with ASYNC (not an atomic flag).
const ASYNC_INTERNAL: u32 = 0x1_0000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Obj {
    Crtc(usize),
    Plane(usize),
    Encoder(usize),
    Connector(usize),
    Fb,
}

fn mode_name(m: &ModeInfo) -> &str {
    let n = m.name.iter().position(|&c| c == 0).unwrap_or(32);
    core::str::from_utf8(&m.name[..n]).unwrap_or("?")
}
