//! virtio-netd: a virtio-net driver daemon in the shape of Redox's
//! virtio-netd, on the redox-driver and virtio-core crates. It takes its PCI
//! function from pcid, finds the virtio structures, resets the device and
//! negotiates features (VERSION_1, MAC, STATUS, MTU, MRG_RXBUF, CSUM and
//! GUEST_CSUM when offered and not turned off, INDIRECT_DESC / EVENT_IDX
//! unless turned off; never GSO/TSO/UFO, the control queue or MQ), reads the
//! MAC, link status and MTU from the device configuration, sets up
//! receiveq0 and transmitq0 with MSI-X (configuration changes on vector 0,
//! each queue on a vector of its own) or INTx (the ISR tells queue from
//! configuration interrupts), each vector waited on in a thread of its own,
//! fills the receive ring, sets DRIVER_OK and serves `network.<ifname>`
//! (scheme.rs).
//!
//! Configuration change interrupts: the link going up or down is logged
//! (writes fail with ENETDOWN while it is down); DEVICE_NEEDS_RESET resets
//! and re-initialises the device with the same features (frames in flight
//! are lost, as on a NIC reset).
//!
//! With CSUM negotiated transmitted frames still carry complete checksums
//! (header flags 0); with GUEST_CSUM a received DATA_VALID flag is ignored
//! (the client checks what it needs).
//!
//! Parameters: ifname, irqMode (auto, msix, intx), queueSize, rxBuffers,
//! rxBufferBytes, mrgRxbuf, csum, indirectDesc, eventIdx.
#![no_std]

extern crate alloc;

mod net;
mod scheme;

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;

use redox_driver::error::{EINVAL, ENODEV};
use redox_driver::{error, info, thread, warn, Error, Irq, Mutex, PciFunctionHandle, Result, Socket};
use virtio_core::spec::{self, F_EVENT_IDX, F_INDIRECT_DESC, F_VERSION_1, MSI_NO_VECTOR};
use virtio_core::{setup_interrupts, InterruptMethod, Interrupts, Transport, VirtQueue};

use net::{ETH_ALEN, ETH_HLEN, HDR_LEN};
use scheme::{Config, NetIf};

redox_driver::driver_main!(main);

/// How long a reset may take to read back 0.
const RESET_TIMEOUT: Duration = Duration::from_millis(100);
/// Index of each queue in the driver's queue list.
const RXQ: usize = 0;
const TXQ: usize = 1;

/// The driver's state: the interrupt threads and the scheme loop take turns on it.
struct Driver {
    t: Transport,
    /// receiveq0, transmitq0.
    vqs: Vec<VirtQueue>,
    nif: NetIf,
    /// Features negotiated (the same set is negotiated again after a reset).
    features: u64,
    config_vector: u16,
    msix: bool,
    /// The device could not be set up again after a reset.
    dead: bool,
}

struct Params {
    ifname: String,
    irq_mode: i32,
    queue_size: u16,
    rx_buffers: u16,
    rx_buffer_bytes: usize,
    mrg_rxbuf: bool,
    csum: bool,
    indirect: bool,
    event_idx: bool,
}

