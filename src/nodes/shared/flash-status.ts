// A node status with a base (listening, registering, an error) and short flashes over it (an event
// arrived, a delivery was refused) that fall back to the base after FLASH_MS. A burst of flashes
// costs neither a status update nor a timer each.
import type { Clock, ClockTimer } from '../../client';
import { Timers } from './clock';
import type { NodeStatus } from './types';

/** How long a flash stays before the status returns to the base. */
export const FLASH_MS = 3_000;

export class FlashStatus {
  private readonly timers: Timers;
  private base: NodeStatus = {};
  private flash?: ClockTimer;
  private flashed?: string;

  constructor(
    clock: Clock,
    private readonly show: (status: NodeStatus) => void,
  ) {
    this.timers = new Timers(clock);
  }

  /** The lasting status; shown now unless a flash is up (then when it ends). */
  setBase(status: NodeStatus): void {
    this.base = status;
    if (!this.flash) this.show(status);
  }

  /** Shown when it differs from the flash already up, back to the base FLASH_MS after the first. */
  flashStatus(status: NodeStatus): void {
    const key = JSON.stringify(status);
    if (key !== this.flashed) {
      this.flashed = key;
      this.show(status);
    }
    this.flash ??= this.timers.after(FLASH_MS, () => {
      this.flash = undefined;
      this.flashed = undefined;
      this.show(this.base);
    });
  }

  close(): void {
    this.timers.cancelAll();
    this.flash = undefined;
  }
}
