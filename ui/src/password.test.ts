import { describe, expect, it } from 'vitest';
import { passwordProblem } from './password';

describe('passwordProblem', () => {
  it('accepts a new password of 8 to 256 characters typed twice', () => {
    expect(passwordProblem('old-secret', 'new-secret-1', 'new-secret-1')).toBeNull();
  });

  it('says what to fix', () => {
    expect(passwordProblem('old', 'short', 'short')).toMatch(/at least 8/);
    expect(passwordProblem('old', 'x'.repeat(257), 'x'.repeat(257))).toMatch(/at most 256/);
    expect(passwordProblem('old', 'new-secret-1', 'new-secret-2')).toMatch(/differ/);
    expect(passwordProblem('same-secret', 'same-secret', 'same-secret')).toMatch(/current one/);
  });
});
