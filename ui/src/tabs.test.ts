import { describe, expect, it } from 'vitest';
import { nextTab } from './tabs';

describe('nextTab', () => {
  it('moves with the arrows, wrapping at both ends', () => {
    expect(nextTab(0, 4, 'ArrowRight')).toBe(1);
    expect(nextTab(3, 4, 'ArrowRight')).toBe(0);
    expect(nextTab(0, 4, 'ArrowLeft')).toBe(3);
  });

  it('jumps with Home and End and leaves other keys alone', () => {
    expect(nextTab(2, 4, 'Home')).toBe(0);
    expect(nextTab(1, 4, 'End')).toBe(3);
    expect(nextTab(1, 4, 'Enter')).toBeNull();
    expect(nextTab(0, 0, 'ArrowRight')).toBeNull();
  });
});
