/** The trace decoders of every registered device type (from each factory's `decoder`). */
export { deviceDecoders } from './registry.js';
