// Checks of a new password made before the server is asked, so the form
// can say what to fix as the user types.

/** What is wrong with a new password before the server is asked, if
 * anything: its length (8 to 256, as the server wants), the repetition,
 * and that it differs from the current one. */
export function passwordProblem(current: string, next: string, again: string): string | null {
  if (next.length < 8) return 'The new password needs at least 8 characters.';
  if (next.length > 256) return 'The new password may have at most 256 characters.';
  if (next !== again) return 'The two new passwords differ: type the same one twice.';
  if (next === current) return 'The new password is the current one: choose another.';
  return null;
}
