/** Feature values set with Set Features (NVMe 1.4 5.21.1); a controller reset restores the defaults. */

export interface Features {
  arbitration: number;
  powerManagement: number;
  tempOver: number;
  tempUnder: number;
  errorRecovery: number;
  volatileWriteCache: number;
  interruptCoalescing: number;
  writeAtomicity: number;
  asyncEventConfig: number;
}

export function defaultFeatures(): Features {
  return {
    arbitration: 3, // AB = 3: bursts of 8 commands per SQ
    powerManagement: 0,
    tempOver: 0x157, // WCTEMP
    tempUnder: 0,
    errorRecovery: 0,
    volatileWriteCache: 1,
    interruptCoalescing: 0,
    writeAtomicity: 0,
    asyncEventConfig: 0,
  };
}