fn main() -> Result<()> {
    let p = Params {
        ifname: redox_driver::param_str("ifname", "eth0"),
        irq_mode: redox_driver::param_int("irqMode", virtio_core::IRQ_AUTO),
        queue_size: redox_driver::param_int("queueSize", 256).clamp(2, 32768) as u16,
        rx_buffers: redox_driver::param_int("rxBuffers", 256).clamp(1, 32768) as u16,
        rx_buffer_bytes: redox_driver::param_int("rxBufferBytes", 0).clamp(0, 65536) as usize,
        mrg_rxbuf: redox_driver::param_int("mrgRxbuf", 1) != 0,
        csum: redox_driver::param_int("csum", 1) != 0,
        indirect: redox_driver::param_int("indirectDesc", 1) != 0,
        event_idx: redox_driver::param_int("eventIdx", 1) != 0,
    };
    let mut pcid = PciFunctionHandle::connect_default();
    let func = pcid.config().clone();
    info!("virtio-netd {}: virtio network device {:04x}:{:04x}", func.name(), func.vendor, func.device);
    if func.vendor != spec::PCI_VENDOR || func.device != spec::PCI_DEVICE_MODERN_BASE + net::VIRTIO_ID_NET {
        error!("not a modern virtio network device");
        return Err(Error::new(ENODEV));
    }
    let name_ok = !p.ifname.is_empty() && p.ifname.len() <= 15 && p.ifname.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !name_ok {
        error!("ifname \"{}\": 1-15 letters, digits, '_' or '-'", p.ifname);
        return Err(Error::new(EINVAL));
    }
    pcid.enable_device()?;
    let t = Transport::probe(&mut pcid)?;
    t.begin_init(RESET_TIMEOUT)?;
    match start(&mut pcid, t, &p) {
        Ok(()) => Ok(()),
        Err((t, e)) => {
            if let Some(t) = t {
                t.fail();
            }
            Err(e)
        }
    }
}

fn wanted_features(p: &Params) -> u64 {
    let mut wanted = F_VERSION_1 | net::F_MAC | net::F_STATUS | net::F_MTU;
    if p.mrg_rxbuf {
        wanted |= net::F_MRG_RXBUF;
    }
    if p.csum {
        wanted |= net::F_CSUM | net::F_GUEST_CSUM;
    }
    if p.indirect {
        wanted |= F_INDIRECT_DESC;
    }
    if p.event_idx {
        wanted |= F_EVENT_IDX;
    }
    wanted
}

/// What the device configuration says (5.1.4): MAC, status, MTU.
struct DevConfig {
    mac: [u8; ETH_ALEN],
    status: u16,
    mtu: u16,
}

fn read_config(t: &Transport, features: u64) -> Result<DevConfig> {
    let c = t.read_config(|c| {
        let mut mac = [0u8; ETH_ALEN];
        if features & net::F_MAC != 0 {
            for (i, b) in mac.iter_mut().enumerate() {
                *b = c.read8(net::CFG_MAC + i);
            }
        }
        DevConfig {
            mac,
            status: if features & net::F_STATUS != 0 { c.read16(net::CFG_STATUS) } else { net::S_LINK_UP },
            mtu: if features & net::F_MTU != 0 { c.read16(net::CFG_MTU) } else { net::DEFAULT_MTU },
        }
    })?;
    Ok(c)
}

fn mac_text(mac: &[u8; ETH_ALEN]) -> String {
    let parts: Vec<String> = mac.iter().map(|b| format!("{:02x}", b)).collect();
    parts.join(":")
}

