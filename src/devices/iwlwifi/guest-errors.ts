/**
 * The guest errors the iwlwifi model records: code -> meaning and where the
 * rule is written. `iwl.*` codes come from the PCIe transport (./transport),
 * `fw.*` codes from the firmware CPU (./fw). Register rules cite Linux's
 * iwlwifi headers (iwl-csr.h, iwl-fh.h, iwl-prph.h, iwl-scd.h, fw/api/*.h);
 * "simrun firmware model" marks a rule of the model's own (the real firmware
 * would assert or misbehave silently). The PCI function's own codes (config
 * space, BARs, MSI, DMA) are in ../pci/guest-errors.ts.
 */
import type { GuestErrorCatalogue } from '../device.js';

export const IWLWIFI_GUEST_ERRORS = {
  // ---- Transport: BAR0 (CSR, HBUS, FH)
  'iwl.mmio.width': {
    meaning: 'A BAR0 access that is not an aligned dword (other than the byte registers INT_COALESCING 0x004 / INT_PERIODIC 0x005); served on the containing dword',
    spec: 'iwl-csr.h (registers are 32-bit, iwl_read32/iwl_write32), CSR_INT_COALESCING / CSR_INT_PERIODIC_REG',
  },
  'iwl.reg.unknown': {
    meaning: 'A BAR0 read or write at an offset that is no CSR, HBUS or FH register of the 7265D; the offset behaves as plain storage',
    spec: 'iwl-csr.h (CSR_*, HBUS_*), iwl-fh.h (FH_*)',
  },
  'iwl.csr.read-only': {
    meaning: 'A write to a read-only register (CSR_HW_REV, FH_MEM_RSSR_RX_STATUS_REG, FH_TSSR_TX_STATUS_REG); ignored',
    spec: 'iwl-csr.h CSR_HW_REV, iwl-fh.h FH_MEM_RSSR_RX_STATUS_REG, FH_TSSR_TX_STATUS_REG',
  },
  'iwl.cpu.release-empty': {
    meaning: 'CSR_RESET written 0 (release the embedded CPU) with no firmware chunk loaded since the last reset; the CPU stays held',
    spec: 'iwl-csr.h CSR_RESET; simrun firmware model',
  },
  'iwl.txq.wrptr': {
    meaning: 'HBUS_TARG_WRPTR written with a queue number beyond the TX queues (or an index beyond 255); ignored',
    spec: 'iwl-csr.h HBUS_TARG_WRPTR',
  },
  // ---- Transport: indirect PRPH / SRAM access (HBUS_TARG_*)
  'iwl.prph.addr': {
    meaning: 'HBUS_TARG_PRPH_RADDR/WADDR used without the dword-access bits (3 << 24)',
    spec: 'iwl-csr.h HBUS_TARG_PRPH_RADDR / HBUS_TARG_PRPH_WADDR (iwl_read_prph_no_grab: reg | (3 << 24))',
  },
  'iwl.prph.no-access': {
    meaning: 'A PRPH access while the MAC clock is off (no MAC_ACCESS_REQ or INIT_DONE granted, or the MAC asleep): reads return 0xA5A5A5A2 (the 0xA5A5A5Ax pattern), writes are dropped',
    spec: 'iwl-csr.h CSR_GP_CNTRL_REG_FLAG_MAC_ACCESS_REQ / MAC_CLOCK_READY',
  },
  'iwl.prph.read-only': {
    meaning: 'A write to the read-only scheduler register SCD_SRAM_BASE_ADDR; ignored',
    spec: 'iwl-scd.h SCD_SRAM_BASE_ADDR',
  },
  'iwl.sram.no-access': {
    meaning: 'A device SRAM access through HBUS_TARG_MEM_* while the MAC clock is off: reads return 0xA5A5A5A2, writes are dropped',
    spec: 'iwl-csr.h HBUS_TARG_MEM_RADDR / WADDR / RDAT / WDAT, CSR_GP_CNTRL_REG_FLAG_MAC_ACCESS_REQ',
  },
  'iwl.sram.unbacked': {
    meaning: 'A device SRAM access through HBUS_TARG_MEM_* at an address with no SRAM: reads return 0, writes are dropped',
    spec: 'iwl-csr.h HBUS_TARG_MEM_*; 7000-family SRAM map (simrun firmware model)',
  },
  // ---- Transport: scheduler (SCD, PRPH space)
  'iwl.scd.queue': {
    meaning: 'A per-queue SCD register written for a queue the scheduler does not have (31 queues)',
    spec: 'iwl-scd.h SCD_QUEUE_WRPTR / SCD_QUEUE_RDPTR / SCD_QUEUE_STATUS_BITS',
  },
  'iwl.scd.ptr': {
    meaning: 'An SCD queue read/write pointer set above 255; only the low 8 bits are used',
    spec: 'iwl-scd.h SCD_QUEUE_WRPTR / SCD_QUEUE_RDPTR (TFD_QUEUE_SIZE_MAX 256)',
  },
  // ---- Transport: firmware load over the FH service channel (9)
  'iwl.fh.srvc.busy': {
    meaning: 'The service channel was kicked (TX_CONFIG(9) with DMA enable) while a chunk is still in flight; ignored',
    spec: 'iwl-fh.h FH_TCSR_CHNL_TX_CONFIG_REG(FH_SRVC_CHNL)',
  },
  'iwl.fh.srvc.buf-sts': {
    meaning: 'The service channel was kicked with end-of-TFD interrupt requested but TX_BUF_STS(9) marks no valid TB; nothing transferred',
    spec: 'iwl-fh.h FH_TCSR_CHNL_TX_BUF_STS_REG, FH_TCSR_CHNL_TX_BUF_STS_REG_VAL_TFDB_VALID',
  },
  'iwl.fh.srvc.len': {
    meaning: 'A service-channel chunk of 0 bytes or more than FH_MEM_TB_MAX_LENGTH (0x20000); nothing transferred',
    spec: 'iwl-fh.h FH_TFDIB_CTRL1_REG, FH_MEM_TB_MAX_LENGTH',
  },
  'iwl.fh.srvc.ext-addr': {
    meaning: 'A chunk for the extended SRAM range 0x40000-0x57FFF loaded without LMPM_CHICK bit 0 set; the data is lost',
    spec: 'iwl-prph.h LMPM_CHICK, LMPM_CHICK_EXTENDED_ADDR_SPACE, IWL_FW_MEM_EXTENDED_START/END',
  },
  'iwl.fh.srvc.dest': {
    meaning: 'A chunk whose SRAM destination (FH_SRVC_CHNL_SRAM_ADDR_REG) is outside device SRAM; the data is lost',
    spec: 'iwl-fh.h FH_SRVC_CHNL_SRAM_ADDR_REG',
  },
  // ---- Transport: TX queues (TFDs)
  'iwl.tfd.num-tbs': {
    meaning: 'A TFD with 0 TBs or more than IWL_NUM_OF_TBS (20); the TFD is skipped',
    spec: 'pcie/internal.h struct iwl_tfd (num_tbs), IWL_NUM_OF_TBS',
  },
  'iwl.tfd.tb-len': {
    meaning: 'A TFD whose TB has length 0; the TFD is skipped',
    spec: 'pcie/internal.h struct iwl_tfd_tb (hi_n_len)',
  },
  'iwl.tfd.tb-addr': {
    meaning: 'A TB whose buffer crosses the 36-bit DMA address limit; the TFD is skipped',
    spec: 'pcie/internal.h struct iwl_tfd_tb (lo, hi_n_len bits 3:0: 36-bit address)',
  },
  // ---- Firmware CPU: lifecycle
  'fw.release': {
    meaning: 'The embedded CPU was released while already booting, running or dead; ignored (halt it first)',
    spec: 'simrun firmware model',
  },
  'fw.bad-image': {
    meaning: 'The loaded firmware image failed its check (section missing, corrupt or misplaced); the CPU reports SW_ERR and stops',
    spec: 'simrun firmware model (CSR_INT_BIT_SW_ERR, iwl-csr.h)',
  },
  'fw.hw-error': {
    meaning: 'The firmware stopped with a hardware error (injected fault); the CPU raises HW_ERR and answers no more commands',
    spec: 'iwl-csr.h CSR_INT_BIT_HW_ERR; simrun firmware model',
  },
  // ---- Firmware CPU: host commands
  'fw.cmd-not-running': {
    meaning: 'A host command while the firmware is held in reset, booting (no ALIVE yet) or dead; ignored',
    spec: 'simrun firmware model',
  },
  'fw.cmd-short': {
    meaning: 'A host command too short for its header, or whose payload is shorter than the command\'s layout; STATUS_BAD_PARAM (or ignored without a header)',
    spec: 'fw/api/cmdhdr.h struct iwl_cmd_header / iwl_cmd_header_wide; the command\'s fw/api struct',
  },
  'fw.cmd-length': {
    meaning: 'A wide command header whose length field exceeds the bytes the TFD holds; STATUS_BAD_PARAM',
    spec: 'fw/api/cmdhdr.h struct iwl_cmd_header_wide (length)',
  },
  'fw.seq-mismatch': {
    meaning: 'A host command whose header sequence does not name the queue and index it was sent on',
    spec: 'fw/api/cmdhdr.h SEQ_TO_QUEUE / SEQ_TO_INDEX, QUEUE_TO_SEQ / INDEX_TO_SEQ',
  },
  'fw.reply-error': {
    meaning: 'A command the image does not serve (unknown, other image\'s, or sent in the wrong group); answered only with a REPLY_ERROR notification (FW_ERR_UNKNOWN_CMD, the command id and sequence), never with a response',
    spec: 'fw/api/commands.h (debug.h) struct iwl_error_resp (REPLY_ERROR 0x2, 20 bytes), FW_ERR_UNKNOWN_CMD',
  },
  'fw.tx-ant': {
    meaning: 'TX_ANT_CONFIGURATION_CMD with no valid TX antenna; STATUS_BAD_PARAM',
    spec: 'fw/api/phy.h struct iwl_tx_ant_cfg_cmd (valid)',
  },
  'fw.nvm-access': {
    meaning: 'NVM_ACCESS_CMD other than a read of the NVM (op 0, target 0), or a read longer than the chunk size (truncated)',
    spec: 'fw/api/nvm-reg.h struct iwl_nvm_access_cmd, NVM_READ_OPCODE',
  },
  'fw.phy-db-missing': {
    meaning: 'PHY_CONFIGURATION_CMD to the runtime image before any PHY_DB section was sent; STATUS_BAD_PARAM',
    spec: 'fw/api/phy.h PHY_DB_CMD, fw/phy-db (iwl_send_phy_db_data before phy config); simrun firmware model',
  },
  'fw.phy-cfg-again': {
    meaning: 'A second PHY_CONFIGURATION_CMD to the INIT image after calibration already ran; STATUS_BAD_PARAM',
    spec: 'simrun firmware model',
  },
  'fw.phy-db-type': {
    meaning: 'PHY_DB_CMD with an unknown section type; STATUS_BAD_PARAM',
    spec: 'fw/api/phy.h enum iwl_phy_db_section_type',
  },
  'fw.scan-no-cfg': {
    meaning: 'SCAN_REQ_UMAC before any SCAN_CFG_CMD; STATUS_BAD_PARAM',
    spec: 'fw/api/scan.h SCAN_CFG_CMD, struct iwl_scan_req_umac; simrun firmware model',
  },
  'fw.scan-channel': {
    meaning: 'SCAN_REQ_UMAC names a channel the NVM marks invalid; STATUS_BAD_PARAM',
    spec: 'fw/api/scan.h struct iwl_scan_channel_cfg_umac; fw/api/nvm-reg.h NVM_CHANNEL_VALID',
  },
  'fw.scan-busy': {
    meaning: 'SCAN_REQ_UMAC while a scan is still running; STATUS_BAD_PARAM',
    spec: 'simrun firmware model',
  },
  'fw.ctxt': {
    meaning: 'PHY/MAC/BINDING_CONTEXT_CMD: ADD of an existing id, MODIFY/REMOVE of a missing id or with another color, an unknown action, removal of a context still bound, a channel not in the band, a binding naming missing contexts, or a v2 binding whose lmac_id is not the PHY context\'s LMAC; STATUS_BAD_PARAM',
    spec: 'fw/api/context.h FW_CTXT_ACTION_*, FW_CMD_ID_AND_COLOR; fw/api/binding.h; fw/api/phy-ctxt.h',
  },
  'fw.add-sta': {
    meaning: 'ADD_STA with a station id beyond the table, a modify of an unknown station, a MAC context that does not exist, or (v10) a station_type outside enum iwl_sta_type; or a v10 station for the associated BSS whose type is not LINK (accepted)',
    spec: 'fw/api/sta.h struct iwl_mvm_add_sta_cmd, ADD_STA_STATIONS_OVERLOAD / ADD_STA_MODIFY_NON_EXIST',
  },
  'fw.remove-sta': {
    meaning: 'REMOVE_STA of a station that does not exist; STATUS_BAD_PARAM',
    spec: 'fw/api/sta.h struct iwl_mvm_rm_sta_cmd',
  },
  'fw.tx-len': {
    meaning: 'TX_CMD whose len is larger than the frame bytes the command holds, or too short for an 802.11 header; STATUS_BAD_PARAM',
    spec: 'fw/api/tx.h struct iwl_tx_cmd (len)',
  },
  'fw.tx-no-binding': {
    meaning: 'TX_CMD for an unknown station or one whose MAC context is not bound to a PHY context; TX response with status TX_STATUS_FAIL_STA_INVALID (nothing sent)',
    spec: 'fw/api/tx.h TX_STATUS_FAIL_STA_INVALID (0x8b, struct iwl_mvm_tx_resp_v3)',
  },
  'fw.bt-config': {
    meaning: 'BT_CONFIG with a mode other than BT_COEX_DISABLE/NW/BT/WIFI (0-3); STATUS_BAD_PARAM',
    spec: 'fw/api/coex.h enum iwl_bt_coex_mode, struct iwl_bt_coex_cmd; simrun firmware model',
  },
  'fw.scan-template': {
    meaning: 'SCAN_REQ_UMAC whose probe request template has no 802.11 header plus empty SSID element in its mac_header segment, or a segment outside the 512-byte buffer; STATUS_BAD_PARAM',
    spec: 'fw/api/scan.h struct iwl_scan_probe_req_v1, mvm/scan.c iwl_mvm_build_scan_probe; simrun firmware model',
  },
  'fw.power': {
    meaning: 'POWER_TABLE with unknown flag bits, or MAC_PM_POWER_TABLE for a MAC context that does not exist; STATUS_BAD_PARAM',
    spec: 'fw/api/power.h struct iwl_device_power_cmd, struct iwl_mac_power_cmd; simrun firmware model',
  },
  'fw.lq': {
    meaning: 'LQ for a station that does not exist, or with a zero first rate; STATUS_BAD_PARAM',
    spec: 'fw/api/rs.h struct iwl_lq_cmd; simrun firmware model',
  },
  'fw.sf': {
    meaning: 'SF_CFG with a smart-FIFO state other than 0-3; STATUS_BAD_PARAM',
    spec: 'fw/api/mac.h (sf.h) struct iwl_sf_cfg_cmd, enum iwl_sf_state; simrun firmware model',
  },
  'fw.time-event': {
    meaning: 'TIME_EVENT for a MAC context that does not exist, REMOVE of an event that is not running, or an action other than ADD/REMOVE; STATUS_BAD_PARAM',
    spec: 'fw/api/time-event.h struct iwl_time_event_cmd; simrun firmware model',
  },
} as const satisfies GuestErrorCatalogue;

/** A guest-error code the iwlwifi model may record. */
export type IwlwifiGuestErrorCode = keyof typeof IWLWIFI_GUEST_ERRORS;
