import type { DeviceDecoder } from '../trace/decoder.js';
import { nvmeDecoder } from './nvme/index.js';
import { iwlwifiDecoder } from './iwlwifi/decode.js';

/** Register and payload decoders by device type, for inspect, replay reports and diff. */
export function deviceDecoders(): Map<string, DeviceDecoder> {
  return new Map<string, DeviceDecoder>([[nvmeDecoder.type, nvmeDecoder], [iwlwifiDecoder.type, iwlwifiDecoder]]);
}