/// Everything after ACKNOWLEDGE | DRIVER; on an error the transport comes back (to set FAILED) if it is still ours.
fn start(pcid: &mut PciFunctionHandle, t: Transport, p: &Params) -> core::result::Result<(), (Option<Transport>, Error)> {
    // negotiate sets FAILED itself when the device refuses.
    let features = t.negotiate(wanted_features(p), 0).map_err(|e| (None, e))?;
    info!("features {:#x}: {}", features, feature_names(features));

    let dc = match read_config(&t, features) {
        Ok(c) => c,
        Err(e) => return Err((Some(t), e)),
    };
    let mut mac = dc.mac;
    if features & net::F_MAC == 0 || mac[0] & 1 != 0 || mac.iter().all(|&b| b == 0) {
        // No (usable) address from the device: a locally administered one, fixed so runs stay deterministic.
        warn!("no usable MAC address in the device configuration ({}); using 02:00:00:00:00:01", mac_text(&mac));
        mac = [0x02, 0, 0, 0, 0, 1];
    }
    let mut mtu = dc.mtu;
    if mtu < net::MIN_MTU {
        warn!("device reports MTU {} (below {}); using {}", mtu, net::MIN_MTU, net::DEFAULT_MTU);
        mtu = net::DEFAULT_MTU;
    }
    let mergeable = features & net::F_MRG_RXBUF != 0;
    // A buffer holds header + the largest frame (a VLAN tag included) unless frames may span buffers.
    let whole = HDR_LEN + ETH_HLEN + net::VLAN_HLEN + mtu as usize;
    let rx_bytes = match p.rx_buffer_bytes {
        0 => whole,
        n if mergeable => n.clamp(64, whole),
        n => {
            if n < whole {
                warn!("rxBufferBytes {} cannot hold a {}-byte frame without MRG_RXBUF; using {}", n, whole - HDR_LEN, whole);
            }
            n.max(whole)
        }
    };
    info!("mac {}, mtu {}, link {}", mac_text(&mac), mtu, if dc.status & net::S_LINK_UP != 0 { "up" } else { "down" });

    let mut irqs = match setup_interrupts(pcid, p.irq_mode, 2) {
        Ok(i) => i,
        Err(e) => return Err((Some(t), e)),
    };
    let set_up = (|| -> Result<(Vec<VirtQueue>, NetIf)> {
        let mut vqs = Vec::new();
        // Every chain is one descriptor: no indirect tables are needed.
        vqs.push(VirtQueue::new(&t, net::RX_QUEUE, p.queue_size, features, 0)?);
        vqs.push(VirtQueue::new(&t, net::TX_QUEUE, p.queue_size, features, 0)?);
        irqs.map_vectors(&t, &mut vqs)?;
        let cfg = Config { mac, mtu, mergeable, rx_buffers: p.rx_buffers, rx_buffer_bytes: rx_bytes };
        let mut nif = NetIf::new(cfg, &vqs[RXQ], &vqs[TXQ])?;
        nif.link_up = dc.status & net::S_LINK_UP != 0;
        for vq in vqs.iter_mut() {
            vq.enable_interrupts();
            vq.enable(&t);
        }
        Ok((vqs, nif))
    })();
    let (mut vqs, mut nif) = match set_up {
        Ok(v) => v,
        Err(e) => return Err((Some(t), e)),
    };
    t.driver_ok();
    // Receive buffers go in after DRIVER_OK: no notification before it (3.1.1).
    nif.fill_rx(&t, &mut vqs[RXQ]);
    info!("interrupts: {}, {} vector(s)", irqs.method.name(), irqs.irqs.len());
    info!("receiveq {} entries ({} buffers of {} bytes{}), transmitq {} entries{}",
        vqs[RXQ].size(), nif.cfg.rx_buffers, rx_bytes, if mergeable { ", mergeable" } else { "" }, vqs[TXQ].size(),
        if vqs[RXQ].event_idx() { ", event index" } else { "" });

    let msix = irqs.method == InterruptMethod::MsiX;
    let shared = Arc::new(Mutex::new(Driver { t, vqs, nif, features, config_vector: irqs.config_vector, msix, dead: false }));
    spawn_irq_threads(&shared, &mut irqs).map_err(|e| (None, e))?;
    serve(&shared, &p.ifname).map_err(|e| (None, e))
}

fn feature_names(f: u64) -> String {
    let mut out: Vec<&str> = Vec::new();
    for bit in 0..64u32 {
        let m = 1u64 << bit;
        if f & m == 0 {
            continue;
        }
        if let Some(n) = spec::transport_feature_name(bit).or_else(|| net::FEATURE_NAMES.iter().find(|(b, _)| *b == m).map(|(_, n)| *n)) {
            out.push(n);
        }
    }
    out.join(" ")
}

fn spawn_irq_threads(shared: &Arc<Mutex<Driver>>, irqs: &mut Interrupts) -> Result<()> {
    let intx = irqs.method == InterruptMethod::Intx;
    for (v, irq) in core::mem::take(&mut irqs.irqs).into_iter().enumerate() {
        let queues = irqs.queues_of(v);
        let config = irqs.serves_config(v);
        let s = shared.clone();
        thread::spawn(&format!("virtio-net-irq{}", v), move || irq_thread(&s, irq, v, queues, config, intx))?;
    }
    Ok(())
}

