/**
 * The rules every new password follows, wherever it is set (admin API, account page): at least 8
 * characters (NIST SP 800-63B section 5.1.1.2 asks for no composition rules, only a minimum length) and at
 * most 1024, so argon2 is never handed an unbounded input.
 */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

export type PasswordProblem = 'too_short' | 'too_long';

export function passwordProblem(password: string): PasswordProblem | undefined {
  // Counted in UTF-16 code units, as the admin API's zod schema counts.
  if (password.length < PASSWORD_MIN_LENGTH) return 'too_short';
  if (password.length > PASSWORD_MAX_LENGTH) return 'too_long';
  return undefined;
}