/// Waits on one vector: reaps the queues it serves and handles configuration changes (MSI-X), or reads the ISR to learn which (INTx).
fn irq_thread(s: &Mutex<Driver>, irq: Irq, vector: usize, queues: Vec<usize>, config: bool, intx: bool) {
    loop {
        if let Err(e) = irq.wait() {
            error!("irq thread {}: wait failed: {}", vector, e);
            return;
        }
        {
            let mut g = s.lock();
            let (do_queues, do_config) = if intx {
                let isr = g.t.read_isr();
                (isr.queue(), isr.config())
            } else {
                (!queues.is_empty(), config)
            };
            if do_config {
                config_changed(&mut g);
            }
            if do_queues && !g.dead {
                let Driver { t, vqs, nif, .. } = &mut *g;
                for &q in &queues {
                    match q {
                        RXQ => nif.reap_rx(t, &mut vqs[RXQ]),
                        _ => nif.reap_tx(t, &mut vqs[TXQ]),
                    }
                }
            }
        }
        // A legacy line stays masked until acknowledged; reading the ISR above deasserted it.
        let _ = irq.ack();
    }
}

/// A configuration change interrupt: DEVICE_NEEDS_RESET, or the link status.
fn config_changed(g: &mut Driver) {
    if g.dead {
        return;
    }
    let status = g.t.status();
    if status & spec::STATUS_DEVICE_NEEDS_RESET != 0 {
        return recover(g, status);
    }
    if g.features & net::F_STATUS != 0 {
        match g.t.read_config(|c| c.read16(net::CFG_STATUS)) {
            Ok(s) => g.nif.set_link(s & net::S_LINK_UP != 0),
            Err(e) => error!("cannot read the link status: {}", e),
        }
    }
}

/// DEVICE_NEEDS_RESET (2.1.2): the device processes nothing until reset.
/// Frames in the rings are lost; the device is reset and set up again with
/// the same features, queues and vectors, and the receive ring refilled (or,
/// if that fails, the interface stays without a device: writes fail with
/// ENETDOWN).
fn recover(g: &mut Driver, status: u8) {
    error!("device needs reset (device_status {}); resetting the device", spec::status_names(status));
    let r = (|| -> Result<()> {
        g.t.begin_init(RESET_TIMEOUT)?;
        let f = g.t.negotiate(g.features, g.features)?;
        if f != g.features {
            error!("features after reset {:#x} differ from {:#x}", f, g.features);
            return Err(Error::new(ENODEV));
        }
        if g.msix && g.config_vector != MSI_NO_VECTOR {
            g.t.set_config_vector(g.config_vector)?;
        }
        for vq in g.vqs.iter_mut() {
            vq.reinit(&g.t)?;
            vq.enable_interrupts();
            vq.enable(&g.t);
        }
        g.nif.reset_rings();
        g.t.driver_ok();
        {
            let Driver { t, vqs, nif, .. } = &mut *g;
            nif.fill_rx(t, &mut vqs[RXQ]);
        }
        let link = if g.features & net::F_STATUS != 0 { g.t.read_config(|c| c.read16(net::CFG_STATUS))? & net::S_LINK_UP != 0 } else { true };
        g.nif.set_link(link);
        Ok(())
    })();
    match r {
        Ok(()) => info!("device re-initialised after reset"),
        Err(e) => {
            error!("device re-initialisation failed ({}): the interface stays down", e);
            g.t.fail();
            g.dead = true;
            g.nif.set_link(false);
        }
    }
}

fn serve(shared: &Mutex<Driver>, ifname: &str) -> Result<()> {
    let name = format!("network.{}", ifname);
    let mut socket = Socket::create(&name)?;
    {
        let g = shared.lock();
        info!("{}: serving {}: (mac {}, mtu {})", ifname, name, mac_text(&g.nif.cfg.mac), g.nif.cfg.mtu);
    }
    socket.serve(|req| {
        let mut g = shared.lock();
        let Driver { t, vqs, nif, .. } = &mut *g;
        nif.handle(t, &mut vqs[TXQ], req);
    })
}
